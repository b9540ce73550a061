package sim

import (
	"strings"
	"time"
)

// systemFiles are the executables every simulated host has, by path and
// program.
var systemFiles = [][2]string{
	{`C:\Windows\System32\cmd.exe`, "cmd"},
	{`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, "powershell"},
	{`C:\Windows\System32\sc.exe`, "sc"},
	{`C:\Windows\System32\net.exe`, "net"},
	{`C:\Windows\System32\net1.exe`, "net1"},
	{`C:\Windows\System32\reg.exe`, "reg"},
	{`C:\Windows\System32\HOSTNAME.EXE`, "hostname"},
	{`C:\Windows\System32\whoami.exe`, "whoami"},
	{`C:\Windows\System32\auditpol.exe`, "auditpol"},
	{`C:\Windows\System32\wevtutil.exe`, "wevtutil"},
	{`C:\Windows\System32\certutil.exe`, "certutil"},
	{`C:\Windows\System32\msiexec.exe`, "msiexec"},
	{`C:\Windows\System32\conhost.exe`, "conhost"},
	{`C:\Windows\System32\ipconfig.exe`, "ipconfig"},
	{`C:\Windows\System32\timeout.exe`, "timeout"},
	{`C:\Windows\System32\PING.EXE`, "ping"},
	{`C:\Windows\System32\wbem\WMIC.exe`, "wmic"},
	{`C:\Windows\System32\fsutil.exe`, "fsutil"},
	{`C:\Windows\System32\winrshost.exe`, "winrshost"},
	{`C:\Windows\System32\calc.exe`, "calc"},
	{`C:\Windows\System32\notepad.exe`, "notepad"},
	{`C:\Windows\System32\svchost.exe`, "svchost"},
	{`C:\Windows\System32\services.exe`, "services"},
	{`C:\Windows\System32\lsass.exe`, "lsass"},
	{`C:\Windows\System32\spoolsv.exe`, "spoolsv"},
	{`C:\Windows\System32\fxssvc.exe`, "fxssvc"},
	{`C:\Windows\servicing\TrustedInstaller.exe`, "trustedinstaller"},
	{`C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.2008.9-0\MsMpEng.exe`,
		"msmpeng"},
	{`C:\LabTools\PsExec.exe`, "psexec"},
	{`C:\LabTools\PsExec64.exe`, "psexec"},
	{`C:\LabTools\HarnessLabAgent.msi`, "msi:vendorsvc"},
	{`C:\LabTools\logon-user.clixml`, ""},
	// The lab marker every lab host carries (provisioned on real VMs); the
	// harness refuses malicious scenarios on a host without it.
	{`C:\ProgramData\svcharness\lab.marker`, ""},
}

var systemDirs = []string{
	`C:\Windows\Temp`, `C:\Users\Public`, `C:\Users\Public\Temp`, `C:\ProgramData`,
	`C:\Program Files`, `C:\Program Files (x86)`, `C:\Windows\System32\drivers`,
	`C:\Windows\System32\config\systemprofile\AppData\Local\Temp`, `C:\LabStage`,
}

// builtinService is a service every simulated host has at boot.
type builtinService struct {
	name, display, image string
	typ, start           uint32
	account              string
	running              bool
}

var builtinServices = []builtinService{
	{"W32Time", "Windows Time", `%SystemRoot%\system32\svchost.exe -k LocalService`,
		typeShareProcess, startDemand, `NT AUTHORITY\LocalService`, true},
	{"Spooler", "Print Spooler", `%SystemRoot%\System32\spoolsv.exe`,
		typeOwnProcess, startAuto, "LocalSystem", true},
	{"Fax", "Fax", `%systemroot%\system32\fxssvc.exe`,
		typeOwnProcess, startDemand, `NT AUTHORITY\NetworkService`, false},
	{"BITS", "Background Intelligent Transfer Service",
		`%SystemRoot%\System32\svchost.exe -k netsvcs -p`,
		typeShareProcess, startDemand, "LocalSystem", false},
	{"wuauserv", "Windows Update", `%systemroot%\system32\svchost.exe -k netsvcs -p`,
		typeShareProcess, startDemand, "LocalSystem", false},
	{"IKEEXT", "IKE and AuthIP IPsec Keying Modules",
		`%systemroot%\system32\svchost.exe -k netsvcs -p`,
		typeShareProcess, startDemand, "LocalSystem", false},
	{"TrustedInstaller", "Windows Modules Installer",
		`%SystemRoot%\servicing\TrustedInstaller.exe`,
		typeOwnProcess, startDemand, "localSystem", false},
	{"WinRM", "Windows Remote Management (WS-Management)",
		`%SystemRoot%\System32\svchost.exe -k NetworkService -p`,
		typeShareProcess, startAuto, `NT AUTHORITY\NetworkService`, true},
	{"EventLog", "Windows Event Log",
		`%SystemRoot%\System32\svchost.exe -k LocalServiceNetworkRestricted -p`,
		typeShareProcess, startAuto, `NT AUTHORITY\LocalService`, true},
	{"LanmanServer", "Server", `%SystemRoot%\system32\svchost.exe -k smbsvcs`,
		typeShareProcess, startAuto, "LocalSystem", true},
	{"WinDefend", "Windows Defender Antivirus Service",
		`"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.2008.9-0\MsMpEng.exe"`,
		typeOwnProcess, startAuto, "LocalSystem", true},
}

// boot builds the host's disk, registry, services and system processes. It
// writes no events: they would precede the logs a scenario reads.
func (h *Host) boot() {
	for _, f := range systemFiles {
		h.files[fileKey(f[0])] = &File{Path: f[0], Program: f[1],
			Data: []byte("simulated image: " + f[1])}
	}
	for _, d := range systemDirs {
		h.mkdir(d)
	}
	sys := systemIdentity()
	h.systemProc = &Process{PID: 4, Image: "System", User: sys.user, SID: sys.sid,
		LogonID: sys.logonID, Integrity: "System", prog: genericProgram}
	h.systemProc.Start = h.bootTime
	h.systemProc.GUID = h.processGUID(h.bootTime, 4)
	wininit := h.bootProc(h.systemProc, `C:\Windows\System32\wininit.exe`, "wininit.exe")
	h.servicesProc = h.bootProc(wininit, `C:\Windows\System32\services.exe`,
		`C:\Windows\system32\services.exe`)
	h.lsassProc = h.bootProc(wininit, `C:\Windows\System32\lsass.exe`,
		`C:\Windows\system32\lsass.exe`)
	h.winrmProc = h.bootProc(h.servicesProc, `C:\Windows\System32\svchost.exe`,
		`C:\Windows\system32\svchost.exe -k DcomLaunch -p`)
	for _, b := range builtinServices {
		h.bootService(b)
	}
	h.bootSysmon()
	h.bootPolicy()
}

// bootProc starts a process of the boot sequence: a low PID and a start
// time seconds after boot, as the system processes of a real host have.
func (h *Host) bootProc(parent *Process, image, cmdline string) *Process {
	sys := systemIdentity()
	pid := 4 * (100 + h.lab.rng.Uint32N(250))
	for h.procs[pid] != nil {
		pid += 4
	}
	h.bootClock += time.Duration(200+h.lab.rng.IntN(3000)) * time.Millisecond
	p := &Process{PID: pid, Image: image, CommandLine: cmdline,
		CurrentDir: `C:\Windows\system32\`, User: sys.user, SID: sys.sid,
		LogonID: sys.logonID, Integrity: "System", Parent: parent,
		Start: h.bootTime.Add(h.bootClock), prog: genericProgram}
	if f := h.file(image); f != nil {
		p.prog, p.Hashes = h.programOf(f), fileHashes(f.Data)
	}
	p.GUID = h.processGUID(p.Start, p.PID)
	p.LogonGUID = h.logonGUID(p.LogonID)
	h.procs[p.PID] = p
	return p
}

func (h *Host) bootService(b builtinService) {
	s := &Service{Name: b.name, DisplayName: b.display, ImagePath: b.image,
		Type: b.typ, Start: b.start, ErrorControl: 1, Account: b.account,
		State: stateStopped}
	h.scm[strings.ToLower(b.name)] = s
	h.writeServiceKey(nil, s)
	if b.running {
		env := h.env(h.servicesProc)
		img, _ := h.serviceImage(expandEnv(b.image, env), env)
		p := h.bootProc(h.servicesProc, img, expandEnv(b.image, env))
		s.State, s.PID, s.proc = stateRunning, p.PID, p
	}
}

// bootSysmon installs Sysmon's service, driver key and configuration.
func (h *Host) bootSysmon() {
	if h.cfg.Sensors.NoSysmon {
		h.sysmonProc = h.systemProc
		return
	}
	h.files[fileKey(`C:\Windows\Sysmon64.exe`)] = &File{Path: `C:\Windows\Sysmon64.exe`,
		Program: "sysmon", Data: []byte("simulated image: sysmon")}
	h.bootService(builtinService{"Sysmon64", "Sysmon64", `C:\Windows\Sysmon64.exe`,
		typeOwnProcess, startAuto, "LocalSystem", true})
	h.sysmonProc = h.service("Sysmon64").proc
	drv := servicesKey + `\SysmonDrv`
	h.regSet(nil, drv, RegValue{Name: "Type", Type: regDWORD, Num: typeKernelDriver})
	h.regSet(nil, drv, RegValue{Name: "Start", Type: regDWORD, Num: startBoot})
	h.regSet(nil, drv, RegValue{Name: "ImagePath", Type: regExpandSZ,
		Str: "SysmonDrv.sys"})
	params := drv + `\Parameters`
	h.regSet(nil, params, RegValue{Name: "HashingAlgorithm", Type: regDWORD, Num: 0x8000000f})
	h.regSet(nil, params, RegValue{Name: "Options", Type: regDWORD, Num: 0})
	h.regSet(nil, params, RegValue{Name: "Rules", Type: regBinary, Str: "0102"})
	h.regSet(nil, params, RegValue{Name: "NetworkImages", Type: regMultiSZ,
		Multi: append([]string(nil), h.cfg.Sensors.NetworkImages...)})
}

// bootPolicy records the audit policy the sensors config implies.
func (h *Host) bootPolicy() {
	h.regSet(nil, `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`,
		RegValue{Name: "CurrentBuild", Type: regSZ, Str: "17763"})
	h.regSet(nil, `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Svchost`,
		RegValue{Name: "netsvcs", Type: regMultiSZ, Multi: []string{"BITS", "IKEEXT",
			"wuauserv"}})
	h.regSet(nil, servicesKey+`\LanmanServer\Parameters`,
		RegValue{Name: "Size", Type: regDWORD, Num: 1})
}
