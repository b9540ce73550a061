package synth

import (
	"slices"

	"github.com/svcharness/svcharness/telemetry"
)

// Background scenarios: the benign activity every fleet records, including
// the look-alikes of MANIFEST pitfall 9 that a correlator must not flag (or
// must attribute to approved activity).
const (
	ScenarioProcessNoise    = "process_noise"    // user and scheduled process starts
	ScenarioNetworkNoise    = "network_noise"    // outbound HTTPS, inbound RPC
	ScenarioServiceState    = "service_state"    // 7036 running/stopped of built-in services
	ScenarioSvchostChild    = "svchost_child"    // services.exe starting svchost -k groups
	ScenarioWindowsUpdate   = "windows_update"   // TrustedInstaller, TiWorker, BITS start type
	ScenarioUserLogon       = "user_logon"       // 4624 + per-user services <Name>_<LUID>
	ScenarioSoftwareInstall = "software_install" // msiexec installs a vendor service
	ScenarioDefenderDriver  = "defender_driver"  // MpKsl<hex> kernel driver from ProgramData
	ScenarioAdminRestart    = "admin_restart"    // net stop / net start of a service
)

// backgroundKind is a benign episode and its weight among its class.
type backgroundKind struct {
	name   string
	weight int
	run    func(g *Generator, s *slot)
}

// noiseKinds are the one- or two-event episodes that make up most of a real
// fleet's telemetry.
var noiseKinds = []backgroundKind{
	{ScenarioProcessNoise, 50, (*Generator).processNoise},
	{ScenarioNetworkNoise, 32, (*Generator).networkNoise},
	{ScenarioServiceState, 12, (*Generator).serviceState},
	{ScenarioSvchostChild, 6, (*Generator).svchostChild},
}

// adminKinds are the benign episodes that touch services the way attacks
// do; one starts about every Config.AdminEvery events.
var adminKinds = []backgroundKind{
	{ScenarioWindowsUpdate, 3, (*Generator).windowsUpdate},
	{ScenarioUserLogon, 3, (*Generator).userLogon},
	{ScenarioSoftwareInstall, 2, (*Generator).softwareInstall},
	{ScenarioDefenderDriver, 2, (*Generator).defenderDriver},
	{ScenarioAdminRestart, 2, (*Generator).adminRestart},
	{ScenarioAdminPsExec, 1, (*Generator).adminPsExec},
	{ScenarioRemoteDeploy, 1, (*Generator).remoteDeploy},
}

// backgroundByName maps background scenario names to their episodes.
func backgroundByName() map[string]func(g *Generator, s *slot) {
	m := map[string]func(g *Generator, s *slot){}
	for _, k := range append(slices.Clone(noiseKinds), adminKinds...) {
		m[k.name] = k.run
	}
	return m
}

// background starts a benign episode: an administrative one when one is
// due, else noise.
func (g *Generator) background(s *slot) {
	kinds := noiseKinds
	if g.cfg.AdminEvery > 0 && g.n >= g.nextAdmin {
		g.nextAdmin = g.n + gap(g, g.cfg.AdminEvery)
		kinds = adminKinds
	}
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	r := g.rng.IntN(total)
	for _, k := range kinds {
		if r < k.weight {
			k.run(g, s)
			return
		}
		r -= k.weight
	}
}

// randomHost returns a host of the fleet.
func (g *Generator) randomHost() *host { return pick(g.rng, g.hosts) }

// target returns the host an episode happens on: the one Inject asked for,
// else a random host.
func (g *Generator) target() *host {
	if g.forced != nil {
		return g.forced
	}
	return g.randomHost()
}

// targetBesides returns the target of an episode run from src: the host
// Inject asked for, else a random host other than src.
func (g *Generator) targetBesides(src *host) *host {
	if g.forced != nil {
		return g.forced
	}
	return g.otherHost(src)
}

var userCommands = []struct {
	bin *binary
	cmd string
}{
	{binChrome, `"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --lang=en-US`},
	{binOneDrive, `"C:\Users\Public\AppData\Local\Microsoft\OneDrive\OneDrive.exe" /background`},
	{binCmd, `"C:\Windows\system32\cmd.exe" /c dir C:\Users\Public`},
	{binIpconfig, `ipconfig /all`},
	{binPowerShell, `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile`},
}

var systemCommands = []struct {
	bin *binary
	cmd string
}{
	{binTaskhost, `taskhostw.exe Install $(Arg0)`},
	{binWmiPrvSE, `C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding`},
	{binMpCmdRun, `"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.2301.6-0\MpCmdRun.exe" -IdleTask -TaskName WdCleanup`},
	{binConhost, `\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`},
}

// processNoise is one process start by the user's shell or by the Task
// Scheduler's svchost.
func (g *Generator) processNoise(s *slot) {
	h := g.target()
	ep := g.begin(s, h, ScenarioProcessNoise, false, "")
	if g.rng.IntN(2) == 0 {
		c := pick(g.rng, userCommands)
		ep.processCreate(h.explorer, c.bin, c.cmd, &h.user)
		return
	}
	c := pick(g.rng, systemCommands)
	ep.processCreate(h.svchost, c.bin, c.cmd, &h.machine)
}

// networkNoise is one outbound HTTPS connection or inbound RPC connection.
func (g *Generator) networkNoise(s *slot) {
	h := g.target()
	ep := g.begin(s, h, ScenarioNetworkNoise, false, "")
	port := 49152 + uint64(g.rng.IntN(16000))
	if g.rng.IntN(3) > 0 {
		chrome := h.newProc(g, binChrome, "") // started before the stream
		ep.networkConnect(chrome, &h.user, true, h.ip, port, "142.250.74.110", 443, "")
		return
	}
	peer := g.randomHost()
	ep.networkConnect(h.svchost, &h.machine, false, h.ip, 135, peer.ip, port, "")
}

// serviceState is a built-in service starting or stopping on its own
// (trigger start, idle stop).
func (g *Generator) serviceState(s *slot) {
	h := g.target()
	svc := pick(g.rng, hostServices)
	ep := g.begin(s, h, ScenarioServiceState, false, svc.name)
	state := "running"
	if g.rng.IntN(2) == 0 {
		state = "stopped"
	}
	ep.serviceState(svc.display, state)
}

// svchostChild is services.exe starting a shared-process service host.
func (g *Generator) svchostChild(s *slot) {
	h := g.target()
	svc := pick(g.rng, hostServices)
	group := cmpOr(svc.group, "netsvcs")
	ep := g.begin(s, h, ScenarioSvchostChild, false, svc.name)
	cmd := g.arena.concat(`C:\Windows\system32\svchost.exe -k `, group, ` -p -s `, svc.name)
	ep.processCreate(h.services, binSvchost, cmd, &h.machine)
	ep.serviceState(svc.display, "running")
}

// windowsUpdate is the servicing stack at work: services.exe starts
// TrustedInstaller, which starts TiWorker; BITS changes start type.
func (g *Generator) windowsUpdate(s *slot) {
	h := g.target()
	ep := g.begin(s, h, ScenarioWindowsUpdate, false, "TrustedInstaller")
	ti := ep.processCreate(h.services, binTrustedInstaller, `C:\Windows\servicing\TrustedInstaller.exe`,
		&h.machine)
	ep.serviceState("Windows Modules Installer", "running")
	ep.processCreate(h.svchost, binTiWorker,
		`C:\Windows\winsxs\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.1940_none_7dd80d767cb5c7b0\TiWorker.exe -Embedding`,
		&h.machine)
	ep.registry(ti, telemetry.RegSetValue,
		`HKLM\System\CurrentControlSet\Services\TrustedInstaller\Start`, "DWORD (0x00000003)")
	ep.startTypeChanged("Background Intelligent Transfer Service", "BITS", telemetry.StartAuto,
		telemetry.StartDemand)
}

// userLogon is an interactive logon: 4624 type 2, then one per-user service
// instance per template, named <template>_<LUID in hex> (4697, svchost -k
// UnistackSvcGroup, type 0xe0) and started by services.exe.
func (g *Generator) userLogon(s *slot) {
	h := g.target()
	h.user = h.newAccount(g, pick(g.rng, users))
	ep := g.begin(s, h, ScenarioUserLogon, false, "")
	ep.logon(&h.user, client{logonType: "2", ip: "127.0.0.1"})
	suffix := g.arena.done(appendLowerHex(g.arena.builder(16), h.user.logonID))
	for _, tmpl := range perUserServices[:3+g.rng.IntN(len(perUserServices)-3)] {
		name := g.arena.concat(tmpl, "_", suffix)
		ep.serviceInstalledAudit(&h.machine, name,
			`C:\Windows\system32\svchost.exe -k UnistackSvcGroup`, 0xe0, telemetry.StartAuto, "",
			0, 0)
		ep.processCreate(h.services, binSvchost,
			g.arena.concat(`C:\Windows\system32\svchost.exe -k UnistackSvcGroup -s `, name),
			&h.user)
	}
}

// appendLowerHex appends v in lower-case hex without padding, as per-user
// service suffixes are written.
func appendLowerHex(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	var tmp [16]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = digits[v&0xf]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// softwareInstall is a vendor MSI installing its service: msiexec writes the
// binary, services.exe writes the key and logs 7045/4697 with msiexec as the
// client, then starts the service.
func (g *Generator) softwareInstall(s *slot) {
	h := g.target()
	v := pick(g.rng, vendorServices)
	ep := g.begin(s, h, ScenarioSoftwareInstall, false, v.name)
	msi := ep.processCreate(h.services, binMsiexec, `C:\Windows\system32\msiexec.exe /V`,
		&h.machine)
	ep.fileCreate(msi, v.bin.image)
	key := g.arena.concat(`HKLM\System\CurrentControlSet\Services\`, v.name)
	ep.registry(h.services, telemetry.RegCreateKey, key, "")
	ep.registry(h.services, telemetry.RegSetValue, key+`\ImagePath`, v.imagePath)
	display := cmpOr(v.display, v.name)
	ep.serviceInstalled(sidSystem, display, v.imagePath, telemetry.ServiceOwnProcess, v.start,
		"LocalSystem")
	ep.serviceInstalledAudit(&h.machine, v.name, v.imagePath, telemetry.ServiceOwnProcess,
		v.start, "LocalSystem", msi.pidN, h.services.pidN)
	ep.processCreate(h.services, v.bin, v.imagePath, &h.machine)
	ep.serviceState(display, "running")
}

// defenderDriver is Defender loading a scan driver: a random-looking
// MpKsl<8 hex> kernel driver under ProgramData (system start, no account).
func (g *Generator) defenderDriver(s *slot) {
	h := g.target()
	b := appendLowerHex(append(g.arena.builder(16), "MpKsl"...), uint64(g.rng.Uint32())|1<<31)
	name := g.arena.done(b)
	ep := g.begin(s, h, ScenarioDefenderDriver, false, name)
	dir := g.guid(h)
	path := g.arena.concat(`C:\ProgramData\Microsoft\Windows Defender\Definition Updates\`, dir,
		`\`, name, ".sys")
	ep.registry(h.services, telemetry.RegSetValue,
		g.arena.concat(`HKLM\System\CurrentControlSet\Services\`, name, `\ImagePath`),
		g.arena.concat(`\??\`, path))
	ep.serviceInstalled(sidSystem, name, path, telemetry.ServiceKernelDriver,
		telemetry.StartSystem, "")
	ep.serviceInstalledAudit(&h.machine, name, path, telemetry.ServiceKernelDriver,
		telemetry.StartSystem, "", 0, 0)
}

// adminRestart is an administrator restarting a service with net.exe (an1185
// notes B3): net → net1, 7036 stopped then running, services.exe starting the
// service's own binary.
func (g *Generator) adminRestart(s *slot) {
	h := g.target()
	ep := g.begin(s, h, ScenarioAdminRestart, false, "Spooler")
	shell := ep.processCreate(h.explorer, binCmd, `"C:\Windows\system32\cmd.exe"`, &h.user)
	for _, verb := range []string{"stop", "start"} {
		net := ep.processCreate(shell, binNet, g.arena.concat("net  ", verb, " spooler"), &h.user)
		ep.processCreate(net, binNet1, g.arena.concat(`C:\Windows\system32\net1  `, verb,
			" spooler"), &h.user)
	}
	ep.serviceState("Print Spooler", "stopped")
	ep.processCreate(h.services, spoolsv, `C:\Windows\System32\spoolsv.exe`, &h.machine)
	ep.serviceState("Print Spooler", "running")
}

var spoolsv = winBin("", "spoolsv.exe", "Spooler SubSystem App",
	"6E8A0C2E4F5B7A9E1C3D5F7B9A1E3C4D6F8B0A2C")

// Approved remote administration (an1185 notes B4, B5): identical in shape
// to the attacks it resembles, told apart only by where it comes from.
const (
	ScenarioAdminPsExec  = "admin_psexec"  // PsExec from JUMP01
	ScenarioRemoteDeploy = "remote_deploy" // PDQ Deploy runner service pushed from MGMT01
)

// adminPsExec is an administrator running PsExec from the jump host.
func (g *Generator) adminPsExec(s *slot) {
	g.psexecChain(s, g.jump, g.targetBesides(g.jump), ScenarioAdminPsExec, false)
}

const pdqRunner = `C:\Windows\AdminArsenal\PDQDeployRunner\service-1\PDQDeployRunner-1.exe`

var binPDQRunner = vendorBin(pdqRunner, "19.3.520.0", "PDQ Deploy Runner", "PDQ Deploy",
	"PDQ.com Corporation", "PDQDeployRunner.exe", "2E4A6C8E0F1B3A5E7C9D1F3B5A7E9C0D2F4B6A8C")

// remoteDeploy is PDQ Deploy pushing a package from MGMT01: the
// runner is copied to ADMIN$, installed as a service over svcctl, started by
// services.exe, and runs msiexec; then it stops.
func (g *Generator) remoteDeploy(s *slot) {
	j := g.mgmt
	h := g.targetBesides(j)
	ep := g.begin(s, h, ScenarioRemoteDeploy, false, "PDQDeployRunner-1")
	admin := h.newAccount(g, "svc_pdq")
	port := 49152 + uint64(g.rng.IntN(16000))
	// The deployment account logs on with NTLM (naming MGMT01) or with
	// Kerberos (naming nothing but the address) about equally often.
	ep.logon(&admin, client{logonType: "3", ip: j.ip, port: port, ntlm: g.rng.IntN(2) == 0,
		station: j.short})
	ep.shareAccess(&admin, j.ip, port, `\\*\ADMIN$`, `\??\C:\Windows`,
		`AdminArsenal\PDQDeployRunner\service-1\PDQDeployRunner-1.exe`, "0x120196",
		"%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4417\r\n\t\t\t\t")
	ep.fileCreate(h.system, pdqRunner)
	ep.shareAccess(&admin, j.ip, port, `\\*\IPC$`, "", "svcctl", "0x12019f",
		"%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t%%4416\r\n\t\t\t\t")
	g.scmInstall(ep, &admin, install{name: "PDQDeployRunner-1",
		imagePath: `"%windir%\AdminArsenal\PDQDeployRunner\service-1\PDQDeployRunner-1.exe"`,
		start:     telemetry.StartDemand})
	runner := ep.processCreate(h.services, binPDQRunner, `"`+pdqRunner+`"`, &h.machine)
	ep.serviceState("PDQDeployRunner-1", "running")
	ep.processCreate(runner, binMsiexec, `msiexec.exe /i "C:\Windows\AdminArsenal\`+
		`PDQDeployRunner\service-1\exec\7z2301-x64.msi" /qn /norestart`, &h.machine)
	ep.serviceState("PDQDeployRunner-1", "stopped")
}
