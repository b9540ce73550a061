package sim

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Process is one process of a simulated host.
type Process struct {
	PID         uint32
	GUID        string // Sysmon ProcessGuid
	Image       string
	CommandLine string
	CurrentDir  string
	User        string // DOMAIN\user, or NT AUTHORITY\SYSTEM
	SID         string
	LogonID     uint64
	LogonGUID   string
	Session     uint32
	Integrity   string // System, High, Medium, Low
	Hashes      string
	Start       time.Time
	Parent      *Process
	ExitCode    int
	Exited      bool
	prog        *program
}

// identity is who a new process runs as.
type identity struct {
	user      string
	sid       string
	logonID   uint64
	integrity string
	session   uint32
}

func systemIdentity() identity {
	return identity{user: `NT AUTHORITY\SYSTEM`, sid: "S-1-5-18", logonID: 0x3e7,
		integrity: "System"}
}

func (p *Process) identity() identity {
	return identity{user: p.User, sid: p.SID, logonID: p.LogonID,
		integrity: p.Integrity, session: p.Session}
}

// program is what an executable does when it runs, and the version
// resource Sysmon reports for it.
type program struct {
	Key              string // lower-case name in the programs table
	FileVersion      string
	Description      string
	Product          string
	Company          string
	OriginalFileName string
	// run executes the program; nil for programs that run until stopped
	// (service binaries, GUI programs).
	run func(x *execCtx) int
	// service reports that the program calls StartServiceCtrlDispatcher, so
	// the SCM sees it start when it is a service's image.
	service bool
	// onStart runs when the SCM sees the program report running.
	onStart func(h *Host, s *Service, p *Process)
}

// execCtx is one running program invocation.
type execCtx struct {
	ctx    context.Context
	h      *Host
	p      *Process
	args   []string // argv without the program name
	raw    string   // the command line after the program name
	stdin  *psStdin // nil reads as empty; children inherit it, as handles are
	stdout io.Writer
	stderr io.Writer
	logon  *Logon // the logon the process belongs to, for remote actions
}

func (x *execCtx) outf(format string, a ...any) {
	fmt.Fprintf(x.stdout, strings.ReplaceAll(format, "\n", "\r\n"), a...)
}

func (x *execCtx) errf(format string, a ...any) {
	fmt.Fprintf(x.stderr, strings.ReplaceAll(format, "\n", "\r\n"), a...)
}

// newPID returns an unused process ID, a multiple of 4 as on Windows.
func (h *Host) newPID() uint32 {
	for {
		pid := 4 * (256 + h.lab.rng.Uint32N(4800))
		if h.procs[pid] == nil {
			return pid
		}
	}
}

// tid returns a plausible thread ID for an event written by p.
func (h *Host) tid(p *Process) uint32 {
	return 4 * (300 + h.lab.rng.Uint32N(3000))
}

// processGUID builds a Sysmon ProcessGuid: a per-host prefix, the start
// time in seconds split low word then high word, and a unique tail.
func (h *Host) processGUID(start time.Time, pid uint32) string {
	sec := uint32(start.Unix())
	h.guidSeq++
	return fmt.Sprintf("{%s-%04X-%04X-0000-0010%08X}", h.guidPrefix,
		sec&0xffff, sec>>16, bits.ReverseBytes32(0x100000+h.guidSeq<<8|pid&0xff))
}

// spawn creates a process, writes its creation events and returns it.
func (h *Host) spawn(parent *Process, image, cmdline, dir string, id identity,
	prog *program, hashes string) *Process {
	h.advance(time.Duration(2+h.lab.rng.IntN(25)) * time.Millisecond)
	p := &Process{
		PID: h.newPID(), Image: image, CommandLine: cmdline, CurrentDir: dir,
		User: id.user, SID: id.sid, LogonID: id.logonID, Session: id.session,
		Integrity: id.integrity, Start: h.now(), Parent: parent, prog: prog,
		Hashes: hashes,
	}
	p.GUID = h.processGUID(p.Start, p.PID)
	p.LogonGUID = h.logonGUID(id.logonID)
	h.procs[p.PID] = p
	h.logProcessCreate(p)
	if h.onSpawn != nil {
		h.onSpawn(p)
	}
	return p
}

// exit ends p with code.
func (h *Host) exit(p *Process, code int) {
	if p.Exited {
		return
	}
	p.Exited, p.ExitCode = true, code
	delete(h.procs, p.PID)
	h.advance(time.Millisecond)
}

// logonGUID builds Sysmon's LogonGuid: the host prefix, the logon's time in
// seconds (low word, high word) and the logon ID's bytes, little-endian.
func (h *Host) logonGUID(logonID uint64) string {
	t, ok := h.logonTimes[logonID]
	if !ok {
		t = h.bootTime
	}
	sec := uint32(t.Unix())
	return fmt.Sprintf("{%s-%04X-%04X-0000-0020%08X}", h.guidPrefix, sec&0xffff, sec>>16,
		bits.ReverseBytes32(uint32(logonID)))
}

// fileHashes renders Sysmon's Hashes field for a file's content.
func fileHashes(data []byte) string {
	s1 := sha1.Sum(data)
	m := md5.Sum(data)
	s2 := sha256.Sum256(data)
	return "SHA1=" + upperHex(s1[:]) + ",MD5=" + upperHex(m[:]) +
		",SHA256=" + upperHex(s2[:]) + ",IMPHASH=00000000000000000000000000000000"
}

func upperHex(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// isConsole reports whether image is a console host process that gets a
// conhost.exe of its own when started without a console.
func isConsole(image string) bool {
	base := strings.ToLower(baseName(image))
	return base == "cmd.exe" || base == "powershell.exe"
}

// runImage starts the program of an executable file with cmdline under
// parent, runs it to completion and returns its exit code. It returns
// errNotFound when the file does not exist.
func (h *Host) runImage(x *execCtx, image, cmdline string, id identity) (int, error) {
	f := h.file(image)
	if f == nil {
		return 0, errNotFound
	}
	prog := h.programOf(f)
	p := h.spawn(x.p, image, cmdline, x.p.CurrentDir, id, prog, fileHashes(f.Data))
	if isConsole(f.Path) && !isConsole(x.p.Image) {
		h.startConhost(p)
	}
	child := &execCtx{ctx: x.ctx, h: h, p: p, stdin: x.stdin, stdout: x.stdout,
		stderr: x.stderr, logon: x.logon}
	child.raw = argsAfterProgram(cmdline)
	child.args = splitArgs(child.raw)
	code := 0
	if prog.run != nil {
		code = prog.run(child)
		h.exit(p, code)
	}
	return code, nil
}

// startConhost starts the console host Windows attaches to a console
// program that has none.
func (h *Host) startConhost(p *Process) {
	f := h.file(`C:\Windows\System32\conhost.exe`)
	c := h.spawn(p, `C:\Windows\System32\conhost.exe`,
		`\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`,
		`C:\Windows`, p.identity(), h.programOf(f), fileHashes(f.Data))
	h.exit(c, 0)
}

// runCanary is what an executable the simulator has no model of does,
// following the lab's canary payload: with --sink HOST:PORT it connects
// there and sends the run ID, then it stops.
func runCanary(x *execCtx) int {
	x.h.canaryReport(x.p)
	return 0
}

func (h *Host) canaryReport(p *Process) {
	args := splitArgs(argsAfterProgram(p.CommandLine))
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--sink" {
			h.connect(p, args[i+1])
		}
	}
}

// connect makes p open a TCP connection to addr (Sysmon 3 when logged).
func (h *Host) connect(p *Process, addr string) {
	host, portText, err := net.SplitHostPort(addr)
	port, perr := strconv.ParseUint(portText, 10, 16)
	if err != nil || perr != nil {
		return
	}
	dstIP, dstName := host, "-"
	if t := h.lab.Host(host); t != nil {
		dstIP, dstName = t.IP(), t.FQDN()
	}
	src := h.IP()
	if ip, err := netip.ParseAddr(dstIP); err == nil && ip.IsLoopback() {
		src = dstIP
	}
	h.advance(40 * time.Millisecond)
	h.logNetwork(p, "tcp", src, uint16(49152+h.lab.rng.IntN(16000)), dstIP, dstName,
		uint16(port))
	if len(h.connections) >= maxConnections {
		h.connections = append(h.connections[:0], h.connections[maxConnections/10:]...)
	}
	h.connections = append(h.connections, Connection{ProcessGUID: p.GUID, Image: p.Image,
		Destination: net.JoinHostPort(dstIP, portText), Time: h.now()})
}

// maxConnections bounds the connections a host remembers.
const maxConnections = 10_000

// Connection is one outbound connection a simulated process made.
type Connection struct {
	ProcessGUID string
	Image       string
	Destination string
	Time        time.Time
}
