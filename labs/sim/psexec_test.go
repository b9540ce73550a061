package sim

import (
	"slices"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/telemetry"
)

// TestPsExecChainOnTarget drives PsExec from WS01 to WS02 through
// RunCommand and reads the target's logs back the way the harness does
// (Get-WinEvent | ToXml through the project's XML decoder).
func TestPsExecChainOnTarget(t *testing.T) {
	l := testLab(t, "WS01", "WS02")
	src, dst := l.Host("WS01"), l.Host("WS02")
	code, out, errs := run(src, adminSession,
		`C:\LabTools\PsExec.exe \\WS02 -accepteula -s cmd.exe /c echo run-4f2a`)
	if code != 0 || strings.TrimSpace(out) != "run-4f2a" {
		t.Fatalf("got exit %d, stdout %q; want 0 and the remote echo", code, out)
	}
	if !strings.Contains(errs, "cmd.exe exited on WS02 with error code 0.") {
		t.Errorf("got stderr %q; want PsExec's exit line", errs)
	}
	evs := targetEvents(t, dst)

	logon := findEvent(t, evs, "Security:4624", func(e *telemetry.Event) bool {
		return e.Value("LogonType") == "3" && e.Value("IpAddress") == src.IP()
	})
	for _, want := range []struct{ share, target string }{
		{`\\*\ADMIN$`, "PSEXESVC.exe"}, {`\\*\IPC$`, "svcctl"},
		{`\\*\IPC$`, "PSEXESVC"},
	} {
		findEvent(t, evs, "Security:5145", func(e *telemetry.Event) bool {
			return e.Value("ShareName") == want.share && e.Value("RelativeTargetName") ==
				want.target && e.Value("SubjectLogonId") == logon.Value("TargetLogonId")
		})
	}
	findEvent(t, evs, "Sysmon:11", func(e *telemetry.Event) bool {
		return e.Value("TargetFilename") == `C:\Windows\PSEXESVC.exe`
	})
	install := findEvent(t, evs, "System:7045", func(e *telemetry.Event) bool {
		return e.Value("ServiceName") == "PSEXESVC" &&
			e.Value("ImagePath") == `%SystemRoot%\PSEXESVC.exe`
	})
	if install.UserID != logon.Value("TargetUserSid") {
		t.Errorf("got 7045 UserID %q; want the caller %q", install.UserID,
			logon.Value("TargetUserSid"))
	}
	findEvent(t, evs, "Security:4697", func(e *telemetry.Event) bool {
		return e.Value("ServiceName") == "PSEXESVC" &&
			e.Value("SubjectLogonId") == logon.Value("TargetLogonId")
	})
	findEvent(t, evs, "Sysmon:13", func(e *telemetry.Event) bool {
		return strings.HasSuffix(e.Value("Image"), `\services.exe`) && e.Value("TargetObject") ==
			`HKLM\System\CurrentControlSet\Services\PSEXESVC\ImagePath` &&
			e.Value("Details") == `%%SystemRoot%%\PSEXESVC.exe`
	})
	svc := findEvent(t, evs, "Sysmon:1", func(e *telemetry.Event) bool {
		return e.Value("Image") == `C:\Windows\PSEXESVC.exe` &&
			strings.HasSuffix(e.Value("ParentImage"), `\services.exe`)
	})
	child := findEvent(t, evs, "Sysmon:1", func(e *telemetry.Event) bool {
		return e.Value("ParentProcessGuid") == svc.Value("ProcessGuid")
	})
	if child.Value("User") != `NT AUTHORITY\SYSTEM` || !strings.HasSuffix(child.Value("Image"),
		`\cmd.exe`) {
		t.Errorf("got child %s as %s; want cmd.exe as SYSTEM (-s)", child.Value("Image"),
			child.Value("User"))
	}
	var pipes []string
	for _, e := range evs {
		if e.Key() == "Sysmon:17" && e.Value("ProcessGuid") == svc.Value("ProcessGuid") {
			pipes = append(pipes, e.Value("PipeName"))
		}
	}
	prefix := `\PSEXESVC-WS01-`
	if len(pipes) != 4 || pipes[0] != `\PSEXESVC` {
		t.Fatalf("got pipes %q; want \\PSEXESVC and three stdio pipes", pipes)
	}
	for i, stream := range []string{"stdin", "stdout", "stderr"} {
		if !strings.HasPrefix(pipes[i+1], prefix) || !strings.HasSuffix(pipes[i+1], "-"+stream) {
			t.Errorf("got pipe %q; want %s<pid>-%s", pipes[i+1], prefix, stream)
		}
	}
	deleted := findEvent(t, evs, "Sysmon:12", func(e *telemetry.Event) bool {
		return e.Value("EventType") == "DeleteKey" &&
			e.Value("TargetObject") == `HKLM\System\CurrentControlSet\Services\PSEXESVC`
	})
	if _, ok := dst.ServiceInfo("PSEXESVC"); ok {
		t.Error("got PSEXESVC still installed; want it removed at exit")
	}
	if _, ok := dst.ReadFile(`C:\Windows\PSEXESVC.exe`); ok {
		t.Error("got PSEXESVC.exe still on disk; want it removed at exit")
	}
	assertOrder(t, evs, logon, install, svc, child, deleted)
}

// targetEvents reads all of a host's logs through Get-WinEvent as the
// harness does and decodes them.
func targetEvents(t *testing.T, h *Host) []*telemetry.Event {
	t.Helper()
	script := "Get-WinEvent -FilterHashtable @{LogName='Security','System'," +
		"'Microsoft-Windows-Sysmon/Operational'} -Oldest | % { $_.ToXml() }"
	out := mustRun(t, h, encodedPS(script), 0)
	return decodeXML(t, "Get-WinEvent", out)
}

func findEvent(t *testing.T, evs []*telemetry.Event, key string,
	match func(*telemetry.Event) bool) *telemetry.Event {
	t.Helper()
	for _, e := range evs {
		if e.Key() == key && match(e) {
			return e
		}
	}
	t.Fatalf("got no matching %s among %d events", key, len(evs))
	return nil
}

// assertOrder checks that the events appear in this order.
func assertOrder(t *testing.T, evs []*telemetry.Event, chain ...*telemetry.Event) {
	t.Helper()
	var pos []int
	for _, e := range chain {
		pos = append(pos, slices.Index(evs, e))
	}
	if !slices.IsSorted(pos) {
		t.Errorf("got chain positions %v; want increasing", pos)
	}
}

func TestPsExecOptions(t *testing.T) {
	tests := []struct {
		name, line string
		code       int
		stderr     string
	}{
		{"renamed", `C:\LabTools\PsExec.exe \\WS02 -accepteula -r AdmSvc cmd /c exit 3`, 3,
			"cmd exited on WS02 with error code 3."},
		{"no eula", `C:\LabTools\PsExec.exe \\WS02 whoami`, -1, "You must accept EULA"},
		{"unknown host", `C:\LabTools\PsExec.exe \\NOPE -accepteula whoami`, 53,
			"The network path was not found."},
		{"missing program", `C:\LabTools\PsExec.exe \\WS02 -accepteula nothere.exe`, 2,
			"PsExec could not start nothere.exe on WS02"},
		{"local system", `C:\LabTools\PsExec.exe -accepteula -i -s cmd`, 0,
			"cmd exited on WS01 with error code 0."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLab(t, "WS01", "WS02")
			code, _, errs := run(l.Host("WS01"), adminSession, tt.line)
			if code != tt.code || !strings.Contains(errs, tt.stderr) {
				t.Errorf("got %d %q; want %d and %q", code, errs, tt.code, tt.stderr)
			}
		})
	}
}

func TestPsExecInteractiveSession(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, `C:\LabTools\PsExec64.exe -accepteula -i 2 -s cmd /c exit 0`, 0)
	var session string
	for _, r := range records(h, telemetry.ChannelSysmon, 1) {
		if strings.HasSuffix(r.Get("ParentImage"), `\PSEXESVC.exe`) {
			session = r.Get("TerminalSessionId")
		}
	}
	if session != "2" {
		t.Errorf("got child session %q; want 2 from -i 2", session)
	}
}

func TestPsExecDetachedReturnsPID(t *testing.T) {
	l := testLab(t, "WS01", "WS02")
	code, _, errs := run(l.Host("WS01"), adminSession,
		`C:\LabTools\PsExec.exe \\WS02 -accepteula -d -s C:\Windows\System32\notepad.exe`)
	if code <= 0 || !strings.Contains(errs, "started on WS02 with process ID") {
		t.Fatalf("got %d %q; want the PID as exit code", code, errs)
	}
	found := slices.ContainsFunc(l.Host("WS02").Processes(), func(p Process) bool {
		return int(p.PID) == code && strings.HasSuffix(p.Image, "notepad.exe")
	})
	if !found {
		t.Errorf("got no running notepad.exe with PID %d on WS02", code)
	}
}

func TestRemoteSCCreatesOnTarget(t *testing.T) {
	l := testLab(t, "WS01", "WS02")
	src, dst := l.Host("WS01"), l.Host("WS02")
	mustRun(t, src, `sc.exe \\WS02 create RemoteSvc binPath= C:\Windows\System32\calc.exe`, 0)
	if _, ok := dst.ServiceInfo("RemoteSvc"); !ok {
		t.Fatal("got no RemoteSvc on WS02")
	}
	if _, ok := src.ServiceInfo("RemoteSvc"); ok {
		t.Error("got RemoteSvc on the source host too")
	}
	var sharedSvcctl bool
	for _, r := range records(dst, telemetry.ChannelSecurity, 5145) {
		sharedSvcctl = sharedSvcctl || (r.Get("RelativeTargetName") == "svcctl" &&
			r.Get("IpAddress") == src.IP())
	}
	if !sharedSvcctl {
		t.Error("got no 5145 IPC$ svcctl from the source on the target")
	}
	var toTarget bool
	for _, r := range records(src, telemetry.ChannelSysmon, 3) {
		toTarget = toTarget || (r.Get("DestinationIp") == dst.IP() &&
			r.Get("DestinationPort") == "445" && strings.HasSuffix(r.Get("Image"), "sc.exe"))
	}
	if !toTarget {
		t.Error("got no Sysmon 3 sc.exe -> target:445 on the source")
	}
	mustRun(t, src, `sc.exe \\NOPE query`, 1722)
}

// The Cobalt Strike jump psexec shape: the binary goes through ADMIN$ and
// the service runs it from the UNC path, which is its image name.
func TestServiceFromAdminShareKeepsUNCImage(t *testing.T) {
	l := testLab(t, "WS01", "WS02")
	src, dst := l.Host("WS01"), l.Host("WS02")
	mustRun(t, src, `mkdir C:\LabStage`, 0)
	mustRun(t, src, `echo MZ> C:\LabStage\abc1234.exe`, 0)
	mustRun(t, src, `copy /y C:\LabStage\abc1234.exe \\WS02\ADMIN$\abc1234.exe`, 0)
	if _, ok := dst.ReadFile(`C:\Windows\abc1234.exe`); !ok {
		t.Fatal("got no file in WS02's C:\\Windows after the copy to ADMIN$")
	}
	var bySystem bool
	for _, r := range records(dst, telemetry.ChannelSysmon, 11) {
		bySystem = bySystem || (r.Get("TargetFilename") == `C:\Windows\abc1234.exe` &&
			r.Get("Image") == "System")
	}
	if !bySystem {
		t.Error("got no Sysmon 11 by System for the SMB write")
	}
	mustRun(t, src, `sc.exe \\WS02 create abc1234 binPath= \\WS02\ADMIN$\abc1234.exe`, 0)
	mustRun(t, src, `sc.exe \\WS02 start abc1234`, 0)
	var image string
	for _, r := range records(dst, telemetry.ChannelSysmon, 1) {
		if strings.HasSuffix(r.Get("ParentImage"), `\services.exe`) {
			image = r.Get("Image")
		}
	}
	if image != `\\WS02\ADMIN$\abc1234.exe` {
		t.Errorf("got service image %q; want the UNC path", image)
	}
}
