package synth

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// host is one simulated Windows machine: its names, address, long-lived
// processes, logged-on user and per-channel record counters.
type host struct {
	name  string // Computer as Windows records it: "WS0007.lab.local"
	short string // "WS0007"
	key   string // telemetry.CanonicalHost(name)
	ip    string

	guidPrefix uint32 // first GUID group, fixed per host as Sysmon's is
	guidSeq    uint16
	nextPID    uint64

	system   proc // PID 4, the kernel's "System"
	services proc // services.exe
	svchost  proc // svchost.exe -k netsvcs, parent of scheduled work
	explorer proc // the interactive user's shell
	sysmon   uint32
	lsass    uint32

	user      account // the interactive user
	machine   account // the computer account (S-1-5-18 as DOMAIN\HOST$)
	luidBase  uint64  // logon IDs handed out on this host start here
	nextLogon uint64

	records [3]uint64     // next EventRecordID per channel: Security, System, Sysmon
	skew    time.Duration // how far this host's clock is off
}

// proc is a running process as Sysmon identifies it.
type proc struct {
	guid string
	pid  string
	pidN uint64
	bin  *binary
	cmd  string
}

// account is a user and the logon session it holds.
type account struct {
	sid, name, domain string
	logonID           uint64
	logonHex          string // 0x-prefixed, as Sysmon's LogonId
	logonGUID         string
	sysmonUser        string // DOMAIN\user as Sysmon writes User
}

// Indexes of host.records.
const (
	recSecurity = iota
	recSystem
	recSysmon
)

const domainSID = "S-1-5-21-4228717743-1032521047-1810997296"

// newHost builds host i of the fleet, with its long-lived processes, in the
// generator's arena.
func newHost(g *Generator, i int) *host {
	short := "WS" + pad(i+1, 4)
	switch {
	case i == g.cfg.Hosts-1:
		short = "JUMP01"
	case i == g.cfg.Hosts-2 && g.cfg.Hosts >= 4:
		short = "MGMT01"
	case i%10 == 9:
		short = "SRV" + pad(i/10+1, 3)
	}
	name := short + "." + g.cfg.Domain
	h := &host{
		name: name, short: short, key: telemetry.CanonicalHost(name),
		ip:         "10.20." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+4),
		guidPrefix: g.rng.Uint32(),
		nextPID:    600 + uint64(g.rng.IntN(400))*4,
		sysmon:     uint32(2000 + g.rng.IntN(3000)),
		lsass:      uint32(600 + g.rng.IntN(100)*4),
		luidBase:   0x100000 + uint64(g.rng.IntN(1<<24)),
	}
	h.records = [3]uint64{uint64(g.rng.IntN(1 << 20)), uint64(g.rng.IntN(1 << 16)),
		uint64(g.rng.IntN(1 << 22))}
	h.nextLogon = h.luidBase
	if max := int64(g.cfg.MaxClockSkew); max > 0 {
		h.skew = time.Duration(g.rng.Int64N(2*max+1) - max)
	}
	h.machine = account{sid: "S-1-5-18", name: short + "$", domain: g.domainNetBIOS,
		logonID: 0x3e7, logonHex: "0x3e7", sysmonUser: `NT AUTHORITY\SYSTEM`}
	h.machine.logonGUID = g.guid(h)
	h.system = proc{guid: g.guid(h), pid: "4", pidN: 4, bin: &binary{image: "System"}}
	h.services = h.newProc(g, binServices, `C:\Windows\system32\services.exe`)
	h.svchost = h.newProc(g, binSvchost, `C:\Windows\system32\svchost.exe -k netsvcs -p`)
	h.explorer = h.newProc(g, binExplorer, `C:\Windows\Explorer.EXE`)
	h.user = h.newAccount(g, users[i%len(users)])
	return h
}

// pad formats v in decimal with leading zeros to width digits.
func pad(v, width int) string {
	s := strconv.Itoa(v)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// newProc starts a process record on h: a fresh PID and process GUID.
func (h *host) newProc(g *Generator, bin *binary, cmd string) proc {
	h.nextPID += 4 * uint64(1+g.rng.IntN(8))
	if h.nextPID > 65000 {
		h.nextPID = 600 + uint64(g.rng.IntN(100))*4 // PIDs are reused, GUIDs are not
	}
	return proc{guid: g.guid(h), pid: g.arena.decimal(h.nextPID), pidN: h.nextPID,
		bin: bin, cmd: cmd}
}

// newAccount opens a logon session for a domain user on h.
func (h *host) newAccount(g *Generator, name string) account {
	rid := 1104 + uint64(len(name))*7 + uint64(name[0])
	h.nextLogon += 1 + uint64(g.rng.IntN(0x4000))
	return account{
		sid:  g.arena.concat(domainSID, "-", strconv.FormatUint(rid, 10)),
		name: name, domain: g.domainNetBIOS,
		logonID: h.nextLogon, logonHex: g.arena.hex(h.nextLogon, 0),
		logonGUID:  g.guid(h),
		sysmonUser: g.arena.concat(g.domainNetBIOS, `\`, name),
	}
}

// record returns the next EventRecordID of one of h's channels.
func (h *host) record(channel string) uint64 {
	i := recSysmon
	switch channel {
	case telemetry.ChannelSecurity:
		i = recSecurity
	case telemetry.ChannelSystem:
		i = recSystem
	}
	h.records[i]++
	return h.records[i]
}

// pick returns a uniformly chosen element of s.
func pick[T any](r *rand.Rand, s []T) T {
	return s[r.IntN(len(s))]
}
