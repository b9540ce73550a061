package sim

import (
	"strings"
	"testing"

	"github.com/svcharness/svcharness/telemetry"
)

func TestRegCommands(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	const key = `HKLM\SYSTEM\CurrentControlSet\Services\W64Time\Parameters`
	mustRun(t, h, `reg.exe add "`+key+`" /v ServiceDll /t REG_EXPAND_SZ /d `+
		`"%systemroot%\system32\w64time.dll" /f`, 0)
	mustRun(t, h, `reg add "HKLM\Software\Microsoft\Windows NT\CurrentVersion\Svchost" `+
		`/v TimeService /t REG_MULTI_SZ /d "W64Time" /f`, 0)
	out := mustRun(t, h, `reg query "`+key+`" /v ServiceDll`, 0)
	want := "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\W64Time\\Parameters" +
		"\r\n    ServiceDll    REG_EXPAND_SZ    C:\\Windows\\system32\\w64time.dll\r\n\r\n"
	if out != want {
		t.Errorf("got %q; want %q", out, want)
	}
	var dll bool
	for _, r := range records(h, telemetry.ChannelSysmon, 13) {
		dll = dll || (r.Get("TargetObject") ==
			`HKLM\System\CurrentControlSet\Services\W64Time\Parameters\ServiceDll` &&
			strings.HasSuffix(r.Get("Image"), `\reg.exe`))
	}
	if !dll {
		t.Error("got no Sysmon 13 ServiceDll by reg.exe")
	}
	mustRun(t, h, `reg delete "`+key+`" /v ServiceDll /f`, 0)
	mustRun(t, h, `reg delete "`+key+`" /v ServiceDll /f`, 1)
	mustRun(t, h, `reg delete "HKLM\SYSTEM\CurrentControlSet\Services\W64Time" /f`, 0)
	mustRun(t, h, `reg query "HKLM\SYSTEM\CurrentControlSet\Services\W64Time"`, 1)
	code, _, errs := run(h, adminSession, `reg add BOGUS\Key /f`)
	if code != 1 || !strings.Contains(errs, "ERROR: Invalid key name.") {
		t.Errorf("got %d %q; want 1 and invalid key name", code, errs)
	}
}

func TestSCDescriptionFailureAndQC(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, `sc.exe create test_service binPath= "C:\Program Files\app\my app.exe" `+
		`DisplayName= "Test Service" start= auto obj= LocalSystem`, 0)
	mustRun(t, h, `sc.exe description test_service "Run ID 42"`, 0)
	mustRun(t, h, `sc.exe failure test_service reset= 86400 actions= run/60000 `+
		`command= c:\windows\system32\net.exe`, 0)
	out := mustRun(t, h, "sc.exe qc test_service", 0)
	for _, want := range []string{"START_TYPE         : 2   AUTO_START",
		`BINARY_PATH_NAME   : C:\Program Files\app\my app.exe`,
		"DISPLAY_NAME       : Test Service"} {
		if !strings.Contains(out, want) {
			t.Errorf("got qc %q; want %q", out, want)
		}
	}
	v, ok := h.RegistryValue(servicesKey+`\test_service`, "FailureCommand")
	if !ok || v.Str != `c:\windows\system32\net.exe` {
		t.Errorf("got FailureCommand %+v, %v", v, ok)
	}
	fa, ok := h.RegistryValue(servicesKey+`\test_service`, "FailureActions")
	if !ok || !strings.HasPrefix(fa.Str, "80510100") {
		t.Errorf("got FailureActions %q; want a reset period of 86400 first", fa.Str)
	}
	out = mustRun(t, h, "sc.exe queryex Spooler", 0)
	if !strings.Contains(out, "PID                : ") || !strings.Contains(out, "4  RUNNING") {
		t.Errorf("got queryex %q", out)
	}
}
