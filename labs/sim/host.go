package sim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// Host is one simulated Windows host. It implements Commander.
type Host struct {
	lab  *Lab
	log  *slog.Logger
	cfg  HostConfig
	name string
	ip   netip.Addr

	logs        map[string]*eventLog
	procs       map[uint32]*Process // running processes
	files       map[string]*File
	dirs        map[string]bool
	reg         map[string]*regKey
	scm         map[string]*Service
	logons      map[string]*Logon // WinRM shells by shell ID
	shellHosts  map[string]*Process
	connections []Connection
	guidPrefix  string
	guidSeq     uint32
	nextLogon   uint64
	runCtx      context.Context
	onSpawn     func(*Process) // observes spawns, for PsExec's child
	bootTime    time.Time
	bootSeq     uint16               // boot counter, the high bits of process start keys
	platformSeq int                  // Defender platform updates so far
	diskUsed    int64                // bytes in files written since boot
	bootClock   time.Duration        // boot processes started so far after boot
	logonTimes  map[uint64]time.Time // logon ID -> logon time, for LogonGuid

	systemProc, servicesProc, lsassProc, sysmonProc, winrmProc *Process
}

var _ Commander = (*Host)(nil)

// Logon is one logon session on a host.
type Logon struct {
	ID          uint64
	User        string // DOMAIN\user
	SID         string
	Type        int
	IP          string
	Port        uint16
	Workstation string
}

// Log attribute keys.
const (
	keyHost  = "host"
	keyUser  = "user"
	keyBytes = "bytes"
	keyExit  = "exit_code"
	keyHosts = "hosts"
)

func newHost(l *Lab, hc HostConfig, index int) (*Host, error) {
	if hc.Name == "" || strings.ContainsAny(hc.Name, `\/. `) {
		return nil, fmt.Errorf("build host %d: bad name %q: %w", index, hc.Name, ErrConfig)
	}
	if hc.IP == "" {
		hc.IP = fmt.Sprintf("10.10.0.%d", 11+index)
	}
	ip, err := netip.ParseAddr(hc.IP)
	if err != nil {
		return nil, fmt.Errorf("build host %q: parse IP: %w", hc.Name, ErrConfig)
	}
	h := &Host{
		lab: l, cfg: hc, name: hc.Name, ip: ip, logs: map[string]*eventLog{},
		procs: map[uint32]*Process{}, files: map[string]*File{},
		dirs: map[string]bool{}, reg: map[string]*regKey{}, scm: map[string]*Service{},
		logons: map[string]*Logon{}, shellHosts: map[string]*Process{},
		nextLogon:  0x3a000 + uint64(l.rng.Uint32N(0x10000)),
		guidPrefix: fmt.Sprintf("%08X", l.rng.Uint32()), runCtx: context.Background(),
	}
	h.log = l.log.With(keyHost, hc.Name)
	h.bootTime = l.clock.Now().Add(-time.Duration(1+l.rng.IntN(72)) * time.Hour)
	h.logonTimes = map[uint64]time.Time{}
	h.bootSeq = uint16(1 + l.rng.IntN(40))
	h.boot()
	return h, nil
}

// Name returns the host's short computer name as configured.
func (h *Host) Name() string { return h.name }

// FQDN returns the host's DNS name, the Computer field of its events.
func (h *Host) FQDN() string { return h.name + "." + h.lab.cfg.DNSDomain }

// IP returns the host's address.
func (h *Host) IP() string { return h.ip.String() }

// now returns the host's time: the lab clock plus the host's skew.
func (h *Host) now() time.Time { return h.lab.clock.Now().Add(h.cfg.ClockSkew) }

// advance lets simulated time pass.
func (h *Host) advance(d time.Duration) { h.lab.clock.Advance(d) }

// Now returns the host's current time.
func (h *Host) Now() time.Time { return h.now() }

// emit stamps and appends a record to its channel.
func (h *Host) emit(r *Record) {
	r.Computer = h.FQDN()
	r.Time = h.now()
	log := h.logs[r.Channel]
	if log == nil {
		log = &eventLog{}
		h.logs[r.Channel] = log
	}
	log.append(r)
}

// Events returns copies of the records f selects, oldest first.
func (h *Host) Events(f Filter) []Record {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	return h.events(f)
}

func (h *Host) events(f Filter) []Record {
	var out []Record
	for _, ch := range h.channelsOf(f.Channels) {
		log := h.logs[ch]
		if log == nil {
			continue
		}
		for _, r := range log.records {
			if f.matches(r) {
				out = append(out, *r)
			}
		}
	}
	sortRecords(out)
	return out
}

func (h *Host) channelsOf(names []string) []string {
	if len(names) == 0 {
		return []string{telemetry.ChannelSecurity, telemetry.ChannelSystem,
			telemetry.ChannelSysmon}
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, telemetry.CanonicalChannel(n))
	}
	return out
}

// hasChannel reports whether the host has the named event log.
func (h *Host) hasChannel(name string) bool {
	switch telemetry.CanonicalChannel(name) {
	case telemetry.ChannelSecurity, telemetry.ChannelSystem, "Application":
		return true
	case telemetry.ChannelSysmon:
		return !h.cfg.Sensors.NoSysmon
	}
	return false
}

// Processes returns copies of the host's running processes.
func (h *Host) Processes() []Process {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	out := make([]Process, 0, len(h.procs))
	for _, p := range h.procs {
		out = append(out, *p)
	}
	return out
}

// Connections returns the outbound connections the host's processes made.
func (h *Host) Connections() []Connection {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	return append([]Connection(nil), h.connections...)
}

func (h *Host) newLogonID() uint64 {
	h.nextLogon += 0x100 + uint64(h.lab.rng.Uint32N(0x4000))
	if len(h.logonTimes) > 4096 {
		clear(h.logonTimes)
	}
	h.logonTimes[h.nextLogon] = h.now()
	return h.nextLogon
}

// networkLogon records a type 3 logon from ip (Security 4624).
func (h *Host) networkLogon(user, ip, workstation string) *Logon {
	if !strings.Contains(user, `\`) {
		user = h.lab.cfg.Domain + `\` + user
	}
	l := &Logon{ID: h.newLogonID(), User: user, SID: h.lab.userSID(user), Type: 3,
		IP: ip, Port: uint16(49152 + h.lab.rng.IntN(16000)), Workstation: workstation}
	h.advance(2 * time.Millisecond)
	h.logLogon(l)
	return l
}

// RunCommand runs cmdline as WinRS does: under the shell's winrshost.exe,
// through cmd.exe /c, with the identity of the WinRM logon.
func (h *Host) RunCommand(ctx context.Context, s Session, cmdline string,
	stdin io.Reader, stdout, stderr io.Writer) int {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	h.runCtx = ctx
	defer func() { h.runCtx = context.Background() }()

	logon, host := h.shellLogon(s)
	id := identity{user: logon.User, sid: logon.SID, logonID: logon.ID,
		integrity: "High"}
	if !h.lab.isAdmin(logon.User) {
		id.integrity = "Medium"
	}
	x := &execCtx{ctx: ctx, h: h, p: host, stdin: newStdin(stdin), stdout: stdout, stderr: stderr,
		logon: logon}
	x.p.CurrentDir = userProfile(logon.User)
	code := h.runCmdExe(x, cmdline, id)
	// The command line may carry credentials (PsExec -p), so only its size
	// is logged.
	h.log.Debug("command", keyUser, logon.User, keyBytes, len(cmdline),
		keyExit, code)
	return code
}

// shellLogon returns the logon and winrshost.exe of a WinRM shell,
// creating both on the shell's first command.
func (h *Host) shellLogon(s Session) (*Logon, *Process) {
	key := s.ShellID + "|" + s.User + "|" + s.RemoteAddr
	if l := h.logons[key]; l != nil {
		return l, h.shellHosts[key]
	}
	user := s.User
	if user == "" {
		user = h.lab.cfg.Domain + `\Administrator`
	}
	ip := s.RemoteAddr
	if ap, err := netip.ParseAddrPort(ip); err == nil {
		ip = ap.Addr().String()
	}
	l := h.networkLogon(user, ip, "-")
	h.mkdir(userProfile(l.User) + `\AppData\Local\Temp`)
	h.mkdir(userProfile(l.User) + `\AppData\Roaming`)
	id := identity{user: l.User, sid: l.SID, logonID: l.ID, integrity: "High"}
	f := h.file(`C:\Windows\System32\winrshost.exe`)
	p := h.spawn(h.winrmProc, f.Path, `C:\Windows\system32\WinrsHost.exe -Embedding`,
		`C:\Windows\system32`, id, h.programOf(f), fileHashes(f.Data))
	if len(h.logons) > 256 {
		clear(h.logons)
		clear(h.shellHosts)
	}
	h.logons[key] = l
	h.shellHosts[key] = p
	return l, p
}

func userProfile(user string) string {
	return `C:\Users\` + shortUser(user)
}
