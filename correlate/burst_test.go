package correlate

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// smbexecSession is impacket's smbexec as of 2025 (scenario
// smbexec-comspec-burst): one random service name for the session, created
// per command with a new %COMSPEC% one-liner, started (services.exe runs
// cmd.exe), deleted, each create from its own network logon of the same
// account and address. ordered false delivers the Security log before the
// System and Sysmon logs, as a reader of saved channel files does.
func smbexecSession(commands int, ordered bool) []*telemetry.Event {
	s := newStream("SRV01")
	const svc = "qPFUUTfa"
	var sec, sys, sysmon []*telemetry.Event
	for i := range commands {
		at := time.Duration(i) * 1500 * time.Millisecond
		logon := uint64(0x49793 + 0x100*i)
		image := fmt.Sprintf(`%%COMSPEC%% /Q /c echo cmd%d `+
			`^> \\SRV01\C$\__output_TTQkTFDv 2^>^&1 > `+
			`%%SYSTEMROOT%%\bat%d.bat & %%COMSPEC%% /Q /c %%SYSTEMROOT%%\bat%d.bat & `+
			`del %%SYSTEMROOT%%\bat%d.bat`, i, i, i, i)
		sec = append(sec, s.logon(at, "3", logon, "10.10.0.11", "WS01"),
			s.install4697(at+3*time.Millisecond, svc, image, logon))
		sys = append(sys, s.install7045(at+3*time.Millisecond, svc, image))
		sysmon = append(sysmon, s.proc1(at+100*time.Millisecond,
			fmt.Sprintf("{00000000-0000-0000-0000-0000000001%02d}", i),
			`C:\Windows\System32\cmd.exe`, strings.ReplaceAll(image, "%COMSPEC%",
				`C:\Windows\system32\cmd.exe`), "{00000000-0000-0000-0000-000000000001}",
			`C:\Windows\System32\services.exe`),
			s.regDelete(at+time.Second, `C:\Windows\system32\services.exe`,
				`HKLM\System\CurrentControlSet\Services\`+svc))
	}
	if !ordered {
		return slices.Concat(sec, sys, sysmon)
	}
	var out []*telemetry.Event
	for i := range commands {
		out = append(out, sec[2*i], sec[2*i+1], sys[i], sysmon[2*i], sysmon[2*i+1])
	}
	return out
}

// TestInstallBurstOneNameManyCreates is the regression test for smbexec's
// burst: six creations of one service name, each from its own logon, are one
// install_burst incident listing the service once, not six alerts and not
// one service incident without install_burst.
func TestInstallBurstOneNameManyCreates(t *testing.T) {
	for _, ordered := range []bool{true, false} {
		t.Run(fmt.Sprintf("ordered=%v", ordered), func(t *testing.T) {
			a := only(t, correlateAll(t, nil, smbexecSession(6, ordered)...))
			if !slices.Contains(a.Signals, InstallBurst.String()) {
				t.Fatalf("got signals %v; want install_burst", a.Signals)
			}
			if got, want := a.Service, "burst of 6 installs of 1 service"; got != want {
				t.Errorf("got service %q; want %q", got, want)
			}
			if !slices.Equal(a.Services, []string{"qPFUUTfa"}) {
				t.Errorf("got services %q; want [qPFUUTfa]", a.Services)
			}
			if a.SourceIP != "10.10.0.11" {
				t.Errorf("got source IP %q; want 10.10.0.11", a.SourceIP)
			}
		})
	}
}

// TestInstallBurstCountsPerOrigin: installs from two sources (or two
// accounts) do not add up to one burst.
func TestInstallBurstCountsPerOrigin(t *testing.T) {
	events := smbexecSession(DefaultBurstCount-1, true)
	s := newStream("SRV01")
	image := `%COMSPEC% /Q /c echo x ^> \\SRV01\C$\__output 2^>^&1 > %SYSTEMROOT%\other.bat`
	events = append(events, s.logon(30*time.Second, "3", 0x99999, "10.10.0.99", "WS99"),
		s.install4697(30*time.Second, "XyZwAbCd", image, 0x99999))
	if alerts := correlateAll(t, nil, events...); hasSignal(alerts, InstallBurst) {
		t.Errorf("got install_burst from %d + 1 installs of two sources; want none",
			DefaultBurstCount-1)
	}
}
