package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// An include-mode NetworkConnect rule logs only listed images: the canary's
// connection goes unseen while sc.exe's to port 445 is logged.
func TestNetworkLoggingForListedImagesOnly(t *testing.T) {
	l, err := NewLab(LabConfig{Hosts: []HostConfig{
		{Name: "WS01", Sensors: SensorConfig{NetworkImages: []string{`\sc.exe`}}},
		{Name: "WS02"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h := l.Host("WS01")
	mustRun(t, h, `mkdir C:\LabStage`, 0)
	mustRun(t, h, `echo MZ> C:\LabStage\canary.exe`, 0)
	mustRun(t, h, `sc.exe create C1 binPath= "C:\LabStage\canary.exe --sink 10.10.0.250:8443"`, 0)
	mustRun(t, h, "sc.exe start C1", 0)
	mustRun(t, h, `sc.exe \\WS02 query Spooler`, 0)
	var images []string
	for _, r := range records(h, telemetry.ChannelSysmon, 3) {
		images = append(images, baseName(r.Get("Image"))+">"+r.Get("DestinationPort"))
	}
	if strings.Join(images, ",") != "sc.exe>445" {
		t.Errorf("got Sysmon 3 %q; want only sc.exe>445", images)
	}
	conns := h.Connections()
	if len(conns) != 1 || conns[0].Destination != "10.10.0.250:8443" {
		t.Errorf("got connections %+v; want the canary's to its sink", conns)
	}
	out := mustRun(t, h, `C:\Windows\Sysmon64.exe -c`, 0)
	if !strings.Contains(out, "NetworkConnect                     onmatch: include") ||
		!strings.Contains(out, `value: '\sc.exe'`) {
		t.Errorf("got sysmon -c %q; want the include rule listed", out)
	}
	if s, ok := h.ServiceInfo("C1"); !ok || s.State != stateStopped {
		t.Errorf("got %+v; want the canary service stopped after it reported", s)
	}
}

func TestSysmonAbsentMeansNoTool(t *testing.T) {
	l, err := NewLab(LabConfig{Hosts: []HostConfig{{Name: "WS01",
		Sensors: SensorConfig{NoSysmon: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(l.Host("WS01"), adminSession, `C:\Windows\Sysmon64.exe -c`)
	if code != 1 || !strings.Contains(errs, "is not recognized") {
		t.Errorf("got %d %q; want Sysmon64.exe missing", code, errs)
	}
	mustRun(t, l.Host("WS01"), "sc.exe query Sysmon64", 1060)
}

func TestNewLabRejectsBadConfig(t *testing.T) {
	tests := []LabConfig{
		{},
		{Hosts: []HostConfig{{Name: ""}}},
		{Hosts: []HostConfig{{Name: "WS01", IP: "not-an-ip"}}},
		{Hosts: []HostConfig{{Name: "WS01"}, {Name: "ws01"}}},
	}
	for i, cfg := range tests {
		if _, err := NewLab(cfg); err == nil {
			t.Errorf("case %d: got no error; want ErrConfig", i)
		}
	}
}

func TestClockSkewPerHost(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l, err := NewLab(LabConfig{Start: start, Hosts: []HostConfig{{Name: "WS01"},
		{Name: "WS02", ClockSkew: 7 * time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, l.Host("WS01"), `C:\LabTools\PsExec.exe \\WS02 -accepteula cmd /c exit 0`, 0)
	src := records(l.Host("WS01"), telemetry.ChannelSysmon, 1)
	dst := records(l.Host("WS02"), telemetry.ChannelSecurity, 4624)
	if len(src) == 0 || len(dst) == 0 {
		t.Fatal("got no events to compare")
	}
	if d := dst[0].Time.Sub(src[len(src)-1].Time); d < 6*time.Minute || d > 8*time.Minute {
		t.Errorf("got WS02 %v ahead of WS01; want about 7m", d)
	}
	out := mustRun(t, l.Host("WS02"), encodedPS("[DateTime]::UtcNow.ToString('o')"), 0)
	got, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(out))
	if err != nil || got.Sub(l.Clock().Now()) < 6*time.Minute {
		t.Errorf("got WS02 clock %q (%v); want the lab clock plus 7m", out, err)
	}
}

func TestLabConventionsPresent(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	for _, p := range []string{`C:\ProgramData\svcharness\lab.marker`,
		`C:\LabTools\PsExec.exe`, `C:\LabTools\HarnessLabAgent.msi`,
		`C:\LabTools\logon-user.clixml`} {
		out := mustRun(t, h, encodedPS("Test-Path -Path '"+p+"'"), 0)
		if strings.TrimSpace(out) != "True" {
			t.Errorf("Test-Path %s: got %q; want True", p, out)
		}
	}
	out := mustRun(t, h, encodedPS(`Test-Path -Path 'HKLM:\SYSTEM\CurrentControlSet\Services\Fax'`), 0)
	if strings.TrimSpace(out) != "True" {
		t.Errorf("Test-Path of the Fax key: got %q; want True", out)
	}
	v, ok := h.RegistryValue(servicesKey+`\Fax`, "ImagePath")
	if !ok || v.Str != `%systemroot%\system32\fxssvc.exe` {
		t.Errorf("got Fax ImagePath %q; want the catalog's convention", v.Str)
	}
}
