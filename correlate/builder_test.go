package correlate

import (
	"strconv"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// t0 is when every hand-written sequence starts.
var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// stream builds hand-written event sequences for one host, numbering the
// records per channel.
type stream struct {
	host string
	recs map[string]uint64
}

func newStream(host string) *stream {
	return &stream{host: host, recs: map[string]uint64{}}
}

// ev makes one event at t0+at with the given name/value pairs.
func (s *stream) ev(channel string, id uint32, at time.Duration, kv ...string) *telemetry.Event {
	s.recs[channel]++
	e := &telemetry.Event{
		Time: t0.Add(at), TimeSource: telemetry.TimeUTC, Host: s.host,
		HostKey: telemetry.CanonicalHost(s.host), Channel: channel, EventID: id,
		RecordID: s.recs[channel],
	}
	switch channel {
	case telemetry.ChannelSysmon:
		e.Provider = "Microsoft-Windows-Sysmon"
	case telemetry.ChannelSystem:
		e.Provider = "Service Control Manager"
	case telemetry.ChannelSecurity:
		e.Provider = "Microsoft-Windows-Security-Auditing"
	}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Fields = append(e.Fields, telemetry.Field{Name: kv[i], Value: kv[i+1]})
	}
	return e
}

func (s *stream) install7045(at time.Duration, name, image string) *telemetry.Event {
	return s.ev(telemetry.ChannelSystem, 7045, at, "ServiceName", name, "ImagePath", image,
		"ServiceType", "user mode service", "StartType", "demand start", "AccountName", "LocalSystem")
}

func (s *stream) driver7045(at time.Duration, name, image string) *telemetry.Event {
	return s.ev(telemetry.ChannelSystem, 7045, at, "ServiceName", name, "ImagePath", image,
		"ServiceType", "kernel mode driver", "StartType", "system start")
}

func (s *stream) install4697(at time.Duration, key, image string, logonID uint64) *telemetry.Event {
	return s.ev(telemetry.ChannelSecurity, 4697, at, "SubjectUserSid", "S-1-5-21-1-2-3-1104",
		"SubjectUserName", "adm", "SubjectDomainName", "LAB", "SubjectLogonId",
		"0x"+strconv.FormatUint(logonID, 16), "ServiceName", key, "ServiceFileName", image,
		"ServiceType", "0x10", "ServiceStartType", "3", "ServiceAccount", "LocalSystem")
}

func (s *stream) logon(at time.Duration, typ string, logonID uint64, ip, station string) *telemetry.Event {
	return s.ev(telemetry.ChannelSecurity, 4624, at, "TargetUserName", "adm",
		"TargetDomainName", "LAB", "TargetLogonId", "0x"+strconv.FormatUint(logonID, 16),
		"LogonType", typ, "WorkstationName", station, "IpAddress", ip, "IpPort", "49730")
}

// proc1 is Sysmon 1.
func (s *stream) proc1(at time.Duration, guid, image, cmd, parentGUID, parentImage string) *telemetry.Event {
	return s.ev(telemetry.ChannelSysmon, 1, at, "ProcessGuid", guid, "ProcessId", "4242",
		"Image", image, "CommandLine", cmd, "User", "NT AUTHORITY\\SYSTEM",
		"Hashes", "SHA256=AB12,MD5=00", "ParentProcessGuid", parentGUID, "ParentProcessId", "612",
		"ParentImage", parentImage, "ParentCommandLine", parentImage)
}

// proc4688 is Security 4688; parentName "" gives version 0/1 (no parent).
func (s *stream) proc4688(at time.Duration, pid, image, cmd, ppid, parentName string) *telemetry.Event {
	kv := []string{"SubjectUserName", "adm", "SubjectDomainName", "LAB", "SubjectLogonId", "0x3e7",
		"NewProcessId", pid, "NewProcessName", image, "ProcessId", ppid, "CommandLine", cmd}
	if parentName != "" {
		kv = append(kv, "ParentProcessName", parentName)
	}
	return s.ev(telemetry.ChannelSecurity, 4688, at, kv...)
}

func (s *stream) reg13(at time.Duration, image, target, details string) *telemetry.Event {
	return s.ev(telemetry.ChannelSysmon, 13, at, "EventType", "SetValue", "ProcessGuid",
		"{00000000-0000-0000-0000-000000000001}", "ProcessId", "700", "Image", image,
		"TargetObject", target, "Details", details)
}

func (s *stream) regDelete(at time.Duration, image, target string) *telemetry.Event {
	return s.ev(telemetry.ChannelSysmon, 12, at, "EventType", "DeleteKey", "Image", image,
		"TargetObject", target)
}

func (s *stream) net3(at time.Duration, guid, image, dst string) *telemetry.Event {
	return s.ev(telemetry.ChannelSysmon, 3, at, "ProcessGuid", guid, "ProcessId", "4343",
		"Image", image, "Protocol", "tcp", "Initiated", "true", "SourceIp", "10.0.0.9",
		"SourcePort", "50000", "DestinationIp", dst, "DestinationPort", "443")
}

func (s *stream) pipe(at time.Duration, id uint32, image, name string) *telemetry.Event {
	typ := "CreatePipe"
	if id == 18 {
		typ = "ConnectPipe"
	}
	return s.ev(telemetry.ChannelSysmon, id, at, "EventType", typ, "ProcessGuid",
		"{00000000-0000-0000-0000-0000000000aa}", "ProcessId", "5000", "PipeName", name, "Image", image)
}

func (s *stream) state(at time.Duration, display, state string) *telemetry.Event {
	return s.ev(telemetry.ChannelSystem, 7036, at, "param1", display, "param2", state)
}

// correlateAll runs a fresh engine over events and returns every alert.
func correlateAll(t *testing.T, pol *Policy, events ...*telemetry.Event) []Alert {
	t.Helper()
	eng := New(pol, Options{Now: func() time.Time { return t0 }})
	for _, ev := range events {
		eng.Process(ev)
	}
	return eng.Close()
}

// only returns the single alert, failing the test when there is not exactly one.
func only(t *testing.T, alerts []Alert) Alert {
	t.Helper()
	if len(alerts) != 1 {
		for _, a := range alerts {
			t.Logf("alert %q %v score %d", a.Service, a.Signals, a.Score)
		}
		t.Fatalf("got %d alerts; want 1", len(alerts))
	}
	return alerts[0]
}

func hasSignal(alerts []Alert, sig Signal) bool {
	for _, a := range alerts {
		if a.HasSignal(sig.String()) {
			return true
		}
	}
	return false
}

const (
	servicesExe  = `C:\Windows\system32\services.exe`
	servicesGUID = "{11111111-1111-1111-1111-111111111111}"
	comspecLine  = `%COMSPEC% /Q /c echo whoami ^> \\%COMPUTERNAME%\C$\__output_abc 2^>^&1`
	svcKey       = `HKLM\System\CurrentControlSet\Services\`
)
