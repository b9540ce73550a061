package correlate

import (
	"encoding/base64"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/svcharness/svcharness/telemetry"
)

// everything reports every incident that raised a signal, so that each
// signal can be seen on its own.
func everything() *Policy {
	p := DefaultPolicy()
	p.MinScore = 1
	return p
}

func TestServiceInstalled(t *testing.T) {
	s := newStream("WS01.lab.local")
	vendor := s.install7045(0, "Vendor Agent", `"C:\Program Files\Vendor\agent.exe" /svc`)
	a := only(t, correlateAll(t, everything(), vendor))
	if !a.HasSignal("service_installed") || a.Score != 10 {
		t.Errorf("got %v score %d; want service_installed alone, score 10", a.Signals, a.Score)
	}
	if got := correlateAll(t, DefaultPolicy(), vendor); len(got) != 0 {
		t.Errorf("got %d alerts for a vendor install at the default threshold; want 0", len(got))
	}
	a = only(t, correlateAll(t, DefaultPolicy(), s.install7045(0, "BTOBTO", comspecLine)))
	if !a.HasSignal("service_installed") || !a.HasSignal("nonstandard_binary") {
		t.Errorf("got %v; want service_installed and nonstandard_binary", a.Signals)
	}
	if a.Score != 10+35+oneLinerBonus || a.Severity != SeverityMedium {
		t.Errorf("got score %d %s; want %d medium for a one-liner install", a.Score, a.Severity,
			10+35+oneLinerBonus)
	}
}

func TestServiceKeyWritten(t *testing.T) {
	tests := []struct {
		name, writer string
		want         bool
	}{
		{"reg.exe", `C:\Windows\System32\reg.exe`, true},
		{"powershell", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, true},
		{"services.exe", servicesExe, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStream("ws01")
			alerts := correlateAll(t, everything(),
				s.reg13(0, tt.writer, svcKey+`calcsvc\ImagePath`, `C:\Program Files\Calc\calc.exe`))
			if got := hasSignal(alerts, ServiceKeyWritten); got != tt.want {
				t.Errorf("got service_key_written=%v; want %v", got, tt.want)
			}
		})
	}
	s := newStream("ws01")
	alerts := correlateAll(t, everything(), s.reg13(0, `C:\Windows\System32\reg.exe`,
		svcKey+`W64Time\Parameters\ServiceDll`, `%systemroot%\system32\w64time.dll`))
	if !hasSignal(alerts, ServiceKeyWritten) {
		t.Errorf("got %v for a ServiceDll write by reg.exe; want service_key_written", alerts)
	}
}

func TestImagePathChanged(t *testing.T) {
	s := newStream("ws01")
	// The same path in Sysmon's doubled-% form is not a change.
	same := correlateAll(t, everything(),
		s.install7045(0, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`),
		s.reg13(time.Second, servicesExe, svcKey+`PSEXESVC\ImagePath`, `%%SystemRoot%%\PSEXESVC.exe`))
	if hasSignal(same, ImagePathChanged) {
		t.Errorf("got image_path_changed for the same path; want none")
	}
	changed := correlateAll(t, everything(),
		s.install7045(0, "Fax", `C:\Windows\system32\fxssvc.exe`),
		s.reg13(time.Second, servicesExe, svcKey+`Fax\ImagePath`,
			`C:\windows\system32\WindowsPowerShell\v1.0\powershell.exe -noexit -c "write-host x"`))
	a := only(t, changed)
	if !a.HasSignal("image_path_changed") || !a.HasSignal("nonstandard_binary") {
		t.Errorf("got %v; want image_path_changed and nonstandard_binary", a.Signals)
	}
	// sc config binPath= with only process telemetry (4688) is a change too.
	cmd := correlateAll(t, DefaultPolicy(), s.proc4688(0, "0x1a0", `C:\Windows\System32\sc.exe`,
		`sc config xboxgip binPath= "C:\windows\system32\pentestlab.exe"`, "0x200", `C:\Windows\System32\cmd.exe`))
	a = only(t, cmd)
	if !a.HasSignal("image_path_changed") || !a.HasSignal("service_control_command") || a.Service != "xboxgip" {
		t.Errorf("got %q %v; want xboxgip with image_path_changed and service_control_command",
			a.Service, a.Signals)
	}
}

func TestParseServiceCommand(t *testing.T) {
	sc, net, reg, ps := `c:\windows\system32\sc.exe`, `c:\windows\system32\net.exe`,
		`c:\windows\system32\reg.exe`, `c:\windows\system32\windowspowershell\v1.0\powershell.exe`
	tests := []struct {
		image, cmd               string
		verb, service, bin, host string
		control                  bool
	}{
		{sc, `sc.exe create ARTService binPath= "%COMSPEC% /c powershell.exe -nop"`, "create",
			"ARTService", "%COMSPEC% /c powershell.exe -nop", "", true},
		{sc, `sc  create hacker-testl3 binPath="3virus.exe"`, "create", "hacker-testl3", "3virus.exe", "", true},
		{sc, `"C:\windows\system32\sc.exe" \\WORKSTATION6 start IKEEXT`, "start", "IKEEXT", "", "WORKSTATION6", true},
		{sc, `sc config RdAgent error= normal`, "config", "RdAgent", "", "", true},
		{sc, `sc failure svc command= c:\windows\system32\net.exe`, "failure", "svc", `c:\windows\system32\net.exe`, "", true},
		{sc, `sc failure svc reset= 0 actions= restart/1000`, "failure-actions", "svc", "", "", false},
		{sc, `sc stop spooler`, "stop", "spooler", "", "", false},
		{net, `net start "Print Spooler"`, "start", "Print Spooler", "", "", true},
		{reg, `reg add "HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\xboxgip" /v ImagePath /t REG_SZ /d "C:\tmp\pentestlab.exe"`,
			"write", "xboxgip", `C:\tmp\pentestlab.exe`, "", true},
		{ps, `powershell New-Service -Name "AtomicTestService_PowerShell" -BinaryPathName "C:\AtomicRedTeam\svc.exe"`,
			"create", "AtomicTestService_PowerShell", `C:\AtomicRedTeam\svc.exe`, "", true},
		{ps, `powershell -c Set-ItemProperty -Path HKLM:\SYSTEM\CurrentControlSet\Services\Evil -Name ImagePath -Value C:\x.exe`,
			"write", "Evil", `C:\x.exe`, "", true},
	}
	enc := utf16le(`New-Service -Name "EncSvc" -BinaryPathName "C:\Users\Public\e.exe"`)
	tests = append(tests, struct {
		image, cmd               string
		verb, service, bin, host string
		control                  bool
	}{ps, `powershell.exe -NoProfile -EncodedCommand ` + enc, "create", "EncSvc",
		`C:\Users\Public\e.exe`, "", true})
	for _, tt := range tests {
		c, ok := parseServiceCommand(tt.image, tt.cmd)
		if !ok || c.verb != tt.verb || c.service != tt.service || c.binPath != tt.bin ||
			c.host != tt.host || c.control() != tt.control {
			t.Errorf("parse %q: got %+v ok=%v control=%v; want verb %s service %s bin %q host %q control %v",
				tt.cmd, c, ok, c.control(), tt.verb, tt.service, tt.bin, tt.host, tt.control)
		}
	}
	for _, cmd := range []string{`sc query spooler`, `sc qc spooler`, `net use \\h\c$`, `reg query HKLM\x`} {
		img := map[byte]string{'s': sc, 'n': net, 'r': reg}[cmd[0]]
		if c, ok := parseServiceCommand(img, cmd); ok && c.control() {
			t.Errorf("parse %q: got control command %+v; want none", cmd, c)
		}
	}
}

func TestServiceControlCommandOnly4688(t *testing.T) {
	s := newStream("FS03.offsec.lan")
	a := only(t, correlateAll(t, DefaultPolicy(), s.proc4688(0, "0x5f0", `C:\Windows\System32\sc.exe`,
		`sc  create hacker-testl3 binPath="3virus.exe"`, "0x200", "")))
	if !a.HasSignal("service_control_command") || !a.HasSignal("nonstandard_binary") {
		t.Errorf("got %v; want service_control_command and nonstandard_binary", a.Signals)
	}
}

// servicesChildAt installs a service at 0 and starts its binary under
// services.exe at d.
func servicesChildAt(t *testing.T, d time.Duration) []Alert {
	s := newStream("ws01")
	return correlateAll(t, everything(),
		s.install7045(0, "Updater", `C:\ProgramData\upd\updater.exe -k`),
		s.proc1(d, "{22222222-2222-2222-2222-222222222222}", `C:\ProgramData\upd\updater.exe`,
			`C:\ProgramData\upd\updater.exe -k`, servicesGUID, servicesExe))
}

func TestServicesChildWindowEdges(t *testing.T) {
	w := DefaultWindow
	tests := []struct {
		name string
		at   time.Duration
		want bool
	}{
		{"immediately", 50 * time.Millisecond, true},
		{"exactly at the window", w, true},
		{"just past the window", w + time.Nanosecond, false},
		{"before the install, within clock skew", -time.Second, true},
		{"long before the install", -time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts := servicesChildAt(t, tt.at)
			if got := hasSignal(alerts, ServicesChild); got != tt.want {
				t.Errorf("child at %s: got services_child=%v; want %v", tt.at, got, tt.want)
			}
			if got := hasSignal(alerts, RapidExecution); got != tt.want {
				t.Errorf("child at %s: got rapid_execution=%v; want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestNonstandardBinary(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{`"C:\Program Files\VMware\VMware Tools\vmtoolsd.exe"`, false},
		{`%SystemRoot%\system32\svchost.exe -k print`, false},
		{`C:\Windows\system32\svchost.exe -k UnistackSvcGroup`, false},
		{`\SystemRoot\System32\drivers\WUDFRd.sys`, false},
		{`C:\Windows\SysWOW64\Macromed\Flash\FlashPlayerUpdateService.exe`, false},
		{`%SystemRoot%\PSEXESVC.exe`, false},
		{`C:\Windows\Sysmon.exe`, false},
		{`%COMSPEC% /C start /b powershell -noP -sta -w 1 -enc SQBmACgA`, true},
		{`cmd.exe /k tscon 2 /dest:rdp-tcp#5`, true},
		{`c:\windows\system32\cmd.exe /c powershell -command "Get-Service"`, true},
		{`powershell.exe -nop -w hidden -c iex`, true},
		{`cmd.exe`, true},
		{`calc.exe`, true},
		{`virusé.exe`, true},
		{`"C:\Users\IEUser\Desktop\info.rar\jjs.exe"`, true},
		{`C:\Users\Public\s4ndc4t.exe -server x`, true},
		{`C:\Windows\Temp\x.exe`, true},
		{`C:\ProgramData\evil\svc.exe`, true},
		{`\\10.0.0.5\ADMIN$\svc.exe`, true},
		{`D:\Service\test.exe`, true},
		{`C:\tmp\pentestlab.exe`, true},
		{`C:\Windows\svchost.exe`, true},
		{`C:\Windows\WinSxS\x86_microsoft-windows-errorreportingfaults_31bf3856ad364e35_4.0.9600.16384_none_a13f7e283339a050\WerFault.exe`, true},
		{`c:\Windows\System32\svchost.exe -k TimeService`, true},
		{`%systemroot%\xKqZpWmn.exe`, true},
		{`%systemroot%\HelpPane.exe`, false},
	}
	for _, tt := range tests {
		got := nonstandard(tt.path, nil)
		if (len(got) > 0) != tt.want {
			t.Errorf("nonstandard(%q): got %q; want flagged=%v", tt.path, got, tt.want)
		}
	}
}

func TestRandomLooking(t *testing.T) {
	for name, want := range map[string]bool{
		"iOWamcEn": true, "KgXItsbKgTJzdzwl": true, "PGUJLOAKFQFVOMHGFQPX": true, "sDKj": true,
		"PSEXESVC": false, "BTOBTO": false, "WpnUserService": false, "CDPUserSvc": false,
		"gupdatem": false, "WaaSMedicSvc": false, "AppXSvc": false, "MpKsl34afefd5": false,
		"Updater": false, "WinRM": false, "iphlpsvc": false, "Sysmon": false,
	} {
		if got := randomLooking(name); got != want {
			t.Errorf("randomLooking(%q): got %v; want %v", name, got, want)
		}
	}
}

func TestSvchostGroupDefinedJustNow(t *testing.T) {
	s := newStream("ws01")
	reg := `C:\Windows\System32\reg.exe`
	a := only(t, correlateAll(t, DefaultPolicy(),
		s.proc4688(0, "0x10", reg, `reg add "HKLM\Software\Microsoft\Windows NT\CurrentVersion\Svchost" /v netsvcs /t REG_MULTI_SZ /d W64Time /f`, "0x20", `C:\Windows\System32\cmd.exe`),
		s.install4697(time.Second, "W64Time", `c:\Windows\System32\svchost.exe -k netsvcs`, 0x55),
		s.reg13(2*time.Second, reg, svcKey+`W64Time\Parameters\ServiceDll`, `%systemroot%\system32\w64time.dll`)))
	if !a.HasSignal("nonstandard_binary") || !a.HasSignal("service_key_written") {
		t.Errorf("got %v; want nonstandard_binary (group defined just now) and service_key_written", a.Signals)
	}
}

// startStop installs at 0, runs at run and stops at stop (negative: never).
func startStop(t *testing.T, run, stop time.Duration) []Alert {
	s := newStream("jump01")
	events := []*telemetry.Event{s.install7045(0, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`)}
	if run >= 0 {
		events = append(events, s.state(run, "PSEXESVC", "running"))
	}
	if stop >= 0 {
		events = append(events, s.state(stop, "PSEXESVC", "stopped"))
	}
	return correlateAll(t, everything(), events...)
}

func TestRapidExecutionWindowEdges(t *testing.T) {
	w := DefaultWindow
	for _, tt := range []struct {
		run  time.Duration
		want bool
	}{{20 * time.Millisecond, true}, {w, true}, {w + time.Nanosecond, false}} {
		if got := hasSignal(startStop(t, tt.run, -1), RapidExecution); got != tt.want {
			t.Errorf("running at %s: got rapid_execution=%v; want %v", tt.run, got, tt.want)
		}
	}
}

func TestTransientServiceWindowEdges(t *testing.T) {
	w := DefaultWindow
	for _, tt := range []struct {
		stop time.Duration
		want bool
	}{{time.Second, true}, {time.Second + w, true}, {time.Second + w + time.Nanosecond, false}} {
		if got := hasSignal(startStop(t, time.Second, tt.stop), TransientService); got != tt.want {
			t.Errorf("stopped at %s: got transient_service=%v; want %v", tt.stop, got, tt.want)
		}
	}
	// Deleting the service key soon after the install is transient too.
	s := newStream("ws01")
	alerts := correlateAll(t, everything(), s.install4697(0, "BTOBTO", comspecLine, 0x99),
		s.regDelete(3*time.Second, servicesExe, svcKey+"BTOBTO"))
	if !hasSignal(alerts, TransientService) {
		t.Errorf("got %v; want transient_service for a key deleted 3s after install", alerts)
	}
}

func TestServiceNetworkFromDescendant(t *testing.T) {
	s := newStream("WORKSTATION6")
	child, grandchild := "{33333333-0000-0000-0000-000000000001}", "{33333333-0000-0000-0000-000000000002}"
	ps := `C:\Windows\System32\WindowsPowershell\v1.0\powershell.exe`
	a := only(t, correlateAll(t, DefaultPolicy(),
		s.install7045(0, "Updater", `%COMSPEC% /C start /b `+ps+` -noP -sta -w 1 -enc SQBmACgA`),
		s.proc1(time.Second, child, `C:\Windows\System32\cmd.exe`,
			`C:\Windows\system32\cmd.exe /C start /b `+ps+` -noP -sta -w 1 -enc SQBmACgA`, servicesGUID, servicesExe),
		s.proc1(2*time.Second, grandchild, ps, ps+` -noP -sta -w 1 -enc SQBmACgA`, child,
			`C:\Windows\System32\cmd.exe`),
		s.net3(3*time.Second, grandchild, ps, "10.10.10.5")))
	for _, sig := range []string{"services_child", "service_network", "rapid_execution"} {
		if !a.HasSignal(sig) {
			t.Errorf("got %v; want %s", a.Signals, sig)
		}
	}
	// A connection by an unrelated process is not the service's.
	s = newStream("ws02")
	alerts := correlateAll(t, everything(), s.install7045(0, "Updater", `C:\x\u.exe`),
		s.net3(time.Second, "{44444444-0000-0000-0000-000000000009}", `C:\x\u.exe`, "10.0.0.1"))
	if hasSignal(alerts, ServiceNetwork) {
		t.Errorf("got service_network for an untracked process; want none")
	}
}

func TestPipeService(t *testing.T) {
	tests := []struct {
		pipe, svc, client string
		ok                bool
	}{
		{`\PSEXESVC`, "PSEXESVC", "", true},
		{`\PSEXESVC-WEC01-956-stdin`, "PSEXESVC", "WEC01", true},
		{`\svchost-MSEDGEWIN10-8116-stderr`, "svchost", "MSEDGEWIN10", true},
		{`\my-svc-HOST-12-stdout`, "my-svc", "HOST", true},
		{`\RemCom_communicaton`, "RemComSvc", "", true},
		{`\lsass`, "", "", false},
		{`\wkssvc`, "", "", false},
		{`\x-stdin`, "", "", false},
	}
	for _, tt := range tests {
		svc, client, ok := pipeService(tt.pipe)
		if svc != tt.svc || client != tt.client || ok != tt.ok {
			t.Errorf("pipeService(%q): got %q %q %v; want %q %q %v", tt.pipe, svc, client, ok,
				tt.svc, tt.client, tt.ok)
		}
	}
}

func TestPsexecFamilyRenamedPipes(t *testing.T) {
	s := newStream("MSEDGEWIN10")
	svc := `C:\Windows\svchost.exe`
	a := only(t, correlateAll(t, DefaultPolicy(),
		s.pipe(0, 17, svc, `\svchost`),
		s.pipe(time.Second, 17, svc, `\svchost-MSEDGEWIN10-8116-stdin`),
		s.pipe(time.Second, 18, `C:\Windows\system32\PsExec.exe`, `\svchost-MSEDGEWIN10-8116-stdin`),
		s.pipe(time.Second, 17, svc, `\lsass`)))
	if a.Service != "svchost" || !a.HasSignal("psexec_family") || !a.HasSignal("nonstandard_binary") {
		t.Errorf("got %q %v; want svchost with psexec_family and nonstandard_binary", a.Service, a.Signals)
	}
	// The pipe names the client host: a remote PsExec is T1021.002.
	s = newStream("srv01")
	a = only(t, correlateAll(t, DefaultPolicy(),
		s.install7045(0, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`),
		s.pipe(time.Second, 17, `C:\Windows\PSEXESVC.exe`, `\PSEXESVC-WEC01-956-stdin`)))
	if a.SourceHost != "WEC01" || a.Techniques[len(a.Techniques)-1] != TechniqueAdminShares {
		t.Errorf("got source %q techniques %v; want WEC01 and T1021.002", a.SourceHost, a.Techniques)
	}
}

func TestRemoteOrigin(t *testing.T) {
	tests := []struct {
		name  string
		order func(s *stream) []*telemetry.Event
		want  bool
	}{
		{"logon first", func(s *stream) []*telemetry.Event {
			return []*telemetry.Event{s.logon(0, "3", 0x5d6f2, "10.23.42.22", "WEC01"),
				s.install4697(time.Second, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`, 0x5d6f2)}
		}, true},
		{"logon arrives late", func(s *stream) []*telemetry.Event {
			return []*telemetry.Event{s.install4697(time.Second, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`, 0x5d6f2),
				s.logon(0, "3", 0x5d6f2, "10.23.42.22", "WEC01")}
		}, true},
		{"interactive logon", func(s *stream) []*telemetry.Event {
			return []*telemetry.Event{s.logon(0, "2", 0x5d6f2, "-", "-"),
				s.install4697(time.Second, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`, 0x5d6f2)}
		}, false},
		{"other logon ID", func(s *stream) []*telemetry.Event {
			return []*telemetry.Event{s.logon(0, "3", 0x1234, "10.23.42.22", "WEC01"),
				s.install4697(time.Second, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`, 0x5d6f2)}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := only(t, correlateAll(t, everything(), tt.order(newStream("srvdefender01"))...))
			if got := a.HasSignal("remote_origin"); got != tt.want {
				t.Errorf("got remote_origin=%v; want %v", got, tt.want)
			}
			if tt.want && (a.SourceIP != "10.23.42.22" || a.SourceHost != "WEC01") {
				t.Errorf("got source %q %q; want WEC01 10.23.42.22", a.SourceHost, a.SourceIP)
			}
		})
	}
}

func TestInstallBurst(t *testing.T) {
	burst := func(n int, gap time.Duration) []Alert {
		s := newStream("FS03.offsec.lan")
		var events []*telemetry.Event
		for i := range n {
			name := "seg" + string(rune('A'+i%26)) + string(rune('a'+i/26))
			events = append(events, s.install7045(time.Duration(i)*gap, name,
				`c:\windows\system32\cmd.exe /c powershell -command "Get-Service `+name+`"`))
		}
		return correlateAll(t, DefaultPolicy(), events...)
	}
	got := burst(244, 100*time.Millisecond)
	a := only(t, got)
	if !a.HasSignal("install_burst") || len(a.Services) != 244 {
		t.Errorf("got %v with %d services; want install_burst listing 244", a.Signals, len(a.Services))
	}
	if n := len(burst(DefaultBurstCount-1, time.Second)); n != DefaultBurstCount-1 {
		t.Errorf("below the burst count: got %d alerts; want %d separate", n, DefaultBurstCount-1)
	}
	if hasSignal(burst(DefaultBurstCount, DefaultBurstWindow), InstallBurst) {
		t.Errorf("installs a burst window apart: got install_burst; want none")
	}
}

func TestDisplayNameAndKeyNameJoin(t *testing.T) {
	s := newStream("ws01")
	image := `"C:\Users\Public\svc\agent.exe"`
	a := only(t, correlateAll(t, DefaultPolicy(),
		s.install7045(0, "Friendly Agent Service", image),
		s.install4697(time.Millisecond, "agentsvc", image, 0x42),
		s.state(time.Second, "Friendly Agent Service", "running")))
	if a.Service != "agentsvc" || a.DisplayName != "Friendly Agent Service" {
		t.Errorf("got service %q display %q; want agentsvc / Friendly Agent Service", a.Service, a.DisplayName)
	}
	if !a.HasSignal("rapid_execution") || len(a.Evidence) != 3 {
		t.Errorf("got %v with %d evidence; want rapid_execution and 3 records", a.Signals, len(a.Evidence))
	}
}

func TestMissingLegs(t *testing.T) {
	psexesvc := `C:\Windows\PSEXESVC.exe`
	tests := []struct {
		name   string
		events func(s *stream) []*telemetry.Event
		want   []string
	}{
		{"no 4697 audit: 7045 and Sysmon", func(s *stream) []*telemetry.Event {
			return []*telemetry.Event{s.install7045(0, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`),
				s.proc1(time.Second, "{55555555-0000-0000-0000-000000000001}", psexesvc, psexesvc, servicesGUID, servicesExe)}
		}, []string{"service_installed", "services_child", "psexec_family"}},
		{"no Sysmon: 4697 and 4688 v2", func(s *stream) []*telemetry.Event {
			return []*telemetry.Event{s.install4697(0, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`, 0x3e7),
				s.proc4688(time.Second, "0x1b4", psexesvc, psexesvc, "0x26c", servicesExe)}
		}, []string{"service_installed", "services_child", "psexec_family"}},
		{"old 4688 without ParentProcessName", func(s *stream) []*telemetry.Event {
			return []*telemetry.Event{s.install4697(0, "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`, 0x3e7),
				s.proc4688(time.Second, "0x1b4", psexesvc, psexesvc, "0x26c", "")}
		}, []string{"services_child"}},
		{"Sysmon only: registry and pipes", func(s *stream) []*telemetry.Event {
			return []*telemetry.Event{s.reg13(0, servicesExe, svcKey+`PSEXESVC\ImagePath`, `%%SystemRoot%%\PSEXESVC.exe`),
				s.pipe(time.Second, 17, psexesvc, `\PSEXESVC`)}
		}, []string{"service_installed", "psexec_family", "rapid_execution"}},
		{"child only", func(s *stream) []*telemetry.Event {
			return []*telemetry.Event{s.proc1(0, "{55555555-0000-0000-0000-000000000002}", psexesvc, psexesvc, servicesGUID, servicesExe)}
		}, []string{"psexec_family"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := only(t, correlateAll(t, DefaultPolicy(), tt.events(newStream("srv01"))...))
			for _, sig := range tt.want {
				if !a.HasSignal(sig) {
					t.Errorf("got %v; want %s", a.Signals, sig)
				}
			}
		})
	}
}

func TestOutOfOrderWithinLateness(t *testing.T) {
	s := newStream("ws01")
	install := s.install7045(0, "Updater", `C:\ProgramData\upd\updater.exe`)
	child := s.proc1(10*time.Second, "{66666666-0000-0000-0000-000000000001}", `C:\ProgramData\upd\updater.exe`,
		`C:\ProgramData\upd\updater.exe`, servicesGUID, servicesExe)
	later := s.state(DefaultLateness, "Other", "running") // moves the clock on
	eng := New(DefaultPolicy(), Options{})
	for _, ev := range []*telemetry.Event{child, later, install} {
		eng.Process(ev)
	}
	a := only(t, eng.Close())
	if !a.HasSignal("services_child") || !a.HasSignal("rapid_execution") {
		t.Errorf("got %v; want services_child and rapid_execution from a late install", a.Signals)
	}
	if st := eng.Stats(); st.OutOfOrder != 1 || st.Late != 0 {
		t.Errorf("got out_of_order %d late %d; want 1 and 0", st.OutOfOrder, st.Late)
	}
}

func TestDuplicatesCountOnce(t *testing.T) {
	s := newStream("ws01")
	install := s.install7045(0, "BTOBTO", comspecLine)
	eng := New(DefaultPolicy(), Options{})
	eng.Process(install)
	eng.Process(install)
	a := only(t, eng.Close())
	if len(a.Evidence) != 1 || eng.Stats().Duplicates != 1 {
		t.Errorf("got %d evidence, %d duplicates; want 1 and 1", len(a.Evidence), eng.Stats().Duplicates)
	}
}

func TestLocalTimeJoinsUTC(t *testing.T) {
	s := newStream("WORKSTATION6.theshire.local")
	reg := s.reg13(0, servicesExe, svcKey+`Updater\ImagePath`, `%%COMSPEC%% /C start /b powershell -enc SQB`)
	install := s.install7045(50*time.Millisecond, "Updater", `%COMSPEC% /C start /b powershell -enc SQB`)
	install.Time = install.Time.Add(-4 * time.Hour) // NXLog EventTime: EDT wall clock
	install.TimeSource = telemetry.TimeLocal
	short := s.state(time.Second, "Updater", "running")
	short.Host, short.HostKey = "WORKSTATION6", "workstation6" // the short name of the same host
	a := only(t, correlateAll(t, DefaultPolicy(), reg, install, short))
	if !a.FirstSeen.Equal(t0) || a.LastSeen.Sub(a.FirstSeen) > 2*time.Second {
		t.Errorf("got first %s last %s; want one incident from %s in UTC", a.FirstSeen, a.LastSeen, t0)
	}
	if len(a.Evidence) != 3 || !a.HasSignal("rapid_execution") {
		t.Errorf("got %d evidence %v; want 3 records and rapid_execution", len(a.Evidence), a.Signals)
	}
}

// utf16le encodes a PowerShell script as -EncodedCommand expects.
func utf16le(s string) string {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = append(b, byte(r), byte(r>>8))
	}
	return base64.StdEncoding.EncodeToString(b)
}
