package correlate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

func TestAlertsStreamAsIncidentsClose(t *testing.T) {
	var got []Alert
	eng := New(DefaultPolicy(), Options{OnAlert: func(a Alert) { got = append(got, a) }})
	s := newStream("ws01")
	eng.Process(s.install7045(0, "BTOBTO", comspecLine))
	eng.Process(s.state(DefaultWindow+DefaultLateness, "Other", "running"))
	if len(got) != 0 {
		t.Fatalf("got %d alerts at the edge of window+lateness; want 0", len(got))
	}
	eng.Process(s.state(DefaultWindow+DefaultLateness+time.Minute, "Other", "running"))
	if len(got) != 1 || got[0].Service != "BTOBTO" {
		t.Fatalf("got %d alerts once the clock passed; want BTOBTO", len(got))
	}
	if rest := eng.Close(); len(rest) != 0 || len(got) != 1 {
		t.Errorf("Close with OnAlert: got %d returned, %d delivered; want 0 and 1", len(rest), len(got))
	}
}

func TestStateIsBounded(t *testing.T) {
	eng := New(DefaultPolicy(), Options{MaxIncidentsPerHost: 100})
	s := newStream("ws01")
	for i := range 1000 {
		eng.Process(s.install7045(time.Duration(i)*time.Millisecond, fmt.Sprintf("svc%04d", i),
			fmt.Sprintf(`C:\Program Files\V%d\svc.exe`, i)))
	}
	h := eng.hosts["ws01"]
	if len(h.open) > 100 {
		t.Errorf("got %d open incidents; want at most the cap of 100", len(h.open))
	}
	if st := eng.Stats(); st.Evicted.Incidents != 900 {
		t.Errorf("got %d incident evictions; want 900", st.Evicted.Incidents)
	}
	// Once the window and lateness pass, the host's tables are empty again.
	eng.Process(s.state(time.Hour, "Other", "running"))
	if len(h.open) != 0 || len(h.byName) != 0 || len(h.byImage) != 0 {
		t.Errorf("got %d open, %d names, %d images after expiry; want none",
			len(h.open), len(h.byName), len(h.byImage))
	}
}

func TestHostsAreBounded(t *testing.T) {
	eng := New(DefaultPolicy(), Options{MaxHosts: 10})
	for i := range 50 {
		s := newStream(fmt.Sprintf("ws%02d", i))
		eng.Process(s.install7045(time.Duration(i)*time.Second, "BTOBTO", comspecLine))
	}
	alerts := eng.Close()
	if st := eng.Stats(); st.Hosts > 10 || st.Evicted.Hosts != 40 {
		t.Errorf("got %d hosts, %d evicted; want at most 10 and 40", st.Hosts, st.Evicted.Hosts)
	}
	if len(alerts) != 50 {
		t.Errorf("got %d alerts; want 50: evicting a host must not lose its alerts", len(alerts))
	}
}

func TestOutputIsRedacted(t *testing.T) {
	s := newStream("srvdefender01")
	psexesvc := `C:\Windows\PSEXESVC.exe`
	child := "{88888888-0000-0000-0000-000000000001}"
	alerts := correlateAll(t, DefaultPolicy(),
		s.proc4688(0, "0x30", `C:\Windows\System32\sc.exe`,
			`sc.exe create Evil binPath= "C:\Users\Public\e.exe -p Hunter2" obj= .\svc password= Hunter2`,
			"0x20", `C:\Windows\System32\cmd.exe`),
		s.install4697(time.Second, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`, 0x1),
		s.proc1(2*time.Second, child, psexesvc, psexesvc, servicesGUID, servicesExe))
	for _, a := range alerts {
		text := fmt.Sprintf("%+v", a)
		if strings.Contains(text, "Hunter2") {
			t.Errorf("got the password in alert %q: %s", a.Service, text)
		}
	}
}

func TestEngineSurvivesHostileEvents(t *testing.T) {
	s := newStream("ws01")
	long := strings.Repeat("A", 1<<16)
	events := []*telemetry.Event{
		s.install7045(0, long, long),
		s.install7045(0, "", ""),
		s.ev(telemetry.ChannelSysmon, 1, 0, "Image", "", "ParentImage", "?"),
		s.ev(telemetry.ChannelSysmon, 13, 0, "TargetObject", `HKLM\System\CurrentControlSet\Services\`),
		s.ev(telemetry.ChannelSysmon, 17, 0, "PipeName", `\-x-1-stdin`),
		s.ev(telemetry.ChannelSecurity, 4624, 0, "LogonType", "3"),
		s.ev(telemetry.ChannelSystem, 7036, 0),
		{Channel: telemetry.ChannelSystem, EventID: 7045}, // no host, no time
	}
	eng := New(DefaultPolicy(), Options{})
	for _, ev := range events {
		eng.Process(ev)
	}
	for _, a := range eng.Close() {
		if len(a.Evidence) == 0 {
			t.Errorf("got alert %q without evidence", a.Service)
		}
	}
}

func TestDuplicateProcessEventsAreIdempotent(t *testing.T) {
	s := newStream("ws01")
	install := s.install7045(0, "Updater", `C:\ProgramData\upd\updater.exe`)
	child := s.proc1(time.Second, "{99999999-0000-0000-0000-000000000001}", `C:\ProgramData\upd\updater.exe`,
		`C:\ProgramData\upd\updater.exe`, servicesGUID, servicesExe)
	running := s.state(2*time.Second, "Updater", "running")
	a := only(t, correlateAll(t, DefaultPolicy(), install, child, running, child, running, child))
	if len(a.Evidence) != 3 {
		t.Errorf("got %d evidence records; want 3 (duplicates absorbed)", len(a.Evidence))
	}
}

func TestSvcctlNamesTheRemoteClient(t *testing.T) {
	s := newStream("WIN-77LTAPHIQ1R.example.corp")
	share := s.ev(telemetry.ChannelSecurity, 5145, 0, "SubjectUserName", "Administrator",
		"SubjectDomainName", "EXAMPLE", "IpAddress", "10.0.2.17", "IpPort", "49230",
		"ShareName", `\\*\IPC$`, "RelativeTargetName", "svcctl")
	a := only(t, correlateAll(t, DefaultPolicy(), share, s.install7045(47*time.Millisecond, "remotesvc", "calc.exe")))
	if a.SourceIP != "10.0.2.17" || a.Techniques[len(a.Techniques)-1] != TechniqueAdminShares {
		t.Errorf("got source %q techniques %v; want 10.0.2.17 and T1021.002", a.SourceIP, a.Techniques)
	}
	late := s.install7045(svcctlWindow+time.Second, "other", "calc.exe")
	for _, a := range correlateAll(t, DefaultPolicy(), share, late) {
		if a.SourceIP != "" {
			t.Errorf("install %s after svcctl: got source %q; want none", svcctlWindow+time.Second, a.SourceIP)
		}
	}
}

func TestKerberosLogonNamedByEarlierNTLM(t *testing.T) {
	s := newStream("srv01")
	a := only(t, correlateAll(t, DefaultPolicy(),
		s.logon(0, "3", 0x10, "10.0.0.5", "JUMP01"),
		s.logon(time.Minute, "3", 0x20, "10.0.0.5", "-"),
		s.install4697(time.Minute+time.Second, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`, 0x20)))
	if a.SourceHost != "JUMP01" || a.SourceIP != "10.0.0.5" {
		t.Errorf("got source %q %q; want JUMP01 10.0.0.5", a.SourceHost, a.SourceIP)
	}
}
