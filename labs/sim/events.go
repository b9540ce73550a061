package sim

import (
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/svcharness/svcharness/telemetry"
)

// Provider identities exactly as Windows names them.
const (
	providerSysmon   = "Microsoft-Windows-Sysmon"
	guidSysmon       = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"
	providerSecurity = "Microsoft-Windows-Security-Auditing"
	guidSecurity     = "{54849625-5478-4994-a5ba-3e3b0328c30d}"
	providerSCM      = "Service Control Manager"
	guidSCM          = "{555908d1-a6d7-4695-8e1e-26931d2012f4}"
)

// Event versions the simulator writes. Sysmon events follow the layout of
// schema 4.22 (Sysmon 10.x): RuleName first (empty when no rule is named, as
// Sysmon 10 writes it), OriginalFileName in event 1, no User in events 11-13
// and no ParentUser in event 1.
const (
	version4688 = 2
	version4697 = 0 // the layout of the dataset recordings (pre-1903)
	version4624 = 2
)

type fields []telemetry.Field

func (f *fields) add(name, value string) {
	*f = append(*f, telemetry.Field{Name: name, Value: value})
}

// sysmon writes one Sysmon event unless the host has no Sysmon.
func (h *Host) sysmon(id uint32, version uint8, data fields) {
	if h.cfg.Sensors.NoSysmon {
		return
	}
	h.emit(&Record{
		Channel: telemetry.ChannelSysmon, Provider: providerSysmon,
		ProviderGUID: guidSysmon, EventID: id, Version: version, Level: 4,
		Task: uint16(id), Keywords: "0x8000000000000000",
		ProcessID: h.sysmonProc.PID, ThreadID: h.tid(h.sysmonProc),
		UserID: "S-1-5-18", Data: data,
	})
}

// security writes one Security audit event.
func (h *Host) security(id uint32, version uint8, task uint16, pid uint32, data fields) {
	h.emit(&Record{
		Channel: telemetry.ChannelSecurity, Provider: providerSecurity,
		ProviderGUID: guidSecurity, EventID: id, Version: version, Level: 0,
		Task: task, Keywords: "0x8020000000000000", ProcessID: pid,
		ThreadID: h.tid(nil), Data: data,
	})
}

// securityActivity writes a Security event that carries a correlation
// activity ID, as the LSA's logon and the SCM's install audits do.
func (h *Host) securityActivity(id uint32, version uint8, task uint16, pid uint32,
	data fields) {
	h.security(id, version, task, pid, data)
	log := h.logs[telemetry.ChannelSecurity]
	r := log.records[len(log.records)-1]
	r.ActivityID = fmt.Sprintf("{%08X-%04X-%04X-%04X-%012X}", h.lab.rng.Uint32(),
		h.lab.rng.Uint32N(0x10000), h.lab.rng.Uint32N(0x10000), h.lab.rng.Uint32N(0x10000),
		h.lab.rng.Uint64()&0xffffffffffff)
}

// scmEvent writes one System event from the Service Control Manager.
func (h *Host) scmEvent(id uint32, userSID string, data fields, binary string) {
	h.emit(&Record{
		Channel: telemetry.ChannelSystem, Provider: providerSCM,
		ProviderGUID: guidSCM, SourceName: true, EventID: id,
		Qualifiers: "16384", Level: 4, Keywords: "0x8080000000000000",
		ProcessID: h.servicesProc.PID, ThreadID: h.tid(h.servicesProc),
		UserID: userSID, Data: data, Binary: binary,
	})
}

// logProcessCreate writes Sysmon 1 and Security 4688 for a new process.
func (h *Host) logProcessCreate(p *Process) {
	h.sysmonProcessCreate(p)
	if !h.cfg.Sensors.No4688 {
		h.security4688(p)
	}
}

func (h *Host) sysmonProcessCreate(p *Process) {
	var d fields
	d.add("RuleName", "")
	d.add("UtcTime", sysmonTime(p.Start))
	d.add("ProcessGuid", p.GUID)
	d.add("ProcessId", u64(uint64(p.PID)))
	d.add("Image", p.Image)
	d.add("FileVersion", p.prog.FileVersion)
	d.add("Description", p.prog.Description)
	d.add("Product", p.prog.Product)
	d.add("Company", p.prog.Company)
	d.add("OriginalFileName", p.prog.OriginalFileName)
	d.add("CommandLine", p.CommandLine)
	d.add("CurrentDirectory", strings.TrimSuffix(p.CurrentDir, `\`)+`\`)
	d.add("User", p.User)
	d.add("LogonGuid", p.LogonGUID)
	d.add("LogonId", hex64(p.LogonID))
	d.add("TerminalSessionId", u64(uint64(p.Session)))
	d.add("IntegrityLevel", p.Integrity)
	d.add("Hashes", p.Hashes)
	parent := p.Parent
	d.add("ParentProcessGuid", parent.GUID)
	d.add("ParentProcessId", u64(uint64(parent.PID)))
	d.add("ParentImage", parent.Image)
	d.add("ParentCommandLine", parent.CommandLine)
	h.sysmon(1, 5, d)
}

func (h *Host) security4688(p *Process) {
	subj := p.Parent
	var d fields
	d.add("SubjectUserSid", subj.SID)
	d.add("SubjectUserName", userPart(subj.User, h))
	d.add("SubjectDomainName", domainPart(subj.User, h))
	d.add("SubjectLogonId", hex64(subj.LogonID))
	d.add("NewProcessId", hex64(uint64(p.PID)))
	d.add("NewProcessName", p.Image)
	d.add("TokenElevationType", elevationType(p))
	d.add("ProcessId", hex64(uint64(subj.PID)))
	d.add("CommandLine", p.CommandLine)
	d.add("TargetUserSid", "S-1-0-0")
	d.add("TargetUserName", "-")
	d.add("TargetDomainName", "-")
	d.add("TargetLogonId", "0x0")
	d.add("ParentProcessName", subj.Image)
	d.add("MandatoryLabel", mandatoryLabel(p.Integrity))
	h.security(4688, version4688, 13312, 4, d)
}

// elevationType is 4688's TokenElevationType: a filtered token for a
// medium-integrity user, otherwise the default (full) token that service
// and network logons get; UAC elevation (%%1937) does not occur here.
func elevationType(p *Process) string {
	if p.Integrity == "Medium" {
		return "%%1938"
	}
	return "%%1936"
}

func mandatoryLabel(integrity string) string {
	switch integrity {
	case "System":
		return "S-1-16-16384"
	case "High":
		return "S-1-16-12288"
	case "Low":
		return "S-1-16-4096"
	}
	return "S-1-16-8192"
}

// logNetwork writes Sysmon 3 when the host's NetworkConnect rule covers the
// process image.
func (h *Host) logNetwork(p *Process, proto, srcIP string, srcPort uint16,
	dstIP, dstHost string, dstPort uint16) {
	if !h.networkLogged(p.Image) {
		return
	}
	var d fields
	d.add("RuleName", "")
	d.add("UtcTime", sysmonTime(h.now()))
	d.add("ProcessGuid", p.GUID)
	d.add("ProcessId", u64(uint64(p.PID)))
	d.add("Image", p.Image)
	d.add("User", p.User)
	d.add("Protocol", proto)
	d.add("Initiated", "true")
	d.add("SourceIsIpv6", "false")
	d.add("SourceIp", srcIP)
	d.add("SourceHostname", h.FQDN())
	d.add("SourcePort", u64(uint64(srcPort)))
	d.add("SourcePortName", "-")
	d.add("DestinationIsIpv6", "false")
	d.add("DestinationIp", dstIP)
	d.add("DestinationHostname", dstHost)
	d.add("DestinationPort", u64(uint64(dstPort)))
	d.add("DestinationPortName", portName(dstPort))
	h.sysmon(3, 5, d)
}

func portName(port uint16) string {
	switch port {
	case 445:
		return "microsoft-ds"
	case 135:
		return "epmap"
	case 80:
		return "http"
	case 443:
		return "https"
	}
	return "-"
}

func (h *Host) networkLogged(image string) bool {
	list := h.cfg.Sensors.NetworkImages
	if len(list) == 0 {
		return true
	}
	lower := strings.ToLower(image)
	for _, suffix := range list {
		if strings.HasSuffix(lower, strings.ToLower(suffix)) {
			return true
		}
	}
	return false
}

// logFileCreate writes Sysmon 11.
func (h *Host) logFileCreate(p *Process, path string) {
	var d fields
	d.add("RuleName", "")
	d.add("UtcTime", sysmonTime(h.now()))
	d.add("ProcessGuid", p.GUID)
	d.add("ProcessId", u64(uint64(p.PID)))
	d.add("Image", p.Image)
	d.add("TargetFilename", path)
	d.add("CreationUtcTime", sysmonTime(h.now()))
	h.sysmon(11, 2, d)
}

// logRegistry writes Sysmon 12 (CreateKey, DeleteKey, DeleteValue) or 13
// (SetValue). Details is only given for SetValue.
func (h *Host) logRegistry(p *Process, eventType, target, details string) {
	id := uint32(12)
	if eventType == "SetValue" {
		id = 13
	}
	var d fields
	d.add("RuleName", "")
	d.add("EventType", eventType)
	d.add("UtcTime", sysmonTime(h.now()))
	d.add("ProcessGuid", p.GUID)
	d.add("ProcessId", u64(uint64(p.PID)))
	d.add("Image", p.Image)
	d.add("TargetObject", target)
	if id == 13 {
		d.add("Details", details)
	}
	h.sysmon(id, 2, d)
}

// logPipe writes Sysmon 17 (CreatePipe) or 18 (ConnectPipe).
func (h *Host) logPipe(p *Process, connect bool, pipe string) {
	id, kind := uint32(17), "CreatePipe"
	if connect {
		id, kind = 18, "ConnectPipe"
	}
	var d fields
	d.add("RuleName", "")
	d.add("EventType", kind)
	d.add("UtcTime", sysmonTime(h.now()))
	d.add("ProcessGuid", p.GUID)
	d.add("ProcessId", u64(uint64(p.PID)))
	d.add("PipeName", pipe)
	d.add("Image", p.Image)
	h.sysmon(id, 1, d)
}

// logLogon writes Security 4624 (version 2) for l.
func (h *Host) logLogon(l *Logon) {
	var d fields
	d.add("SubjectUserSid", "S-1-0-0")
	d.add("SubjectUserName", "-")
	d.add("SubjectDomainName", "-")
	d.add("SubjectLogonId", "0x0")
	d.add("TargetUserSid", l.SID)
	d.add("TargetUserName", shortUser(l.User))
	d.add("TargetDomainName", domainPart(l.User, h))
	d.add("TargetLogonId", hex64(l.ID))
	d.add("LogonType", u64(uint64(l.Type)))
	d.add("LogonProcessName", "NtLmSsp ")
	d.add("AuthenticationPackageName", "NTLM")
	d.add("WorkstationName", l.Workstation)
	d.add("LogonGuid", "{00000000-0000-0000-0000-000000000000}")
	d.add("TransmittedServices", "-")
	d.add("LmPackageName", "NTLM V2")
	d.add("KeyLength", "128")
	d.add("ProcessId", "0x0")
	d.add("ProcessName", "-")
	d.add("IpAddress", l.IP)
	d.add("IpPort", u64(uint64(l.Port)))
	d.add("ImpersonationLevel", "%%1833")
	d.add("RestrictedAdminMode", "-")
	d.add("TargetOutboundUserName", "-")
	d.add("TargetOutboundDomainName", "-")
	d.add("VirtualAccount", "%%1843")
	d.add("TargetLinkedLogonId", "0x0")
	elevated := "%%1842"
	if !h.lab.isAdmin(l.User) {
		elevated = "%%1843"
	}
	d.add("ElevatedToken", elevated)
	h.securityActivity(4624, version4624, 12544, h.lsassProc.PID, d)
}

// logShareAccess writes Security 5145 for one access to a share object.
func (h *Host) logShareAccess(l *Logon, share, localPath, target, mask, access string) {
	if h.cfg.Sensors.No5145 {
		return
	}
	var d fields
	d.add("SubjectUserSid", l.SID)
	d.add("SubjectUserName", shortUser(l.User))
	d.add("SubjectDomainName", domainPart(l.User, h))
	d.add("SubjectLogonId", hex64(l.ID))
	d.add("ObjectType", "File")
	d.add("IpAddress", l.IP)
	d.add("IpPort", u64(uint64(l.Port)))
	d.add("ShareName", `\\*\`+share)
	d.add("ShareLocalPath", localPath)
	d.add("RelativeTargetName", target)
	d.add("AccessMask", mask)
	d.add("AccessList", access)
	d.add("AccessReason", "-")
	h.security(5145, 0, 12811, 4, d)
}

// logServiceInstall writes System 7045 and, when audited, Security 4697.
func (h *Host) logServiceInstall(s *Service, by *caller) {
	var d fields
	d.add("ServiceName", s.displayOrName())
	d.add("ImagePath", s.ImagePath)
	d.add("ServiceType", serviceTypeText(s.Type))
	d.add("StartType", startTypeText(s.Start))
	d.add("AccountName", s.Account)
	h.scmEvent(7045, by.sid, d, "")
	if h.cfg.Sensors.No4697 {
		return
	}
	var s4 fields
	s4.add("SubjectUserSid", by.sid)
	s4.add("SubjectUserName", shortUser(by.user))
	s4.add("SubjectDomainName", domainPart(by.user, h))
	s4.add("SubjectLogonId", hex64(by.logonID))
	s4.add("ServiceName", s.Name)
	s4.add("ServiceFileName", s.ImagePath)
	s4.add("ServiceType", hex64(uint64(s.Type)))
	s4.add("ServiceStartType", u64(uint64(s.Start)))
	s4.add("ServiceAccount", s.Account)
	version := uint8(version4697)
	if h.cfg.Build >= build1903 {
		version = 1
		h.add4697Client(&s4, by)
	}
	h.securityActivity(4697, version, 12289, h.servicesProc.PID, s4)
}

// logStartFailure writes the System errors of a failed start: 7009 for a
// timeout, then 7000 with the error as a message insert (%%1053, %%2).
func (h *Host) logStartFailure(s *Service, code int, timeout bool) {
	bin := utf16Hex(s.Name)
	if timeout {
		var d fields
		d.add("param1", u64(uint64(serviceStartTimeout.Milliseconds())))
		d.add("param2", s.displayOrName())
		h.scmError(7009, d, bin)
	}
	var d fields
	d.add("param1", s.displayOrName())
	d.add("param2", "%%"+u64(uint64(code)))
	h.scmError(7000, d, bin)
}

func (h *Host) scmError(id uint32, data fields, binary string) {
	h.scmEvent(id, "", data, binary)
	log := h.logs[telemetry.ChannelSystem]
	r := log.records[len(log.records)-1]
	r.Level, r.Qualifiers = 2, "49152"
}

// build1903 is the first build that writes 4697 version 1.
const build1903 = 18362

// add4697Client appends version 1's fields: the client process of the
// CreateService call (0 for a remote client, which has no local process),
// its parent, where the RPC came from, and this host's name.
func (h *Host) add4697Client(d *fields, by *caller) {
	var key, pid, ppid uint64
	locality := "0"
	if by.proc != nil {
		key = uint64(h.bootSeq)<<48 | uint64(by.proc.PID)<<8 | uint64(h.guidSeq&0xff)
		pid = uint64(by.proc.PID)
		if by.proc.Parent != nil {
			ppid = uint64(by.proc.Parent.PID)
		}
	} else {
		// TODO(4697v1): the locality a remote svcctl client gets is inferred
		// from RpcCallClientLocality's definition (2, remote), not observed.
		locality = "2"
	}
	d.add("ClientProcessStartKey", u64(key))
	d.add("ClientProcessId", u64(pid))
	d.add("ParentProcessId", u64(ppid))
	d.add("RpcCallClientLocality", locality)
	d.add("FQDN", h.FQDN())
}

// logServiceState writes System 7036.
func (h *Host) logServiceState(s *Service, state string, code int) {
	var d fields
	d.add("param1", s.displayOrName())
	d.add("param2", state)
	h.scmEvent(7036, "", d, utf16Hex(s.Name+"/"+u64(uint64(code))))
}

// logStartTypeChange writes System 7040.
func (h *Host) logStartTypeChange(s *Service, from, to uint32, by *caller) {
	var d fields
	d.add("param1", s.displayOrName())
	d.add("param2", startTypeText(from))
	d.add("param3", startTypeText(to))
	d.add("param4", s.Name)
	h.scmEvent(7040, by.sid, d, "")
}

func utf16Hex(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	b = append(b, 0, 0)
	return strings.ToUpper(hex.EncodeToString(b))
}

func userPart(u string, h *Host) string {
	if u == `NT AUTHORITY\SYSTEM` {
		return h.name + "$"
	}
	return shortUser(u)
}

func domainPart(u string, h *Host) string {
	if u == `NT AUTHORITY\SYSTEM` {
		return h.lab.cfg.Domain
	}
	if i := strings.IndexByte(u, '\\'); i > 0 {
		return u[:i]
	}
	return h.lab.cfg.Domain
}
