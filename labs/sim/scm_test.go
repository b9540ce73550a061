package sim

import (
	"strings"
	"testing"

	"github.com/svcharness/svcharness/telemetry"
)

func TestSCErrorCodes(t *testing.T) {
	tests := []struct {
		name  string
		setup []string
		line  string
		code  int
		text  string
	}{
		{"query missing", nil, "sc.exe query NoSuchSvc", 1060,
			"[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n\r\n" +
				"The specified service does not exist as an installed service."},
		{"start missing", nil, "sc.exe start NoSuchSvc", 1060,
			"[SC] OpenService FAILED 1060:"},
		{"create twice", []string{`sc.exe create Dup binPath= C:\Windows\System32\calc.exe`},
			`sc.exe create Dup binPath= C:\Windows\System32\calc.exe`, 1073,
			"[SC] CreateService FAILED 1073:\r\n\r\nThe specified service already exists."},
		{"start running", nil, "sc.exe start Spooler", 1056,
			"An instance of the service is already running."},
		{"stop stopped", nil, "sc.exe stop Fax", 1062, "[SC] ControlService FAILED 1062:"},
		{"start disabled", []string{"sc.exe config Fax start= disabled"}, "sc.exe start Fax",
			1058, "either because it is disabled"},
		{"missing binary", []string{`sc.exe create Gone binPath= C:\nope\gone.exe`},
			"sc.exe start Gone", 2, "The system cannot find the file specified."},
		{"cmd payload", []string{`sc.exe create Pay binPath= "cmd.exe /c echo hi"`},
			"sc.exe start Pay", 1053,
			"The service did not respond to the start or control request in a timely fashion."},
		{"marked for deletion", []string{
			`sc.exe create Busy binPath= C:\LabStage\c.exe`, `sc.exe start Busy`,
			"sc.exe delete Busy"}, `sc.exe create Busy binPath= C:\x.exe`, 1072,
			"[SC] CreateService FAILED 1072:\r\n\r\nThe specified service has been marked for deletion."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testLab(t, "WS01").Host("WS01")
			mustRun(t, h, `mkdir C:\LabStage`, 0)
			mustRun(t, h, `echo canary> C:\LabStage\c.exe`, 0)
			h.file(`C:\LabStage\c.exe`).Program = "vendorsvc" // stays running
			for _, s := range tt.setup {
				run(h, adminSession, s)
			}
			code, out, _ := run(h, adminSession, tt.line)
			if code != tt.code {
				t.Errorf("got exit %d; want %d (%s)", code, tt.code, out)
			}
			if !strings.Contains(out, tt.text) {
				t.Errorf("got output %q; want it to contain %q", out, tt.text)
			}
		})
	}
}

func TestSCAccessDeniedForNonAdmin(t *testing.T) {
	l, err := NewLab(LabConfig{Hosts: []HostConfig{{Name: "WS01"}}, Admins: []string{"labadmin"}})
	if err != nil {
		t.Fatal(err)
	}
	user := Session{User: `LAB\alice`, RemoteAddr: "10.10.0.7", ShellID: "u"}
	code, out, _ := run(l.Host("WS01"), user, `sc.exe create X binPath= C:\x.exe`)
	if code != 5 || !strings.Contains(out, "[SC] OpenSCManager FAILED 5:\r\n\r\nAccess is denied.") {
		t.Errorf("got %d %q; want 5 and OpenSCManager access denied", code, out)
	}
	code, _, errs := run(l.Host("WS01"), user, `net stop Spooler`)
	if code != 2 || !strings.Contains(errs, "System error 5 has occurred.") {
		t.Errorf("got %d %q; want 2 and System error 5", code, errs)
	}
}

// The ART T1569.002 #1 flow: the SCM runs the cmd.exe payload, which does
// its work and exits, and the start fails with 1053 as soon as the process
// is gone (the Tchopper recording shows a 7009 every 1.5 s). A program that
// keeps running without reporting holds the start for the full 30 s.
func TestServiceWithShellPayloadRunsThenFails1053(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, `sc.exe create ARTService binPath= "%COMSPEC% /c powershell.exe -nop -w`+
		` hidden -command New-Item -ItemType File C:\art-marker.txt"`, 0)
	before := h.Now()
	mustRun(t, h, "sc.exe start ARTService", 1053)
	if d := h.Now().Sub(before); d >= serviceStartTimeout/2 {
		t.Errorf("got %v of host time for the failed start; want the payload's exit to "+
			"end it early", d)
	}
	mustRun(t, h, `sc.exe create Calc binPath= C:\Windows\System32\calc.exe`, 0)
	before = h.Now()
	mustRun(t, h, "sc.exe start Calc", 1053)
	if d := h.Now().Sub(before); d < serviceStartTimeout {
		t.Errorf("got %v for a program that keeps running; want the %v timeout", d,
			serviceStartTimeout)
	}
	timeouts := records(h, telemetry.ChannelSystem, 7009)
	failures := records(h, telemetry.ChannelSystem, 7000)
	if len(timeouts) != 2 || len(failures) != 2 || failures[0].Get("param2") != "%%1053" {
		t.Errorf("got %d 7009 and %d 7000; want 2 each with %%%%1053", len(timeouts),
			len(failures))
	}
	if _, ok := h.ReadFile(`C:\art-marker.txt`); !ok {
		t.Error("got no marker file; want the payload to have run before the timeout")
	}
	var cmdFromServices bool
	for _, r := range records(h, telemetry.ChannelSysmon, 1) {
		if strings.HasSuffix(r.Get("ParentImage"), `services.exe`) &&
			strings.HasSuffix(r.Get("Image"), `cmd.exe`) && r.Get("User") == `NT AUTHORITY\SYSTEM` {
			cmdFromServices = true
		}
	}
	if !cmdFromServices {
		t.Error("got no Sysmon 1 services.exe -> cmd.exe as SYSTEM")
	}
	if s, _ := h.ServiceInfo("ARTService"); s.State != stateStopped {
		t.Errorf("got state %d after the failed start; want stopped", s.State)
	}
}

func TestRegistryWriterIsServicesOrTheTool(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, `sc.exe create calcservice binpath= "%windir%\system32\calc.exe"`, 0)
	mustRun(t, h, `reg.exe add "HKLM\SYSTEM\CurrentControlSet\Services\calcservice" /f`+
		` /v ImagePath /d "%windir%\system32\cmd.exe"`, 0)
	var writers []string
	for _, r := range records(h, telemetry.ChannelSysmon, 13) {
		if strings.HasSuffix(r.Get("TargetObject"), `\calcservice\ImagePath`) {
			writers = append(writers, baseName(r.Get("Image"))+"="+r.Get("Details"))
		}
	}
	want := []string{`services.exe=C:\Windows\system32\calc.exe`,
		`reg.exe=C:\Windows\system32\cmd.exe`}
	if strings.Join(writers, "|") != strings.Join(want, "|") {
		t.Errorf("got ImagePath writers %q; want %q", writers, want)
	}
	// The SCM reads the image path from the key when it starts the service.
	mustRun(t, h, "sc.exe start calcservice", 1053)
	var started string
	for _, r := range records(h, telemetry.ChannelSysmon, 1) {
		if strings.HasSuffix(r.Get("ParentImage"), `\services.exe`) {
			started = r.Get("CommandLine")
		}
	}
	if started != `C:\Windows\system32\cmd.exe` {
		t.Errorf("got services.exe child %q; want the ImagePath reg.exe wrote", started)
	}
}

func TestRegistryOnlyServiceAppearsAfterReboot(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	script := `$k = 'HKLM:\SYSTEM\CurrentControlSet\Services\RegOnly'
New-Item -Path $k -Force | Out-Null
New-ItemProperty -Path $k -Name ImagePath -PropertyType ExpandString -Value 'C:\x.exe' | Out-Null
New-ItemProperty -Path $k -Name Start -PropertyType DWord -Value 2 | Out-Null`
	mustRun(t, h, encodedPS(script), 0)
	if len(records(h, telemetry.ChannelSystem, 7045)) != 0 {
		t.Error("got a 7045 for a registry-only service; want none")
	}
	var byPowerShell int
	for _, id := range []uint32{12, 13} {
		for _, r := range records(h, telemetry.ChannelSysmon, id) {
			if strings.Contains(r.Get("TargetObject"), `\Services\RegOnly`) &&
				strings.HasSuffix(r.Get("Image"), `powershell.exe`) {
				byPowerShell++
			}
		}
	}
	if byPowerShell != 3 {
		t.Errorf("got %d Sysmon 12/13 by powershell.exe; want 3 (key, ImagePath, Start)",
			byPowerShell)
	}
	if _, ok := h.ServiceInfo("RegOnly"); ok {
		t.Error("got the SCM knowing RegOnly before a reboot")
	}
	h.Reboot()
	if s, ok := h.ServiceInfo("RegOnly"); !ok || s.Start != startAuto {
		t.Errorf("got %+v, %v after reboot; want an auto-start service", s, ok)
	}
}

func TestDeleteWhileRunningSetsDeleteFlagAndRemovesOnStop(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, `msiexec /i C:\LabTools\HarnessLabAgent.msi /qn`, 0)
	mustRun(t, h, "sc.exe delete HarnessLabAgent", 0)
	if s, ok := h.ServiceInfo("HarnessLabAgent"); !ok || !s.DeletePending {
		t.Fatalf("got %+v, %v; want the running service marked for deletion", s, ok)
	}
	mustRun(t, h, "sc.exe start HarnessLabAgent", 1072)
	mustRun(t, h, "sc.exe stop HarnessLabAgent", 0)
	if _, ok := h.ServiceInfo("HarnessLabAgent"); ok {
		t.Error("got the service still present after it stopped; want it deleted")
	}
	mustRun(t, h, "sc.exe query HarnessLabAgent", 1060)
}

func TestConfigStartTypeLogs7040(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, "sc.exe config BITS start= auto", 0)
	recs := records(h, telemetry.ChannelSystem, 7040)
	if len(recs) != 1 {
		t.Fatalf("got %d 7040; want 1", len(recs))
	}
	got := []string{recs[0].Get("param1"), recs[0].Get("param2"), recs[0].Get("param3"),
		recs[0].Get("param4")}
	want := []string{"Background Intelligent Transfer Service", "demand start",
		"auto start", "BITS"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got 7040 params %q; want %q", got, want)
	}
}

func TestNetStartSpawnsNet1AndLogs7036(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	out := mustRun(t, h, "net stop spooler", 0)
	if !strings.Contains(out, "The Print Spooler service was stopped successfully.") {
		t.Errorf("got %q", out)
	}
	mustRun(t, h, "net start spooler", 0)
	var net1 int
	for _, r := range records(h, telemetry.ChannelSysmon, 1) {
		if strings.HasSuffix(r.Get("Image"), "net1.exe") &&
			strings.HasSuffix(r.Get("ParentImage"), `net.exe`) {
			net1++
		}
	}
	if net1 != 2 {
		t.Errorf("got %d net.exe -> net1.exe; want 2", net1)
	}
	var states []string
	for _, r := range records(h, telemetry.ChannelSystem, 7036) {
		states = append(states, r.Get("param1")+" "+r.Get("param2"))
	}
	want := "Print Spooler stopped|Print Spooler running"
	if strings.Join(states, "|") != want {
		t.Errorf("got 7036 %q; want %q", states, want)
	}
}

func TestServiceInstallNeedsAudit4697(t *testing.T) {
	l, err := NewLab(LabConfig{Hosts: []HostConfig{{Name: "WS01",
		Sensors: SensorConfig{No4697: true, NoSysmon: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	h := l.Host("WS01")
	mustRun(t, h, `sc.exe create Quiet binPath= C:\x.exe`, 0)
	if n := len(records(h, telemetry.ChannelSecurity, 4697)); n != 0 {
		t.Errorf("got %d 4697 with the subcategory off; want 0", n)
	}
	if n := len(records(h, telemetry.ChannelSystem, 7045)); n != 1 {
		t.Errorf("got %d 7045; want 1", n)
	}
	if n := len(h.Events(Filter{Channels: []string{telemetry.ChannelSysmon}})); n != 0 {
		t.Errorf("got %d Sysmon events without Sysmon; want 0", n)
	}
	code, _, errs := run(h, adminSession, "wevtutil qe Microsoft-Windows-Sysmon/Operational")
	if code != 15007 || !strings.Contains(errs, "could not be found") {
		t.Errorf("got %d %q; want 15007 channel not found", code, errs)
	}
	out := mustRun(t, h, `auditpol /get /subcategory:"Security System Extension"`, 0)
	if !strings.Contains(out, "Security System Extension               No Auditing") {
		t.Errorf("got %q; want No Auditing", out)
	}
}
