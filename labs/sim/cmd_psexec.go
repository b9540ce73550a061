package sim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// psexecOpts are the PsExec switches the simulator models.
type psexecOpts struct {
	target    string
	user      string
	system    bool
	detach    bool
	service   string // -r: service and binary name
	eula      bool
	nobanner  bool
	command   string // program and arguments as PsExec passes them on
	program   string
	hasTarget bool
	session   uint32 // -i: the desktop session the child runs in
}

func parsePsExec(args []string, raw string) (psexecOpts, bool) {
	o := psexecOpts{service: "PSEXESVC"}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		la := strings.ToLower(a)
		if strings.HasPrefix(a, `\\`) && !o.hasTarget {
			o.target, o.hasTarget = strings.Split(a[2:], ",")[0], true
			continue
		}
		if !strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "/") {
			break
		}
		switch strings.TrimLeft(la, "-/") {
		case "u", "p", "r", "w", "n", "a":
			if i+1 >= len(args) {
				return o, false
			}
			i++
			switch la[1:] {
			case "u":
				o.user = args[i]
			case "r":
				o.service = args[i]
			}
		case "s":
			o.system = true
		case "d":
			o.detach = true
		case "accepteula":
			o.eula = true
		case "nobanner":
			o.nobanner = true
		case "i":
			o.session = 1 // the console session of a workstation
			if i+1 < len(args) && isDigits(args[i+1]) {
				i++
				n, _ := strconv.Atoi(args[i])
				o.session = uint32(n)
			}
		case "h", "e", "l", "c", "f", "v", "x", "k":
		default:
			return o, false
		}
	}
	if i >= len(args) {
		return o, false
	}
	o.program = args[i]
	rest := raw
	for n := 0; n <= i; n++ {
		_, rest = cmdVerb(strings.TrimLeft(rest, " "))
	}
	o.command = `"` + o.program + `" ` + strings.TrimLeft(rest, " ")
	return o, true
}

func isDigits(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// runPsExec is Sysinternals PsExec: it copies its service binary to the
// target's ADMIN$, installs and starts the service through the target's
// SCM, runs the command under it with output over named pipes, then stops
// and deletes the service.
func runPsExec(x *execCtx) int {
	o, ok := parsePsExec(x.args, x.raw)
	if !o.nobanner {
		x.errf("\nPsExec v2.43 - Execute processes remotely\n" +
			"Copyright (C) 2001-2023 Mark Russinovich\nSysinternals - www.sysinternals.com\n\n")
	}
	if !ok {
		x.errf("PsExec executes a program on a remote system.\n\nUsage: psexec [\\\\computer]" +
			" [-u user [-p psswd]] [-s] [-d] [-i [session]] [-r servicename] cmd [arguments]\n")
		return -1
	}
	eulaKey := `HKU\` + x.p.SID + `\Software\Sysinternals\PsExec`
	if o.eula {
		x.h.regSet(x.p, eulaKey, RegValue{Name: "EulaAccepted", Type: regDWORD, Num: 1})
	} else if k := x.h.regKeyOf(eulaKey); k == nil || k.value("EulaAccepted") == nil {
		x.errf("This is the first run of this program. You must accept EULA to continue.\n" +
			"Use -accepteula to accept EULA.\n\n")
		return -1
	}
	t := x.h
	if o.hasTarget && !isLocalName(o.target) {
		t = x.h.lab.Host(o.target)
	}
	if t == nil {
		x.errf("Couldn't access %s:\nThe network path was not found.\n\n"+
			"Make sure that the default admin$ share is enabled on %s.\n", o.target, o.target)
		return 53
	}
	return x.psexecOn(t, o)
}

func isLocalName(name string) bool {
	switch strings.ToLower(name) {
	case ".", "localhost", "127.0.0.1":
		return true
	}
	return false
}

// psexecSession is one PsExec connection to a target host.
type psexecSession struct {
	x      *execCtx
	t      *Host
	o      psexecOpts
	logon  *Logon   // network logon on a remote target; nil when local
	peer   *Process // who writes the binary and connects pipes on the target
	by     *caller
	svcBin string
}

func (x *execCtx) psexecOn(t *Host, o psexecOpts) int {
	ps := &psexecSession{x: x, t: t, o: o, svcBin: `C:\Windows\` + o.service + ".exe"}
	user := x.p.User
	if o.user != "" {
		user = o.user
	}
	if t == x.h {
		ps.peer, ps.by = x.p, localCaller(x.p)
	} else {
		x.h.logNetwork(x.p, "tcp", x.h.IP(), uint16(49152+x.h.lab.rng.IntN(16000)),
			t.IP(), t.FQDN(), 445)
		ps.logon = t.networkLogon(user, x.h.IP(), strings.ToUpper(x.h.name))
		ps.peer, ps.by = t.systemProc, remoteCaller(ps.logon)
	}
	if !ps.by.admin(t) {
		x.errf("Couldn't access %s:\nAccess is denied.\n", t.name)
		return 5
	}
	svc, err := ps.install()
	if err != nil {
		x.errf("Could not start %s service on %s:\n%s\n", o.service, t.name, err)
		return 1
	}
	code := ps.run(svc)
	ps.remove()
	return code
}

// share logs a 5145 on the target for a remote session.
func (ps *psexecSession) share(name, target, mask string) {
	if ps.logon == nil {
		return
	}
	local := ""
	if name == "ADMIN$" {
		local = `\??\C:\Windows`
	}
	ps.t.logShareAccess(ps.logon, name, local, target, mask, "%%4416\n\t\t\t\t")
}

// install copies the service binary and the key file, then creates and
// starts the service.
func (ps *psexecSession) install() (*Service, error) {
	t := ps.t
	ps.share("ADMIN$", ps.o.service+".exe", "0x2")
	if err := t.writeFile(ps.peer, ps.svcBin, []byte("simulated image: psexesvc"),
		false); err != nil {
		return nil, err
	}
	t.file(ps.svcBin).Program = "psexesvc"
	keyFile := fmt.Sprintf(`C:\Windows\PSEXEC-%s-%08X.key`, strings.ToUpper(ps.x.h.name),
		t.lab.rng.Uint32())
	ps.share("ADMIN$", baseName(keyFile), "0x2")
	_ = t.writeFile(ps.peer, keyFile, []byte{1}, false)
	ps.share("IPC$", "svcctl", "0x3")
	svc := Service{Name: ps.o.service, DisplayName: ps.o.service,
		ImagePath: `%SystemRoot%\` + ps.o.service + ".exe", Type: typeOwnProcess,
		Start: startDemand, ErrorControl: 1}
	err := t.scmCreate(ps.by, svc)
	if err != nil && !isWinErr(err, 1073) {
		return nil, err
	}
	s, err := t.scmStart(ps.by, ps.o.service, nil)
	if err != nil && !isWinErr(err, 1056) {
		return nil, err
	}
	return s, nil
}

func isWinErr(err error, code int) bool {
	var we *WinError
	return errors.As(err, &we) && we.Code == code
}

// run opens the control and stdio pipes and runs the command under the
// service process.
func (ps *psexecSession) run(s *Service) int {
	t, x, svcProc := ps.t, ps.x, s.proc
	t.logPipe(svcProc, false, `\`+ps.o.service)
	ps.share("IPC$", ps.o.service, "0x12019f")
	t.logPipe(ps.peer, true, `\`+ps.o.service)
	prefix := fmt.Sprintf(`\%s-%s-%d-`, ps.o.service, strings.ToUpper(x.h.name), x.p.PID)
	for _, stream := range []string{"stdin", "stdout", "stderr"} {
		t.logPipe(svcProc, false, prefix+stream)
	}
	for _, stream := range []string{"stdin", "stdout", "stderr"} {
		ps.share("IPC$", prefix[1:]+stream, "0x12019f")
		t.logPipe(ps.peer, true, prefix+stream)
	}
	id := systemIdentity()
	if !ps.o.system {
		id = identity{user: ps.by.user, sid: ps.by.sid, logonID: ps.by.logonID,
			integrity: "High"}
	}
	id.session = ps.o.session
	y := &execCtx{ctx: x.ctx, h: t, p: svcProc, stdout: x.stdout, stderr: x.stderr,
		logon: ps.logon}
	image, ok := t.resolveImage(`C:\Windows\system32`, ps.o.program, t.env(svcProc))
	if !ok {
		x.errf("PsExec could not start %s on %s:\nThe system cannot find the file specified.\n",
			ps.o.program, t.name)
		return 2
	}
	return ps.runChild(y, image, id)
}

func (ps *psexecSession) runChild(y *execCtx, image string, id identity) int {
	x, t := ps.x, ps.t
	child, code := t.startChild(y, image, ps.o.command, id)
	if ps.o.detach {
		x.errf("%s started on %s with process ID %d.\n", ps.o.program, t.name, child.PID)
		return int(child.PID)
	}
	if !child.Exited {
		// A program that does not exit keeps PsExec waiting, as on Windows,
		// until the caller gives up; the service stays installed.
		t.lab.waitUnlocked(x.ctx)
		return 1
	}
	x.errf("%s exited on %s with error code %d.\n", ps.o.program, t.name, code)
	return code
}

// remove stops and deletes the service and its binary, as PsExec does when
// the command ends.
func (ps *psexecSession) remove() {
	t := ps.t
	t.advance(50 * time.Millisecond)
	_, _ = t.scmStop(ps.by, ps.o.service)
	_ = t.scmDelete(ps.by, ps.o.service)
	_ = t.deleteFile(ps.svcBin)
}

// startChild runs image with cmdline under y.p and returns the process and
// its exit code.
func (h *Host) startChild(y *execCtx, image, cmdline string, id identity) (*Process, int) {
	var child *Process
	old := h.onSpawn
	h.onSpawn = func(p *Process) {
		if child == nil {
			child = p
		}
	}
	code, _ := h.runImage(y, image, cmdline, id)
	h.onSpawn = old
	return child, code
}
