package telemetry

import "strings"

// The view methods read an Event's fields in one pass each, switching on the
// field name, because the correlator calls them on every event and a lookup
// per field would scan the fields a dozen times.

// Providers that share a channel with events the views must not claim.
const (
	providerSCM    = "Service Control Manager"
	providerSysmon = "Microsoft-Windows-Sysmon"
)

// on reports whether e was recorded on channel with event ID id. Decoders
// store the canonical channel; the case-insensitive fallback keeps a
// hand-built Event ("security") from silently matching nothing.
func (e *Event) on(channel string, id uint32) bool {
	return e.EventID == id && (e.Channel == channel || strings.EqualFold(e.Channel, channel))
}

// fromSCM reports whether e came from the Service Control Manager; an empty
// provider (flat formats that lack it) is accepted.
func (e *Event) fromSCM() bool {
	return e.Provider == "" || e.Provider == providerSCM ||
		strings.EqualFold(e.Provider, providerSCM)
}

// sysmon reports whether e is Sysmon event id. The Sysmon channel holds only
// Sysmon's events, but a provider other than Sysmon (recorded and not empty)
// rules the event out.
func (e *Event) sysmon(id uint32) bool {
	return e.on(ChannelSysmon, id) &&
		(e.Provider == "" || strings.EqualFold(e.Provider, providerSysmon))
}

// ProcessCreate returns the process creation that e records: Sysmon 1, or
// Security 4688 of any version (ParentProcessName and the Target* fields exist
// only in version 2; their absence leaves the parent unknown).
func (e *Event) ProcessCreate() (ProcessCreate, bool) {
	switch {
	case e.sysmon(1):
		return e.sysmonProcessCreate(), true
	case e.on(ChannelSecurity, 4688):
		return e.securityProcessCreate(), true
	}
	return ProcessCreate{}, false
}

func (e *Event) sysmonProcessCreate() ProcessCreate {
	var p ProcessCreate
	for _, f := range e.Fields {
		switch f.Name {
		case "ProcessGuid":
			p.ProcessGUID = CanonicalGUID(f.Value)
		case "ProcessId":
			p.PID, _ = ParseNumber(f.Value)
		case "Image":
			p.Image = f.Value
		case "CommandLine":
			p.CommandLine = f.Value
		case "ParentProcessGuid":
			p.ParentGUID = CanonicalGUID(f.Value)
		case "ParentProcessId":
			p.ParentPID, _ = ParseNumber(f.Value)
		case "ParentImage":
			p.ParentImage = f.Value
		case "ParentCommandLine":
			p.ParentCommandLine = f.Value
		case "User":
			p.User = f.Value
		case "LogonId":
			p.LogonID, _ = ParseNumber(f.Value)
		case "IntegrityLevel":
			p.IntegrityLevel = f.Value
		case "Hashes":
			p.Hashes = f.Value
		}
	}
	p.finish()
	return p
}

func (e *Event) securityProcessCreate() ProcessCreate {
	var p ProcessCreate
	var subject, target account
	for _, f := range e.Fields {
		switch f.Name {
		case "NewProcessId":
			p.PID, _ = ParseNumber(f.Value)
		case "NewProcessName":
			p.Image = f.Value
		case "ProcessId":
			p.ParentPID, _ = ParseNumber(f.Value)
		case "ParentProcessName":
			p.ParentImage = f.Value
		case "CommandLine":
			p.CommandLine = f.Value
		case "SubjectLogonId":
			p.LogonID, _ = ParseNumber(f.Value)
		case "TargetLogonId":
			p.TargetLogonID, _ = ParseNumber(f.Value)
		case "MandatoryLabel":
			p.IntegrityLevel = integrityFromLabel(f.Value)
		default:
			subject.take("Subject", f)
			target.take("Target", f)
		}
	}
	// The new process runs as the target account when 4688 v2 names one
	// (a different token), otherwise as the subject that created it.
	if p.User = target.qualified(); p.User == "" {
		p.User = subject.qualified()
	}
	p.finish()
	return p
}

// finish fills the canonical keys and the parent's known flag.
func (p *ProcessCreate) finish() {
	p.ImageKey = CanonicalImage(p.Image)
	p.ParentKnown = KnownImage(p.ParentImage)
	if !p.ParentKnown {
		p.ParentImage = ""
		return
	}
	p.ParentImageKey = CanonicalImage(p.ParentImage)
}

// integrityFromLabel names the integrity level of a 4688 MandatoryLabel SID as
// Sysmon's IntegrityLevel does; an unknown SID is kept as recorded.
func integrityFromLabel(sid string) string {
	switch sid {
	case "S-1-16-0":
		return "Untrusted"
	case "S-1-16-4096":
		return "Low"
	case "S-1-16-8192":
		return "Medium"
	case "S-1-16-8448":
		return "MediumPlus"
	case "S-1-16-12288":
		return "High"
	case "S-1-16-16384":
		return "System"
	}
	return sid
}

// account gathers the <prefix>UserSid/UserName/DomainName fields of an event.
type account struct{ sid, name, domain string }

// take stores f when it is one of the prefix's account fields.
func (a *account) take(prefix string, f Field) {
	if !strings.HasPrefix(f.Name, prefix) {
		return
	}
	switch f.Name[len(prefix):] {
	case "UserSid":
		a.sid = f.Value
	case "UserName":
		a.name = f.Value
	case "DomainName":
		a.domain = f.Value
	}
}

// qualified returns DOMAIN\user, the user alone without a domain, or "" when
// the name is absent or "-".
func (a *account) qualified() string {
	if a.name == "" || a.name == "-" {
		return ""
	}
	if a.domain == "" || a.domain == "-" {
		return a.name
	}
	return a.domain + `\` + a.name
}

// NetworkConnect returns the network connection that Sysmon 3 records.
func (e *Event) NetworkConnect() (NetworkConnect, bool) {
	if !e.sysmon(3) {
		return NetworkConnect{}, false
	}
	var n NetworkConnect
	for _, f := range e.Fields {
		switch f.Name {
		case "ProcessGuid":
			n.ProcessGUID = CanonicalGUID(f.Value)
		case "ProcessId":
			n.PID, _ = ParseNumber(f.Value)
		case "Image":
			n.Image = f.Value
		case "User":
			n.User = f.Value
		case "Protocol":
			n.Protocol = f.Value
		case "Initiated":
			n.Initiated = strings.EqualFold(f.Value, "true")
		case "SourceIp":
			n.SourceIP = f.Value
		case "SourcePort":
			n.SourcePort = parsePort(f.Value)
		case "DestinationIp":
			n.DestIP = f.Value
		case "DestinationPort":
			n.DestPort = parsePort(f.Value)
		case "DestinationHostname":
			n.DestHost = dashEmpty(f.Value)
		}
	}
	n.ImageKey = CanonicalImage(n.Image)
	return n, true
}

// parsePort parses a TCP or UDP port; anything else gives 0.
func parsePort(s string) uint16 {
	v, ok := ParseNumber(s)
	if !ok || v > 0xffff {
		return 0
	}
	return uint16(v)
}

// dashEmpty returns "" for the "-" that Windows writes for an absent value.
func dashEmpty(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// FileCreate returns the file creation that Sysmon 11 records.
func (e *Event) FileCreate() (FileCreate, bool) {
	if !e.sysmon(11) {
		return FileCreate{}, false
	}
	var c FileCreate
	for _, f := range e.Fields {
		switch f.Name {
		case "ProcessGuid":
			c.ProcessGUID = CanonicalGUID(f.Value)
		case "ProcessId":
			c.PID, _ = ParseNumber(f.Value)
		case "Image":
			c.Image = f.Value
		case "TargetFilename":
			c.TargetFilename = f.Value
		}
	}
	c.ImageKey = CanonicalImage(c.Image)
	return c, true
}

// Sysmon registry and pipe event types, as Sysmon writes them in EventType.
const (
	RegCreateKey   = "CreateKey"
	RegDeleteKey   = "DeleteKey"
	RegSetValue    = "SetValue"
	RegDeleteValue = "DeleteValue"
	RegRenameKey   = "RenameKey"
	PipeCreate     = "CreatePipe"
	PipeConnect    = "ConnectPipe"
)

// RegistryEvent returns the registry change that e records: Sysmon 12 (key
// created or deleted, value deleted), 13 (value set) or 14 (key renamed), or
// Security 4657 (a value modified, with "Registry value auditing" on).
func (e *Event) RegistryEvent() (RegistryEvent, bool) {
	var r RegistryEvent
	switch {
	case e.sysmon(12), e.sysmon(13), e.sysmon(14):
		r = e.sysmonRegistry()
	case e.on(ChannelSecurity, 4657):
		r = e.securityRegistry()
	default:
		return RegistryEvent{}, false
	}
	r.ImageKey = CanonicalImage(r.Image)
	r.Key = CanonicalRegistryPath(r.Target)
	r.Service, r.ValueName, _ = ServiceFromRegistryPath(r.Target)
	return r, true
}

func (e *Event) sysmonRegistry() RegistryEvent {
	var r RegistryEvent
	for _, f := range e.Fields {
		switch f.Name {
		case "EventType":
			r.EventType = f.Value
		case "ProcessGuid":
			r.ProcessGUID = CanonicalGUID(f.Value)
		case "ProcessId":
			r.PID, _ = ParseNumber(f.Value)
		case "Image":
			r.Image = f.Value
		case "TargetObject":
			r.Target = f.Value
		case "Details":
			r.Details = f.Value
		}
	}
	r.EventType = registryEventType(r.EventType, e.EventID)
	return r
}

// registryEventType keeps a recorded Sysmon EventType and otherwise derives
// it from the event ID: NXLog overwrites EventType with its own severity
// ("INFO"), and 12 is ambiguous (create or delete), so it stays "".
func registryEventType(recorded string, id uint32) string {
	switch recorded {
	case RegCreateKey, RegDeleteKey, RegSetValue, RegDeleteValue, RegRenameKey:
		return recorded
	}
	switch id {
	case 13:
		return RegSetValue
	case 14:
		return RegRenameKey
	}
	return ""
}

func (e *Event) securityRegistry() RegistryEvent {
	r := RegistryEvent{EventType: RegSetValue}
	var object, value string
	for _, f := range e.Fields {
		switch f.Name {
		case "ObjectName":
			object = f.Value
		case "ObjectValueName":
			value = f.Value
		case "ProcessId":
			r.PID, _ = ParseNumber(f.Value)
		case "ProcessName":
			r.Image = f.Value
		case "NewValue":
			r.Details = f.Value
		case "SubjectLogonId":
			r.LogonID, _ = ParseNumber(f.Value)
		case "OperationType":
			r.EventType = registryOperation(f.Value, r.EventType)
		}
	}
	r.Target = object
	if value != "" && value != "-" {
		r.Target = object + `\` + value
	}
	return r
}

// registryOperation maps a 4657 OperationType ("%%1904" new value, "%%1905"
// modified, "%%1906" deleted, or their rendered text) to a Sysmon event type.
func registryOperation(op, fallback string) string {
	switch op {
	case "%%1904", "%%1905", "New registry value created", "Existing registry value modified":
		return RegSetValue
	case "%%1906", "Registry value deleted":
		return RegDeleteValue
	}
	return fallback
}

// PipeEvent returns the named pipe that Sysmon 17 (created) or 18 (connected)
// records.
func (e *Event) PipeEvent() (PipeEvent, bool) {
	var p PipeEvent
	switch {
	case e.sysmon(17):
		p.EventType = PipeCreate
	case e.sysmon(18):
		p.EventType = PipeConnect
	default:
		return PipeEvent{}, false
	}
	for _, f := range e.Fields {
		switch f.Name {
		case "ProcessGuid":
			p.ProcessGUID = CanonicalGUID(f.Value)
		case "ProcessId":
			p.PID, _ = ParseNumber(f.Value)
		case "Image":
			p.Image = f.Value
		case "PipeName":
			p.PipeName = f.Value
		}
	}
	p.ImageKey = CanonicalImage(p.Image)
	return p, true
}

// ServiceInstall returns the service installation that e records: System 7045
// from the Service Control Manager (types as text, the installer's SID in the
// event's UserID) or Security 4697 (types as numbers; version 1 adds the
// client and parent process IDs).
func (e *Event) ServiceInstall() (ServiceInstall, bool) {
	var s ServiceInstall
	switch {
	case e.on(ChannelSystem, 7045) && e.fromSCM():
		s = e.systemServiceInstall()
	case e.on(ChannelSecurity, 4697):
		s = e.securityServiceInstall()
	default:
		return ServiceInstall{}, false
	}
	s.ImageKey = CanonicalImage(s.ImagePath)
	return s, true
}

func (e *Event) systemServiceInstall() ServiceInstall {
	s := ServiceInstall{SubjectUserSID: e.UserID}
	for _, f := range e.Fields {
		switch f.Name {
		case "ServiceName":
			s.ServiceName = f.Value
		case "ImagePath":
			s.ImagePath = f.Value
		case "ServiceType":
			s.ServiceType, _ = ParseServiceType(f.Value)
		case "StartType":
			s.StartType, _ = ParseStartType(f.Value)
		case "AccountName":
			s.Account = f.Value
		}
	}
	return s
}

func (e *Event) securityServiceInstall() ServiceInstall {
	var s ServiceInstall
	var subject account
	for _, f := range e.Fields {
		switch f.Name {
		case "ServiceName":
			s.ServiceName = f.Value
		case "ServiceFileName":
			s.ImagePath = f.Value
		case "ServiceType":
			s.ServiceType, _ = ParseServiceType(f.Value)
		case "ServiceStartType":
			s.StartType, _ = ParseStartType(f.Value)
		case "ServiceAccount":
			s.Account = f.Value
		case "SubjectLogonId":
			s.SubjectLogonID, _ = ParseNumber(f.Value)
		case "ClientProcessId":
			s.ClientProcessID, _ = ParseNumber(f.Value)
		case "ParentProcessId":
			s.ParentProcessID, _ = ParseNumber(f.Value)
		default:
			subject.take("Subject", f)
		}
	}
	s.SubjectUserSID = subject.sid
	s.SubjectUser = subject.qualified()
	return s
}

// ServiceStateChange returns the service state change (System 7036: param1
// the display name, param2 the state) or start-type change (System 7040:
// param1 the display name, param2 and param3 the old and new start types,
// param4 the key name) that e records.
func (e *Event) ServiceStateChange() (ServiceStateChange, bool) {
	is7036 := e.on(ChannelSystem, 7036)
	if (!is7036 && !e.on(ChannelSystem, 7040)) || !e.fromSCM() {
		return ServiceStateChange{}, false
	}
	var c ServiceStateChange
	for _, f := range e.Fields {
		switch f.Name {
		case "param1":
			c.DisplayName = f.Value
		case "param2":
			if is7036 {
				c.State = strings.ToLower(f.Value)
			} else {
				c.OldStartType = f.Value
			}
		case "param3":
			c.NewStartType = f.Value
		case "param4":
			c.ServiceName = f.Value
		}
	}
	return c, true
}

// Logon returns the successful logon that Security 4624 records.
func (e *Event) Logon() (Logon, bool) {
	if !e.on(ChannelSecurity, 4624) {
		return Logon{}, false
	}
	var l Logon
	var target account
	for _, f := range e.Fields {
		switch f.Name {
		case "LogonType":
			t, _ := ParseNumber(f.Value)
			l.LogonType = int(min(t, 1<<16))
		case "TargetLogonId":
			l.TargetLogonID, _ = ParseNumber(f.Value)
		case "SubjectLogonId":
			l.SubjectLogonID, _ = ParseNumber(f.Value)
		case "IpAddress":
			l.IPAddress = dashEmpty(f.Value)
		case "IpPort":
			l.IPPort = parsePort(f.Value)
		case "WorkstationName":
			l.Workstation = dashEmpty(f.Value)
		case "AuthenticationPackageName":
			l.AuthPackage = f.Value
		case "LogonProcessName":
			l.LogonProcess = strings.TrimSpace(f.Value)
		case "ElevatedToken":
			l.ElevatedToken = f.Value == "%%1842" || strings.EqualFold(f.Value, "yes")
		case "ProcessName":
			l.ProcessName = dashEmpty(f.Value)
		default:
			target.take("Target", f)
		}
	}
	l.TargetUserSID = target.sid
	l.TargetUser = target.qualified()
	return l, true
}

// ShareAccess returns the network share object access that Security 5145
// (detailed file share auditing) records.
func (e *Event) ShareAccess() (ShareAccess, bool) {
	if !e.on(ChannelSecurity, 5145) {
		return ShareAccess{}, false
	}
	var a ShareAccess
	var subject account
	for _, f := range e.Fields {
		switch f.Name {
		case "SubjectLogonId":
			a.SubjectLogonID, _ = ParseNumber(f.Value)
		case "IpAddress":
			a.IPAddress = dashEmpty(f.Value)
		case "IpPort":
			a.IPPort = parsePort(f.Value)
		case "ShareName":
			a.ShareName = f.Value
		case "ShareLocalPath":
			a.ShareLocalPath = f.Value
		case "RelativeTargetName":
			a.RelativeTargetName = f.Value
		case "AccessMask":
			m, _ := ParseNumber(f.Value)
			a.AccessMask = uint32(m)
		default:
			subject.take("Subject", f)
		}
	}
	a.SubjectUserSID = subject.sid
	a.SubjectUser = subject.qualified()
	return a, true
}
