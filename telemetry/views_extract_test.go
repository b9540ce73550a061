package telemetry

import (
	"reflect"
	"strings"
	"testing"
)

// The events below copy their fields from records in ../shared/datasets; each
// test names the recording.

// event builds an Event from name, value pairs.
func event(channel, provider string, id uint32, version uint8, pairs ...string) *Event {
	e := &Event{Channel: channel, Provider: provider, EventID: id, Version: version}
	for i := 0; i+1 < len(pairs); i += 2 {
		e.Fields = append(e.Fields, Field{Name: pairs[i], Value: pairs[i+1]})
	}
	return e
}

const (
	secProvider = "Microsoft-Windows-Security-Auditing"
	sysmonProv  = "Microsoft-Windows-Sysmon"
)

func TestProcessCreateSysmon(t *testing.T) {
	// Mordor empire_psexec (NXLog flattened): services.exe starting svchost.
	e := event(ChannelSysmon, sysmonProv, 1, 5,
		"RuleName", "-",
		"UtcTime", "2020-09-22 03:29:32.872",
		"ProcessGuid", "{b34bc01c-6f9c-5f69-fe01-000000000900}",
		"ProcessId", "6100",
		"Image", `C:\Windows\System32\svchost.exe`,
		"CommandLine", `C:\windows\system32\svchost.exe -k appmodel -p -s camsvc`,
		"User", `NT AUTHORITY\SYSTEM`,
		"LogonId", "0x3e7",
		"IntegrityLevel", "System",
		"ParentProcessGuid", "{b34bc01c-226a-5f69-0b00-000000000900}",
		"ParentProcessId", "704",
		"ParentImage", `C:\Windows\System32\services.exe`,
		"ParentCommandLine", `C:\windows\system32\services.exe`)
	got, ok := e.ProcessCreate()
	want := ProcessCreate{
		ProcessGUID:       "{B34BC01C-6F9C-5F69-FE01-000000000900}",
		PID:               6100,
		Image:             `C:\Windows\System32\svchost.exe`,
		ImageKey:          `c:\windows\system32\svchost.exe`,
		CommandLine:       `C:\windows\system32\svchost.exe -k appmodel -p -s camsvc`,
		ParentGUID:        "{B34BC01C-226A-5F69-0B00-000000000900}",
		ParentPID:         704,
		ParentImage:       `C:\Windows\System32\services.exe`,
		ParentImageKey:    `c:\windows\system32\services.exe`,
		ParentKnown:       true,
		ParentCommandLine: `C:\windows\system32\services.exe`,
		User:              `NT AUTHORITY\SYSTEM`,
		LogonID:           0x3e7,
		IntegrityLevel:    "System",
	}
	checkView(t, "ProcessCreate", got, ok, want)
}

func TestProcessCreateSysmonUnknownParent(t *testing.T) {
	// MANIFEST pitfall 4: ParentImage "-" with a zero ParentProcessGuid.
	for _, parent := range []string{"-", "?"} {
		e := event(ChannelSysmon, sysmonProv, 1, 5,
			"ProcessGuid", "{94F748D5-D211-597D-0000-00109BD2C107}",
			"ProcessId", "436",
			"Image", `C:\Windows\PSEXESVC.exe`,
			"ParentProcessGuid", "{00000000-0000-0000-0000-000000000000}",
			"ParentProcessId", "0",
			"ParentImage", parent)
		got, ok := e.ProcessCreate()
		if !ok || got.ParentKnown || got.ParentImage != "" || got.ParentImageKey != "" ||
			got.ParentGUID != "" {
			t.Errorf("ProcessCreate() with ParentImage %q = %+v, %v; want an unknown parent",
				parent, got, ok)
		}
	}
}

func TestProcessCreateSecurityV2(t *testing.T) {
	// EVTX-to-MITRE-Attack "PSexec remote execution + admin share", 4688 v2.
	e := event(ChannelSecurity, secProvider, 4688, 2,
		"SubjectUserSid", "S-1-5-18",
		"SubjectUserName", "SRVDEFENDER01$",
		"SubjectDomainName", "OFFSEC",
		"SubjectLogonId", "0x00000000000003e7",
		"NewProcessId", "0x0000000000000c24",
		"NewProcessName", `C:\Windows\PSEXESVC.exe`,
		"TokenElevationType", "%%1936",
		"ProcessId", "0x0000000000000238",
		"CommandLine", `C:\Windows\PSEXESVC.exe`,
		"TargetUserSid", "S-1-0-0",
		"TargetUserName", "-",
		"TargetDomainName", "-",
		"TargetLogonId", "0x0000000000000000",
		"ParentProcessName", `C:\Windows\System32\services.exe`,
		"MandatoryLabel", "S-1-16-16384")
	got, ok := e.ProcessCreate()
	want := ProcessCreate{
		PID:            0xc24,
		Image:          `C:\Windows\PSEXESVC.exe`,
		ImageKey:       `c:\windows\psexesvc.exe`,
		CommandLine:    `C:\Windows\PSEXESVC.exe`,
		ParentPID:      0x238,
		ParentImage:    `C:\Windows\System32\services.exe`,
		ParentImageKey: `c:\windows\system32\services.exe`,
		ParentKnown:    true,
		User:           `OFFSEC\SRVDEFENDER01$`,
		LogonID:        0x3e7,
		IntegrityLevel: "System",
	}
	checkView(t, "ProcessCreate", got, ok, want)
}

func TestProcessCreateSecurityWithoutParentName(t *testing.T) {
	// EVTX-to-MITRE-Attack "Service created (command)": no ParentProcessName.
	e := event(ChannelSecurity, secProvider, 4688, 2,
		"SubjectUserSid", "S-1-5-21-4230534742-2542757381-3142984815-1111",
		"SubjectUserName", "admmig",
		"SubjectDomainName", "OFFSEC",
		"SubjectLogonId", "0x0000000000123550",
		"NewProcessId", "0x000000000000064c",
		"NewProcessName", `C:\Windows\System32\sc.exe`,
		"TokenElevationType", "%%1937",
		"ProcessId", "0x0000000000000408",
		"CommandLine", `sc  create hacker-testl3 binPath="3virus.exe" `,
		"TargetUserSid", "S-1-0-0",
		"TargetUserName", "-",
		"TargetDomainName", "-",
		"TargetLogonId", "0x0000000000000000")
	got, ok := e.ProcessCreate()
	want := ProcessCreate{
		PID:         0x64c,
		Image:       `C:\Windows\System32\sc.exe`,
		ImageKey:    `c:\windows\system32\sc.exe`,
		CommandLine: `sc  create hacker-testl3 binPath="3virus.exe" `,
		ParentPID:   0x408,
		User:        `OFFSEC\admmig`,
		LogonID:     0x123550,
	}
	checkView(t, "ProcessCreate", got, ok, want)
}

func TestProcessCreateSecurityV0(t *testing.T) {
	// The Windows 7 layout: no CommandLine, no Target*, no parent name.
	e := event("security", secProvider, 4688, 0,
		"SubjectUserSid", "S-1-5-18",
		"SubjectUserName", "WIN7$",
		"SubjectDomainName", "LAB",
		"SubjectLogonId", "0x3e7",
		"NewProcessId", "0x9cc",
		"NewProcessName", `C:\Windows\System32\cmd.exe`,
		"TokenElevationType", "%%1936",
		"ProcessId", "0x1f4")
	got, ok := e.ProcessCreate()
	want := ProcessCreate{
		PID: 0x9cc, Image: `C:\Windows\System32\cmd.exe`,
		ImageKey: `c:\windows\system32\cmd.exe`, ParentPID: 0x1f4,
		User: `LAB\WIN7$`, LogonID: 0x3e7,
	}
	checkView(t, "ProcessCreate", got, ok, want)
}

func TestNetworkConnect(t *testing.T) {
	// Mordor empire_psexec, Sysmon 3.
	e := event(ChannelSysmon, sysmonProv, 3, 5,
		"RuleName", "-",
		"UtcTime", "2020-09-20 16:16:56.010",
		"ProcessGuid", "{d273d0f0-e867-5f64-1200-000000000800}",
		"ProcessId", "1200",
		"Image", `C:\Windows\System32\svchost.exe`,
		"User", `NT AUTHORITY\NETWORK SERVICE`,
		"Protocol", "tcp",
		"Initiated", "false",
		"SourceIsIpv6", "false",
		"SourceIp", "172.18.39.5",
		"SourceHostname", "-",
		"SourcePort", "56607",
		"SourcePortName", "-",
		"DestinationIsIpv6", "false",
		"DestinationIp", "172.18.39.6",
		"DestinationHostname", "-",
		"DestinationPort", "135",
		"DestinationPortName", "-")
	got, ok := e.NetworkConnect()
	want := NetworkConnect{
		ProcessGUID: "{D273D0F0-E867-5F64-1200-000000000800}",
		PID:         1200,
		Image:       `C:\Windows\System32\svchost.exe`,
		ImageKey:    `c:\windows\system32\svchost.exe`,
		User:        `NT AUTHORITY\NETWORK SERVICE`,
		Protocol:    "tcp",
		SourceIP:    "172.18.39.5",
		SourcePort:  56607,
		DestIP:      "172.18.39.6",
		DestPort:    135,
	}
	checkView(t, "NetworkConnect", got, ok, want)
}

func TestFileCreate(t *testing.T) {
	// EVTX-to-MITRE-Attack "ID11,13,17,18-PSexec as system execution", shape.
	e := event(ChannelSysmon, sysmonProv, 11, 2,
		"RuleName", "-",
		"UtcTime", "2021-04-21 09:40:32.351",
		"ProcessGuid", "{0A9F8F2E-8A55-607F-0100-000000006E00}",
		"ProcessId", "4",
		"Image", "System",
		"TargetFilename", `C:\Windows\PSEXESVC.exe`,
		"CreationUtcTime", "2021-04-21 09:40:32.351")
	got, ok := e.FileCreate()
	want := FileCreate{
		ProcessGUID:    "{0A9F8F2E-8A55-607F-0100-000000006E00}",
		PID:            4,
		Image:          "System",
		ImageKey:       "system",
		TargetFilename: `C:\Windows\PSEXESVC.exe`,
	}
	checkView(t, "FileCreate", got, ok, want)
}

func TestRegistryEventSysmon(t *testing.T) {
	// Mordor empire_psexec, Sysmon 13 by services.exe (NXLog overwrote
	// EventType with "INFO").
	e := event(ChannelSysmon, sysmonProv, 13, 2,
		"EventType", "INFO",
		"ProcessGuid", "{d273d0f0-e866-5f64-0b00-000000000800}",
		"ProcessId", "704",
		"Image", `C:\windows\system32\services.exe`,
		"TargetObject", `HKLM\System\CurrentControlSet\Services\Updater\ImagePath`,
		"Details", `%%COMSPEC%% /C start /b C:\Windows\System32\WindowsPowershell\v1.0\powershell -noP -sta -w 1 -enc  SQBmACgAJABQAFMAVgBFAHIAUwBpAE8AbgBUAGEAYgBsAEUA`)
	got, ok := e.RegistryEvent()
	want := RegistryEvent{
		EventType:   RegSetValue,
		ProcessGUID: "{D273D0F0-E866-5F64-0B00-000000000800}",
		PID:         704,
		Image:       `C:\windows\system32\services.exe`,
		ImageKey:    `c:\windows\system32\services.exe`,
		Target:      `HKLM\System\CurrentControlSet\Services\Updater\ImagePath`,
		Key:         `hklm\system\currentcontrolset\services\updater\imagepath`,
		Service:     "Updater",
		ValueName:   "ImagePath",
		Details:     `%%COMSPEC%% /C start /b C:\Windows\System32\WindowsPowershell\v1.0\powershell -noP -sta -w 1 -enc  SQBmACgAJABQAFMAVgBFAHIAUwBpAE8AbgBUAGEAYgBsAEUA`,
	}
	checkView(t, "RegistryEvent", got, ok, want)
}

func TestRegistryEventSysmonCreateKey(t *testing.T) {
	// Mordor (2020-08 flavour) Sysmon 12 with its own EventType.
	e := event(ChannelSysmon, sysmonProv, 12, 2,
		"EventType", "CreateKey",
		"ProcessGuid", "{9f85ce58-59ed-5f2b-4f00-000000000400}",
		"ProcessId", "3596",
		"Image", `C:\windows\system32\DFSRs.exe`,
		"TargetObject", `HKLM\System\CurrentControlSet\Services\DFSR\Parameters\Volumes\20415B9F-0000-0000-0000-501F00000000`)
	got, ok := e.RegistryEvent()
	if !ok || got.EventType != RegCreateKey || got.Service != "DFSR" ||
		got.ValueName != `Parameters\Volumes\20415B9F-0000-0000-0000-501F00000000` {
		t.Errorf("RegistryEvent() = %+v, %v; want CreateKey under service DFSR", got, ok)
	}
}

func TestRegistryEventSecurity4657(t *testing.T) {
	// 4657 field layout with a Mordor ObjectName.
	e := event(ChannelSecurity, secProvider, 4657, 0,
		"SubjectUserSid", "S-1-5-21-4228717743-1032521047-1810997296-1104",
		"SubjectUserName", "pgustavo",
		"SubjectDomainName", "THESHIRE",
		"SubjectLogonId", "0x2990d17",
		"ObjectName", `\REGISTRY\MACHINE\SYSTEM\ControlSet001\Services\Updater`,
		"ObjectValueName", "ImagePath",
		"HandleId", "0x1a4",
		"OperationType", "%%1905",
		"OldValueType", "%%1873",
		"OldValue", `C:\Windows\System32\svchost.exe`,
		"NewValueType", "%%1873",
		"NewValue", `%COMSPEC% /C start /b powershell -noP`,
		"ProcessId", "0x1b8",
		"ProcessName", `C:\Windows\System32\reg.exe`)
	got, ok := e.RegistryEvent()
	want := RegistryEvent{
		EventType: RegSetValue,
		PID:       0x1b8,
		Image:     `C:\Windows\System32\reg.exe`,
		ImageKey:  `c:\windows\system32\reg.exe`,
		Target:    `\REGISTRY\MACHINE\SYSTEM\ControlSet001\Services\Updater\ImagePath`,
		Key:       `hklm\system\currentcontrolset\services\updater\imagepath`,
		Service:   "Updater",
		ValueName: "ImagePath",
		Details:   `%COMSPEC% /C start /b powershell -noP`,
		LogonID:   0x2990d17,
	}
	checkView(t, "RegistryEvent", got, ok, want)
}

func TestRegistryEventIgnoresKernelSystem13(t *testing.T) {
	// system.evtx: System 13 is Microsoft-Windows-Kernel-General, not Sysmon.
	e := event(ChannelSystem, "Microsoft-Windows-Kernel-General", 13, 0,
		"StopTime", "2017-07-24T12:47:57.476Z")
	if got, ok := e.RegistryEvent(); ok {
		t.Errorf("RegistryEvent() of System 13 = %+v, true; want false", got)
	}
}

func TestPipeEvent(t *testing.T) {
	// EVTX-ATTACK-SAMPLES DE_renamed_psexec_service_sysmon_17_18.
	e := event(ChannelSysmon, sysmonProv, 17, 1,
		"RuleName", "",
		"EventType", "CreatePipe",
		"UtcTime", "2020-09-27 13:42:00.713",
		"ProcessGuid", "{747F3D96-96A8-5F70-0000-0010C0F02D00}",
		"ProcessId", "1120",
		"PipeName", `\svchost`,
		"Image", `C:\Windows\svchost.exe`)
	got, ok := e.PipeEvent()
	want := PipeEvent{
		EventType:   PipeCreate,
		ProcessGUID: "{747F3D96-96A8-5F70-0000-0010C0F02D00}",
		PID:         1120,
		Image:       `C:\Windows\svchost.exe`,
		ImageKey:    `c:\windows\svchost.exe`,
		PipeName:    `\svchost`,
	}
	checkView(t, "PipeEvent", got, ok, want)

	// Mordor empire_psexec, Sysmon 18 with NXLog's "INFO" EventType.
	e = event(ChannelSysmon, sysmonProv, 18, 1,
		"EventType", "INFO",
		"ProcessGuid", "{d273d0f0-807e-5f67-ce06-000000000800}",
		"PipeName", `\wkssvc`,
		"Image", `C:\windows\system32\wbem\wmiprvse.exe`)
	if got, ok := e.PipeEvent(); !ok || got.EventType != PipeConnect {
		t.Errorf("PipeEvent() of Sysmon 18 = %+v, %v; want ConnectPipe", got, ok)
	}
}

func TestServiceInstallSystem7045(t *testing.T) {
	// EVTX-to-MITRE-Attack "ID7045-4697-SMBexec service registration".
	e := event(ChannelSystem, "Service Control Manager", 7045, 0,
		"ServiceName", "BTOBTO",
		"ImagePath", `%COMSPEC% /Q /c echo cd  ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat & %COMSPEC% /Q /c %TEMP%\execute.bat & del %TEMP%\execute.bat`,
		"ServiceType", "user mode service",
		"StartType", "demand start",
		"AccountName", "LocalSystem")
	e.UserID = "S-1-5-21-4230534742-2542757381-3142984815-1111"
	got, ok := e.ServiceInstall()
	want := ServiceInstall{
		ServiceName:    "BTOBTO",
		ImagePath:      e.Fields[1].Value,
		ImageKey:       `c:\windows\system32\cmd.exe`,
		ServiceType:    ServiceOwnProcess,
		StartType:      StartDemand,
		Account:        "LocalSystem",
		SubjectUserSID: "S-1-5-21-4230534742-2542757381-3142984815-1111",
	}
	checkView(t, "ServiceInstall", got, ok, want)
}

func TestServiceInstallKernelDriver(t *testing.T) {
	// system.evtx 7045 for a driver: no AccountName.
	e := event(ChannelSystem, "Service Control Manager", 7045, 0,
		"ServiceName", "vsock",
		"ImagePath", `\SystemRoot\system32\DRIVERS\vsock.sys`,
		"ServiceType", "kernel mode driver",
		"StartType", "system start")
	got, ok := e.ServiceInstall()
	if !ok || got.ServiceType != ServiceKernelDriver || got.StartType != StartSystem ||
		got.ImageKey != `c:\windows\system32\drivers\vsock.sys` || got.Account != "" {
		t.Errorf("ServiceInstall() = %+v, %v; want a system-start kernel driver", got, ok)
	}
}

func TestServiceInstallSecurity4697(t *testing.T) {
	// EVTX-to-MITRE-Attack "PSexec remote execution + admin share", 4697 v0.
	e := event(ChannelSecurity, secProvider, 4697, 0,
		"SubjectUserSid", "S-1-5-21-4230534742-2542757381-3142984815-1111",
		"SubjectUserName", "admmig",
		"SubjectDomainName", "OFFSEC",
		"SubjectLogonId", "0x0000000001376020",
		"ServiceName", "PSEXESVC",
		"ServiceFileName", `%SystemRoot%\PSEXESVC.exe`,
		"ServiceType", "0x00000010",
		"ServiceStartType", "3",
		"ServiceAccount", "LocalSystem")
	got, ok := e.ServiceInstall()
	want := ServiceInstall{
		ServiceName:    "PSEXESVC",
		ImagePath:      `%SystemRoot%\PSEXESVC.exe`,
		ImageKey:       `c:\windows\psexesvc.exe`,
		ServiceType:    ServiceOwnProcess,
		StartType:      StartDemand,
		Account:        "LocalSystem",
		SubjectUserSID: "S-1-5-21-4230534742-2542757381-3142984815-1111",
		SubjectUser:    `OFFSEC\admmig`,
		SubjectLogonID: 0x1376020,
	}
	checkView(t, "ServiceInstall", got, ok, want)
}

func TestServiceInstallSecurity4697V1(t *testing.T) {
	// 4697 version 1 (Windows 10 1903+) adds the client process fields; the
	// per-user service values follow OSSEM-DD's event-4697 sample.
	e := event(ChannelSecurity, secProvider, 4697, 1,
		"SubjectUserSid", "S-1-5-18",
		"SubjectUserName", "WORKSTATION5$",
		"SubjectDomainName", "THESHIRE",
		"SubjectLogonId", "0x3e7",
		"ServiceName", "WpnUserService_abae2",
		"ServiceFileName", `C:\Windows\system32\svchost.exe -k UnistackSvcGroup`,
		"ServiceType", "0xe0",
		"ServiceStartType", "2",
		"ServiceAccount", "",
		"ClientProcessStartKey", "844424930132034",
		"ClientProcessId", "704",
		"ParentProcessId", "592",
		"RpcCallClientLocality", "0",
		"FQDN", "WORKSTATION5.theshire.local")
	got, ok := e.ServiceInstall()
	if !ok || got.ServiceType != 0xe0 || got.StartType != StartAuto ||
		got.ClientProcessID != 704 || got.ParentProcessID != 592 ||
		got.ImageKey != `c:\windows\system32\svchost.exe` {
		t.Errorf("ServiceInstall() = %+v, %v; want 0xe0 auto, client 704, parent 592", got, ok)
	}
}

func TestServiceStateChange(t *testing.T) {
	// Mordor empire_psexec, 7036 and 7040.
	e := event(ChannelSystem, "Service Control Manager", 7036, 0,
		"param1", "Network Setup Service",
		"param2", "running")
	got, ok := e.ServiceStateChange()
	checkView(t, "ServiceStateChange", got, ok,
		ServiceStateChange{DisplayName: "Network Setup Service", State: "running"})

	e = event(ChannelSystem, "Service Control Manager", 7040, 0,
		"param1", "Microsoft NDIS Capture",
		"param2", "system start",
		"param3", "demand start",
		"param4", "NdisCap")
	got, ok = e.ServiceStateChange()
	checkView(t, "ServiceStateChange", got, ok, ServiceStateChange{
		DisplayName: "Microsoft NDIS Capture", ServiceName: "NdisCap",
		OldStartType: "system start", NewStartType: "demand start",
	})
}

func TestLogon(t *testing.T) {
	// EVTX-to-MITRE-Attack "PSexec remote execution + admin share", 4624 type 3.
	e := event(ChannelSecurity, secProvider, 4624, 2,
		"SubjectUserSid", "S-1-0-0",
		"SubjectUserName", "-",
		"SubjectDomainName", "-",
		"SubjectLogonId", "0x0000000000000000",
		"TargetUserSid", "S-1-5-21-4230534742-2542757381-3142984815-1111",
		"TargetUserName", "admmig",
		"TargetDomainName", "OFFSEC.LAN",
		"TargetLogonId", "0x0000000001375fbd",
		"LogonType", "3",
		"LogonProcessName", "Kerberos",
		"AuthenticationPackageName", "Kerberos",
		"WorkstationName", "-",
		"LogonGuid", "{B8C3A477-69DB-D96F-F0C0-889CCECB69EE}",
		"ProcessId", "0x0000000000000000",
		"ProcessName", "-",
		"IpAddress", "10.23.42.22",
		"IpPort", "56661",
		"ImpersonationLevel", "%%1833",
		"TargetLinkedLogonId", "0x0000000000000000",
		"ElevatedToken", "%%1842")
	got, ok := e.Logon()
	want := Logon{
		LogonType:     3,
		TargetUserSID: "S-1-5-21-4230534742-2542757381-3142984815-1111",
		TargetUser:    `OFFSEC.LAN\admmig`,
		TargetLogonID: 0x1375fbd,
		IPAddress:     "10.23.42.22",
		IPPort:        56661,
		AuthPackage:   "Kerberos",
		LogonProcess:  "Kerberos",
		ElevatedToken: true,
	}
	checkView(t, "Logon", got, ok, want)
}

func TestShareAccess(t *testing.T) {
	// Mordor, 5145 on IPC$ svcctl.
	e := event("security", secProvider, 5145, 0,
		"SubjectUserSid", "S-1-5-21-4228717743-1032521047-1810997296-1104",
		"SubjectUserName", "pgustavo",
		"SubjectDomainName", "THESHIRE",
		"SubjectLogonId", "0x6fe8c94",
		"ObjectType", "File",
		"IpAddress", "172.18.39.5",
		"IpPort", "54796",
		"ShareName", `\\*\IPC$`,
		"RelativeTargetName", "svcctl",
		"AccessMask", "0x12019f",
		"AccessList", "%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t",
		"AccessReason", "-")
	got, ok := e.ShareAccess()
	want := ShareAccess{
		SubjectUserSID:     "S-1-5-21-4228717743-1032521047-1810997296-1104",
		SubjectUser:        `THESHIRE\pgustavo`,
		SubjectLogonID:     0x6fe8c94,
		IPAddress:          "172.18.39.5",
		IPPort:             54796,
		ShareName:          `\\*\IPC$`,
		RelativeTargetName: "svcctl",
		AccessMask:         0x12019f,
	}
	checkView(t, "ShareAccess", got, ok, want)
}

func TestViewsRejectOtherEvents(t *testing.T) {
	// Each view must claim its own events and no other: one event per view,
	// each offered to every view.
	events := map[string]*Event{
		"ProcessCreate":      event(ChannelSysmon, sysmonProv, 1, 5),
		"NetworkConnect":     event(ChannelSysmon, sysmonProv, 3, 5),
		"FileCreate":         event(ChannelSysmon, sysmonProv, 11, 2),
		"RegistryEvent":      event(ChannelSysmon, sysmonProv, 13, 2),
		"PipeEvent":          event(ChannelSysmon, sysmonProv, 17, 1),
		"ServiceInstall":     event(ChannelSystem, "Service Control Manager", 7045, 0),
		"ServiceStateChange": event(ChannelSystem, "Service Control Manager", 7036, 0),
		"Logon":              event(ChannelSecurity, secProvider, 4624, 2),
		"ShareAccess":        event(ChannelSecurity, secProvider, 5145, 0),
	}
	// Lookalikes: same IDs on other channels or from other providers.
	others := []*Event{
		event(ChannelSecurity, secProvider, 1, 0),
		event(ChannelSystem, "Microsoft-Windows-Kernel-General", 13, 0),
		event(ChannelSystem, "Microsoft-Windows-Kernel-General", 1, 0),
		event(ChannelSystem, "Some-Other-Provider", 7045, 0),
		event("Application", "Service Control Manager", 7036, 0),
		event(ChannelSecurity, secProvider, 4625, 0),
	}
	for name, e := range events {
		for view, ok := range viewMatches(e) {
			if ok != (view == name) {
				t.Errorf("%s() of %s event %s = %v; want %v", view, name, e.Key(), ok, view == name)
			}
		}
	}
	for _, e := range others {
		for view, ok := range viewMatches(e) {
			if ok {
				t.Errorf("%s() of %s from %q = true; want false", view, e.Key(), e.Provider)
			}
		}
	}
}

// viewMatches reports which views claim e.
func viewMatches(e *Event) map[string]bool {
	_, pc := e.ProcessCreate()
	_, nc := e.NetworkConnect()
	_, fc := e.FileCreate()
	_, re := e.RegistryEvent()
	_, pe := e.PipeEvent()
	_, si := e.ServiceInstall()
	_, sc := e.ServiceStateChange()
	_, lo := e.Logon()
	_, sa := e.ShareAccess()
	return map[string]bool{
		"ProcessCreate": pc, "NetworkConnect": nc, "FileCreate": fc,
		"RegistryEvent": re, "PipeEvent": pe, "ServiceInstall": si,
		"ServiceStateChange": sc, "Logon": lo, "ShareAccess": sa,
	}
}

// checkView fails t unless ok is true and got equals want.
func checkView[V any](t *testing.T, view string, got V, ok bool, want V) {
	t.Helper()
	if !ok {
		t.Fatalf("%s() = _, false; want true", view)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s() = %+v\nwant %+v", view, got, want)
	}
}

func BenchmarkViews(b *testing.B) {
	e := event(ChannelSysmon, sysmonProv, 1, 5,
		"RuleName", "-", "UtcTime", "2020-09-22 03:29:32.872",
		"ProcessGuid", "{B34BC01C-6F9C-5F69-FE01-000000000900}", "ProcessId", "6100",
		"Image", `C:\Windows\System32\svchost.exe`, "FileVersion", "10.0.18362.1",
		"Description", "Host Process for Windows Services", "Product", "Microsoft Windows",
		"Company", "Microsoft Corporation", "OriginalFileName", "svchost.exe",
		"CommandLine", `C:\windows\system32\svchost.exe -k appmodel -p -s camsvc`,
		"CurrentDirectory", `C:\windows\system32\`, "User", `NT AUTHORITY\SYSTEM`,
		"LogonGuid", "{B34BC01C-226A-5F69-E703-000000000000}", "LogonId", "0x3e7",
		"TerminalSessionId", "0", "IntegrityLevel", "System", "Hashes", "SHA1=5009839791AAD7",
		"ParentProcessGuid", "{B34BC01C-226A-5F69-0B00-000000000900}",
		"ParentProcessId", "704", "ParentImage", `C:\Windows\System32\services.exe`,
		"ParentCommandLine", `C:\windows\system32\services.exe`)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := e.ProcessCreate(); !ok {
			b.Fatal("ProcessCreate() = false")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func FuzzViews(f *testing.F) {
	f.Add(uint8(0), uint32(1), "ProcessId\x000x1f\x00ParentImage\x00?\x00Image\x00\"C:\\a b\\c.exe\" -x")
	f.Add(uint8(1), uint32(4697), "ServiceType\x000xffffffffff\x00ServiceStartType\x00-")
	f.Add(uint8(2), uint32(7040), "param1\x00\x00param2\x00auto start")
	f.Add(uint8(0), uint32(13), "TargetObject\x00\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Services")
	channels := []string{ChannelSysmon, ChannelSecurity, ChannelSystem, "security"}
	f.Fuzz(func(t *testing.T, ch uint8, id uint32, raw string) {
		e := &Event{Channel: channels[int(ch)%len(channels)], EventID: id}
		parts := strings.Split(raw, "\x00")
		for i := 0; i+1 < len(parts); i += 2 {
			e.Fields = append(e.Fields, Field{Name: parts[i], Value: parts[i+1]})
		}
		claimed := 0
		for _, ok := range viewMatches(e) {
			if ok {
				claimed++
			}
		}
		if claimed > 1 {
			t.Errorf("%d views claim %s; want at most one", claimed, e.Key())
		}
	})
}
