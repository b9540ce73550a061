package sim

// The version resource Sysmon reports for Windows binaries of build 17763
// (Windows Server 2019 / Windows 10 1809), the build the simulated hosts
// claim.
const (
	winVersion = "10.0.17763.1 (WinBuild.160101.0800)"
	winProduct = "Microsoft® Windows® Operating System"
	msCompany  = "Microsoft Corporation"
)

func winProgram(key, desc, original string, run func(*execCtx) int) *program {
	return &program{Key: key, FileVersion: winVersion, Description: desc,
		Product: winProduct, Company: msCompany, OriginalFileName: original, run: run}
}

func serviceProgram(key, desc, original string) *program {
	p := winProgram(key, desc, original, nil)
	p.service = true
	return p
}

// genericProgram is an executable the simulator has no model of, such as an
// uploaded payload. It behaves as the lab's canary does: a service program
// that reports running, connects to its --sink and stops (runCanary).
var genericProgram = &program{Key: "", FileVersion: "-", Description: "-",
	Product: "-", Company: "-", OriginalFileName: "-", service: true}

func init() { genericProgram.run = runCanary }

// programs maps a file's Program to its behaviour. It is filled in init so
// that program functions may start other programs.
var programs map[string]*program

func init() {
	programs = map[string]*program{}
	for _, p := range []*program{
		winProgram("cmd", "Windows Command Processor", "Cmd.Exe", runCmd),
		winProgram("powershell", "Windows PowerShell", "PowerShell.EXE", runPowerShell),
		winProgram("sc", "Service Control Manager Configuration Tool", "sc.exe", runSc),
		winProgram("net", "Net Command", "net.exe", runNet),
		winProgram("net1", "Net Command", "net1.exe", runNet1),
		winProgram("reg", "Registry Console Tool", "reg.exe", runReg),
		winProgram("hostname", "Hostname APP", "hostname.exe", runHostname),
		winProgram("whoami", "whoami - displays logged on user information",
			"whoami.exe", runWhoami),
		winProgram("auditpol", "Audit Policy Program", "AUDITPOL.EXE", runAuditpol),
		winProgram("wevtutil", "Eventing Command Line Utility", "wevtutil.exe",
			runWevtutil),
		winProgram("certutil", "CertUtil.exe", "CertUtil.exe", runCertutil),
		winProgram("msiexec", "Windows® installer", "msiexec.exe", runMsiexec),
		winProgram("conhost", "Console Window Host", "CONHOST.EXE",
			func(*execCtx) int { return 0 }),
		winProgram("ipconfig", "IP Configuration Utility", "ipconfig.exe", runIpconfig),
		winProgram("timeout", "timeout - pauses command processing", "timeout.exe",
			runTimeout),
		winProgram("ping", "TCP/IP Ping Command", "ping.exe", runPing),
		winProgram("wmic", "WMI Commandline Utility", "wmic.exe", runWmic),
		winProgram("fsutil", "fsutil.exe", "fsutil.exe", runFsutil),
		winProgram("winrshost", "Host Process for WinRM's Remote Shell plugin",
			"winrshost.exe", nil),
		winProgram("calc", "Windows Calculator", "CALC.EXE", nil),
		winProgram("notepad", "Notepad", "NOTEPAD.EXE", nil),
		serviceProgram("svchost", "Host Process for Windows Services", "svchost.exe"),
		serviceProgram("services", "Services and Controller app", "services.exe"),
		serviceProgram("lsass", "Local Security Authority Process", "lsass.exe"),
		serviceProgram("spoolsv", "Spooler SubSystem App", "spoolsv.exe"),
		serviceProgram("fxssvc", "Microsoft Fax Service", "FXSSVC.exe"),
		serviceProgram("trustedinstaller", "Windows Modules Installer",
			"TrustedInstaller.exe"),
		serviceProgram("msmpeng", "Antimalware Service Executable", "MsMpEng.exe"),
		sysinternals("psexec", "2.43", "Execute processes remotely", "Sysinternals PsExec",
			"psexec.c", runPsExec, false),
		sysinternals("psexesvc", "2.43", "PsExec Service Host", "Sysinternals PsExec",
			"psexesvc.exe", nil, true),
		sysinternals("sysmon", "10.42", "System activity monitor", "Sysinternals Sysmon",
			"Sysmon.exe", runSysmon, true),
		{Key: "vendorsvc", FileVersion: "4.2.0.17", Description: "HarnessLab Agent Service",
			Product: "HarnessLab Agent", Company: "HarnessLab Software",
			OriginalFileName: "HarnessAgent.exe", service: true},
	} {
		programs[p.Key] = p
	}
}

func sysinternals(key, version, desc, product, original string, run func(*execCtx) int,
	service bool) *program {
	return &program{Key: key, FileVersion: version, Description: desc, Product: product,
		Company: "Sysinternals - www.sysinternals.com", OriginalFileName: original,
		run: run, service: service}
}
