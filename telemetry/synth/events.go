package synth

import (
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// Event builders. Each writes one event with the fields, in the order and
// with the value shapes, that Windows and Sysmon write for that event ID (see
// the "Record formats" section of ../shared/datasets/MANIFEST.md). Numbers in
// Security events are rendered as EvtRender renders them: "0x3e7", not
// evtxexport's zero-padded "0x00000000000003e7".

const (
	providerSecurity = "Microsoft-Windows-Security-Auditing"
	providerSysmon   = "Microsoft-Windows-Sysmon"
	providerSCM      = "Service Control Manager"
	sidSystem        = "S-1-5-18"
)

// episode is the context the builders write into: the generator, the slot
// the events queue in and the host they happen on.
type episode struct {
	g *Generator
	s *slot
	h *host
}

// begin starts an episode on h in slot s with its label.
func (g *Generator) begin(s *slot, h *host, scenario string, malicious bool,
	service string) episode {
	g.chains++
	s.label = Label{Scenario: scenario, Malicious: malicious, Chain: g.chains, Host: h.key,
		Service: service}
	return episode{g: g, s: s, h: h}
}

// on returns the episode moved to another host (the source of a remote
// attack), queueing into the same slot under the same label.
func (ep episode) on(h *host) episode {
	return episode{g: ep.g, s: ep.s, h: h}
}

// add queues a new event on ep's host with room for n fields. An omitted
// event is built in a scratch event and not queued.
func (ep episode) add(channel, provider string, id uint32, version uint8, n int) *telemetry.Event {
	if ep.g.omitted(channel, id) {
		e := &ep.g.scratch
		e.Fields = e.Fields[:0]
		return e
	}
	e := ep.g.arena.event()
	e.Host, e.HostKey = ep.h.name, ep.h.key
	e.Channel, e.Provider, e.EventID, e.Version = channel, provider, id, version
	e.TimeSource = telemetry.TimeUTC
	e.ThreadID = uint32(1000 + ep.g.rng.IntN(8000))
	e.Fields = ep.g.arena.fieldSlice(n)
	ep.s.pending = append(ep.s.pending, pend{ev: e, h: ep.h})
	return e
}

// field appends one named value to e.
func field(e *telemetry.Event, name, value string) {
	e.Fields = append(e.Fields, telemetry.Field{Name: name, Value: value})
}

// sysmon queues a Sysmon event: Sysmon runs as SYSTEM under its own PID.
// Its UtcTime is filled in when the event is emitted.
func (ep episode) sysmon(id uint32, version uint8, n int) *telemetry.Event {
	e := ep.add(telemetry.ChannelSysmon, providerSysmon, id, version, n)
	e.UserID, e.ProcessID = sidSystem, ep.h.sysmon
	field(e, "RuleName", "-")
	field(e, "UtcTime", "")
	return e
}

// now is the stream's clock at the time the episode is built, used for the
// timestamp part of new process GUIDs.
func (g *Generator) now() time.Time {
	return g.cfg.Start.Add(time.Duration(float64(g.n) * g.nsPerEvent))
}

// guid returns a new Sysmon-style process or logon GUID on h: the host's
// fixed first group, then the time and a sequence number, in upper case as
// EvtRender writes GUIDs.
func (g *Generator) guid(h *host) string {
	h.guidSeq++
	t := uint64(g.now().Unix())
	b := g.arena.builder(38)
	b = append(b, '{')
	b = appendHex(b, uint64(h.guidPrefix), 8)
	b = append(b, '-')
	b = appendHex(b, t&0xffff, 4)
	b = append(b, '-')
	b = appendHex(b, t>>16&0xffff, 4)
	b = append(b, '-')
	b = appendHex(b, uint64(h.guidSeq), 4)
	b = append(b, "-000000000900}"...)
	return g.arena.done(b)
}

// appendHex appends v as width upper-case hex digits.
func appendHex(b []byte, v uint64, width int) []byte {
	const digits = "0123456789ABCDEF"
	for i := width - 1; i >= 0; i-- {
		b = append(b, digits[v>>(4*uint(i))&0xf])
	}
	return b
}

// processCreate queues Sysmon 1 for parent starting bin with cmd as u, and
// returns the new process.
func (ep episode) processCreate(parent proc, bin *binary, cmd string, u *account) proc {
	child := ep.h.newProc(ep.g, bin, cmd)
	e := ep.sysmon(1, 5, 22)
	field(e, "ProcessGuid", child.guid)
	field(e, "ProcessId", child.pid)
	field(e, "Image", bin.image)
	field(e, "FileVersion", bin.fileVersion)
	field(e, "Description", bin.description)
	field(e, "Product", bin.product)
	field(e, "Company", bin.company)
	field(e, "OriginalFileName", bin.original)
	field(e, "CommandLine", cmd)
	field(e, "CurrentDirectory", `C:\Windows\system32\`) // elevated shells start here too
	field(e, "User", u.sysmonUser)
	field(e, "LogonGuid", u.logonGUID)
	field(e, "LogonId", u.logonHex)
	field(e, "TerminalSessionId", terminalSession(u))
	field(e, "IntegrityLevel", integrity(u))
	field(e, "Hashes", bin.hashes)
	field(e, "ParentProcessGuid", parent.guid)
	field(e, "ParentProcessId", parent.pid)
	field(e, "ParentImage", parent.bin.image)
	field(e, "ParentCommandLine", parent.cmd)
	if ep.g.cfg.ProcessAudit {
		ep.processAudit(parent, child, u)
	}
	return child
}

// processAudit queues Security 4688 version 2 for parent starting child as u.
func (ep episode) processAudit(parent, child proc, u *account) {
	e := ep.add(telemetry.ChannelSecurity, providerSecurity, 4688, 2, 15)
	e.ProcessID = 4
	ep.subject(e, u)
	field(e, "NewProcessId", ep.g.arena.hex(child.pidN, 0))
	field(e, "NewProcessName", child.bin.image)
	field(e, "TokenElevationType", elevationType(u))
	field(e, "ProcessId", ep.g.arena.hex(parent.pidN, 0))
	field(e, "CommandLine", child.cmd)
	field(e, "TargetUserSid", "S-1-0-0")
	field(e, "TargetUserName", "-")
	field(e, "TargetDomainName", "-")
	field(e, "TargetLogonId", "0x0")
	field(e, "ParentProcessName", parent.bin.image)
	field(e, "MandatoryLabel", mandatoryLabel(u))
}

// elevationType is 4688's TokenElevationType: %%1936 a full token (SYSTEM),
// %%1937 an elevated administrator.
func elevationType(u *account) string {
	if u.sid == sidSystem {
		return "%%1936"
	}
	return "%%1937"
}

// mandatoryLabel is 4688's integrity SID for the levels processCreate uses.
func mandatoryLabel(u *account) string {
	if u.sid == sidSystem {
		return "S-1-16-16384"
	}
	return "S-1-16-12288"
}

func terminalSession(u *account) string {
	if u.sid == sidSystem {
		return "0"
	}
	return "1"
}

func integrity(u *account) string {
	if u.sid == sidSystem {
		return "System"
	}
	return "High"
}

// networkConnect queues Sysmon 3 for a TCP connection by p.
func (ep episode) networkConnect(p proc, u *account, initiated bool, srcIP string, srcPort uint64,
	dstIP string, dstPort uint64, dstHost string) {
	e := ep.sysmon(3, 5, 20)
	field(e, "ProcessGuid", p.guid)
	field(e, "ProcessId", p.pid)
	field(e, "Image", p.bin.image)
	field(e, "User", u.sysmonUser)
	field(e, "Protocol", "tcp")
	field(e, "Initiated", boolText(initiated))
	field(e, "SourceIsIpv6", "false")
	field(e, "SourceIp", srcIP)
	field(e, "SourceHostname", "-")
	field(e, "SourcePort", ep.g.arena.decimal(srcPort))
	field(e, "SourcePortName", "-")
	field(e, "DestinationIsIpv6", "false")
	field(e, "DestinationIp", dstIP)
	field(e, "DestinationHostname", cmpOr(dstHost, "-"))
	field(e, "DestinationPort", ep.g.arena.decimal(dstPort))
	field(e, "DestinationPortName", portName(dstPort))
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func portName(port uint64) string {
	switch port {
	case 443:
		return "https"
	case 445:
		return "microsoft-ds"
	case 135:
		return "epmap"
	case 80:
		return "http"
	}
	return "-"
}

// fileCreate queues Sysmon 11 for p creating target.
func (ep episode) fileCreate(p proc, target string) {
	e := ep.sysmon(11, 2, 7)
	field(e, "ProcessGuid", p.guid)
	field(e, "ProcessId", p.pid)
	field(e, "Image", p.bin.image)
	field(e, "TargetFilename", target)
	field(e, "CreationUtcTime", "")
}

// registry queues Sysmon 12 (key created or deleted) or 13 (value set, with
// details) for p.
func (ep episode) registry(p proc, eventType, target, details string) {
	id, n := uint32(12), 7
	if eventType == telemetry.RegSetValue {
		id, n = 13, 8
	}
	e := ep.sysmon(id, 2, n)
	e.Fields = append(e.Fields[:1], telemetry.Field{Name: "EventType", Value: eventType},
		telemetry.Field{Name: "UtcTime"})
	field(e, "ProcessGuid", p.guid)
	field(e, "ProcessId", p.pid)
	field(e, "Image", p.bin.image)
	field(e, "TargetObject", target)
	if id == 13 {
		field(e, "Details", details)
	}
}

// pipe queues Sysmon 17 (created) or 18 (connected) for p.
func (ep episode) pipe(p proc, connect bool, name string) {
	id, typ := uint32(17), telemetry.PipeCreate
	if connect {
		id, typ = 18, telemetry.PipeConnect
	}
	e := ep.sysmon(id, 1, 7)
	e.Fields = append(e.Fields[:1], telemetry.Field{Name: "EventType", Value: typ},
		telemetry.Field{Name: "UtcTime"})
	field(e, "ProcessGuid", p.guid)
	field(e, "ProcessId", p.pid)
	field(e, "PipeName", name)
	field(e, "Image", p.bin.image)
}

// serviceInstalled queues System 7045 as services.exe writes it, with the
// installer's SID as the event's UserID. account is "" for drivers.
func (ep episode) serviceInstalled(installerSID, name, imagePath string, serviceType,
	start uint32, account string) {
	e := ep.add(telemetry.ChannelSystem, providerSCM, 7045, 0, 5)
	e.UserID, e.ProcessID = installerSID, uint32(ep.h.services.pidN)
	field(e, "ServiceName", name)
	field(e, "ImagePath", imagePath)
	field(e, "ServiceType", telemetry.ServiceTypeText(serviceType))
	field(e, "StartType", telemetry.StartTypeText(start))
	field(e, "AccountName", account)
}

// serviceInstalledAudit queues Security 4697 version 1. client and parent
// are the creating process and its parent (0 for a remote SCM client).
func (ep episode) serviceInstalledAudit(subject *account, name, file string, serviceType,
	start uint32, account string, client, parent uint64) {
	e := ep.add(telemetry.ChannelSecurity, providerSecurity, 4697, 1, 14)
	e.ProcessID = ep.h.lsass
	ep.subject(e, subject)
	field(e, "ServiceName", name)
	field(e, "ServiceFileName", file)
	field(e, "ServiceType", ep.g.arena.hex(uint64(serviceType), 0))
	field(e, "ServiceStartType", ep.g.arena.decimal(uint64(start)))
	field(e, "ServiceAccount", account)
	field(e, "ClientProcessStartKey", ep.g.arena.decimal(0x2000000000000+client*7919))
	field(e, "ClientProcessId", ep.g.arena.decimal(client))
	field(e, "ParentProcessId", ep.g.arena.decimal(parent))
	field(e, "RpcCallClientLocality", boolDigit(client != 0))
	field(e, "FQDN", ep.h.name)
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// subject appends the four Subject* fields of a Security event.
func (ep episode) subject(e *telemetry.Event, a *account) {
	field(e, "SubjectUserSid", a.sid)
	field(e, "SubjectUserName", a.name)
	field(e, "SubjectDomainName", a.domain)
	field(e, "SubjectLogonId", a.logonHex)
}

// serviceState queues System 7036: display name entered state ("running",
// "stopped").
func (ep episode) serviceState(display, state string) {
	e := ep.add(telemetry.ChannelSystem, providerSCM, 7036, 0, 2)
	e.ProcessID = uint32(ep.h.services.pidN)
	field(e, "param1", display)
	field(e, "param2", state)
}

// startTypeChanged queues System 7040.
func (ep episode) startTypeChanged(display, name string, from, to uint32) {
	e := ep.add(telemetry.ChannelSystem, providerSCM, 7040, 0, 4)
	e.UserID, e.ProcessID = sidSystem, uint32(ep.h.services.pidN)
	field(e, "param1", display)
	field(e, "param2", telemetry.StartTypeText(from))
	field(e, "param3", telemetry.StartTypeText(to))
	field(e, "param4", name)
}

// client is where a logon comes from.
type client struct {
	logonType string // "2" interactive, "3" network
	ip        string
	port      uint64
	ntlm      bool   // NTLM rather than Kerberos (network logons)
	station   string // NTLM's WorkstationName; Kerberos network logons write "-"
}

// logonShape is the part of 4624 that depends on how the logon was made.
type logonShape struct {
	subject                       account
	process, processID, station   string
	logonProcess, pkg, lm, keyLen string
}

// shape returns the 4624 fields of a logon from c to h.
func (c client) shape(h *host) logonShape {
	switch {
	case c.logonType != "3":
		return logonShape{h.machine, `C:\Windows\System32\svchost.exe`, "0x3d4", h.short,
			"User32 ", "Negotiate", "-", "0"}
	case c.ntlm:
		return logonShape{anonymous, "-", "0x0", cmpOr(c.station, "-"), "NtLmSsp ", "NTLM",
			"NTLM V2", "128"}
	}
	return logonShape{anonymous, "-", "0x0", "-", "Kerberos", "Kerberos", "-", "0"}
}

var anonymous = account{sid: "S-1-0-0", name: "-", domain: "-", logonHex: "0x0"}

// logon queues Security 4624 version 2 for target logging on from c.
func (ep episode) logon(target *account, c client) {
	e := ep.add(telemetry.ChannelSecurity, providerSecurity, 4624, 2, 27)
	e.ProcessID = ep.h.lsass
	sh := c.shape(ep.h)
	ep.subject(e, &sh.subject)
	field(e, "TargetUserSid", target.sid)
	field(e, "TargetUserName", target.name)
	field(e, "TargetDomainName", target.domain)
	field(e, "TargetLogonId", target.logonHex)
	field(e, "LogonType", c.logonType)
	field(e, "LogonProcessName", sh.logonProcess)
	field(e, "AuthenticationPackageName", sh.pkg)
	field(e, "WorkstationName", sh.station)
	field(e, "LogonGuid", target.logonGUID)
	field(e, "TransmittedServices", "-")
	field(e, "LmPackageName", sh.lm)
	field(e, "KeyLength", sh.keyLen)
	field(e, "ProcessId", sh.processID)
	field(e, "ProcessName", sh.process)
	field(e, "IpAddress", c.ip)
	field(e, "IpPort", portText(ep.g, c.port))
	field(e, "ImpersonationLevel", "%%1833")
	field(e, "RestrictedAdminMode", "-")
	field(e, "TargetOutboundUserName", "-")
	field(e, "TargetOutboundDomainName", "-")
	field(e, "VirtualAccount", "%%1843")
	field(e, "TargetLinkedLogonId", "0x0")
	field(e, "ElevatedToken", "%%1842")
}

func portText(g *Generator, port uint64) string {
	return g.arena.decimal(port)
}

// shareAccess queues Security 5145 for a client of share reaching target.
func (ep episode) shareAccess(subject *account, ip string, port uint64, share, localPath,
	target, mask, accessList string) {
	e := ep.add(telemetry.ChannelSecurity, providerSecurity, 5145, 0, 13)
	e.ProcessID = 4
	ep.subject(e, subject)
	field(e, "ObjectType", "File")
	field(e, "IpAddress", ip)
	field(e, "IpPort", ep.g.arena.decimal(port))
	field(e, "ShareName", share)
	field(e, "ShareLocalPath", localPath)
	field(e, "RelativeTargetName", target)
	field(e, "AccessMask", mask)
	field(e, "AccessList", accessList)
	field(e, "AccessReason", "-")
}
