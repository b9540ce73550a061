package sim

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Service types, start types and states as the SCM numbers them.
const (
	typeKernelDriver = 0x1
	typeOwnProcess   = 0x10
	typeShareProcess = 0x20
	typeInteractive  = 0x100
	typeUserOwn      = 0x50
	typeUserShare    = 0x60

	startBoot     = 0
	startSystem   = 1
	startAuto     = 2
	startDemand   = 3
	startDisabled = 4

	stateStopped      = 1
	stateStartPending = 2
	stateStopPending  = 3
	stateRunning      = 4
)

// serviceStartTimeout is how long the SCM waits for a service process to
// report that it is running before it fails the start with 1053.
const serviceStartTimeout = 30 * time.Second

// WinError is a Win32 error code with the message Windows prints for it.
type WinError struct {
	Code int
}

var winMessages = map[int]string{
	2:    "The system cannot find the file specified.",
	3:    "The system cannot find the path specified.",
	5:    "Access is denied.",
	53:   "The network path was not found.",
	87:   "The parameter is incorrect.",
	1053: "The service did not respond to the start or control request in a timely fashion.",
	1056: "An instance of the service is already running.",
	1058: "The service cannot be started, either because it is disabled or because it has" +
		" no enabled devices associated with it.",
	1060: "The specified service does not exist as an installed service.",
	1062: "The service has not been started.",
	1072: "The specified service has been marked for deletion.",
	1073: "The specified service already exists.",
	1078: "The name is already in use as either a service name or a service display name.",
}

// Error returns the message Windows prints for the code.
func (e *WinError) Error() string {
	if m, ok := winMessages[e.Code]; ok {
		return m
	}
	return fmt.Sprintf("Win32 error %d", e.Code)
}

func winErr(code int) *WinError { return &WinError{Code: code} }

// Service is one entry of a host's SCM database.
type Service struct {
	Name         string
	DisplayName  string
	ImagePath    string
	Type         uint32
	Start        uint32
	ErrorControl uint32
	Account      string
	Description  string
	State        uint32
	PID          uint32
	// DeletePending is set when the service was deleted while running.
	DeletePending bool
	proc          *Process
}

func (s *Service) displayOrName() string {
	if s.DisplayName != "" {
		return s.DisplayName
	}
	return s.Name
}

// caller is who asks the SCM for something: a local process, or a remote
// client over \PIPE\svcctl with a network logon.
type caller struct {
	user    string
	sid     string
	logonID uint64
	proc    *Process // the local client process; nil when remote
}

func localCaller(p *Process) *caller {
	return &caller{user: p.User, sid: p.SID, logonID: p.LogonID, proc: p}
}

func remoteCaller(l *Logon) *caller {
	return &caller{user: l.User, sid: l.SID, logonID: l.ID}
}

func (c *caller) admin(h *Host) bool {
	return c.sid == "S-1-5-18" || h.lab.isAdmin(c.user)
}

// service returns the SCM entry called name (key or display name).
func (h *Host) service(name string) *Service {
	if s := h.scm[strings.ToLower(name)]; s != nil {
		return s
	}
	for _, s := range h.scm {
		if strings.EqualFold(s.DisplayName, name) {
			return s
		}
	}
	return nil
}

// scmCreate installs a service: the SCM writes its key as services.exe, then
// logs 7045 and 4697.
func (h *Host) scmCreate(c *caller, s Service) error {
	if !c.admin(h) {
		return winErr(5)
	}
	if old := h.scm[strings.ToLower(s.Name)]; old != nil {
		if old.DeletePending {
			return winErr(1072)
		}
		return winErr(1073)
	}
	if s.DisplayName != "" && h.service(s.DisplayName) != nil {
		return winErr(1078)
	}
	if s.Account == "" {
		s.Account = "LocalSystem"
	}
	s.State = stateStopped
	ns := s
	h.scm[strings.ToLower(s.Name)] = &ns
	h.advance(3 * time.Millisecond)
	h.writeServiceKey(h.servicesProc, &ns)
	h.logServiceInstall(&ns, c)
	return nil
}

// writeServiceKey writes the values the SCM stores for a service, in the
// order services.exe writes them.
func (h *Host) writeServiceKey(p *Process, s *Service) {
	key := servicesKey + `\` + s.Name
	h.regSet(p, key, RegValue{Name: "Type", Type: regDWORD, Num: uint64(s.Type)})
	h.regSet(p, key, RegValue{Name: "Start", Type: regDWORD, Num: uint64(s.Start)})
	h.regSet(p, key, RegValue{Name: "ErrorControl", Type: regDWORD,
		Num: uint64(s.ErrorControl)})
	h.regSet(p, key, RegValue{Name: "ImagePath", Type: regExpandSZ, Str: s.ImagePath})
	if s.DisplayName != "" {
		h.regSet(p, key, RegValue{Name: "DisplayName", Type: regSZ, Str: s.DisplayName})
	}
	h.regSet(p, key, RegValue{Name: "ObjectName", Type: regSZ, Str: s.Account})
	if s.Description != "" {
		h.regSet(p, key, RegValue{Name: "Description", Type: regSZ, Str: s.Description})
	}
}

// scmStart starts a service the way the SCM does: it reads the image path
// and account from the service's key (so a direct registry write takes
// effect at the next start), creates the process under services.exe and
// waits for it to report running. A program that is not a service never
// reports: the start fails with 1053 (7009, 7000) once the process has
// exited, as a cmd.exe payload does after its work, or after the 30 s
// timeout when it keeps running.
func (h *Host) scmStart(c *caller, name string, args []string) (*Service, error) {
	s, err := h.openService(c, name, true)
	if err != nil {
		return nil, err
	}
	switch {
	case s.State == stateRunning || s.State == stateStartPending:
		return s, winErr(1056)
	case s.Start == startDisabled:
		return s, winErr(1058)
	}
	h.reloadConfig(s)
	env := h.env(h.servicesProc)
	cmdline := expandEnv(s.ImagePath, env)
	image, ok := h.serviceImage(cmdline, env)
	if !ok {
		h.logStartFailure(s, 2, false)
		return s, winErr(2)
	}
	f := h.file(image)
	prog := h.programOf(f)
	p := h.spawn(h.servicesProc, image, cmdline, `C:\Windows\system32`,
		h.accountIdentity(s.Account), prog, fileHashes(f.Data))
	if isConsole(f.Path) {
		h.startConhost(p)
	}
	if prog.service {
		h.serviceRunning(s, p)
		return s, nil
	}
	h.runServiceProcess(p, prog)
	if p.Exited {
		h.advance(time.Duration(500+h.lab.rng.IntN(1000)) * time.Millisecond)
	} else {
		h.advance(serviceStartTimeout)
	}
	h.logStartFailure(s, 1053, true)
	return s, winErr(1053)
}

// reloadConfig refreshes the values the SCM reads from the service's key
// when it starts it.
func (h *Host) reloadConfig(s *Service) {
	k := h.regKeyOf(servicesKey + `\` + s.Name)
	if k == nil {
		return
	}
	if v := k.value("ImagePath"); v != nil && (v.Type == regExpandSZ || v.Type == regSZ) {
		s.ImagePath = v.Str
	}
	if v := k.value("ObjectName"); v != nil && v.Type == regSZ && v.Str != "" {
		s.Account = v.Str
	}
}

// runServiceProcess runs a program the SCM started that is not a service
// binary: a console payload runs to completion with no console to talk to.
func (h *Host) runServiceProcess(p *Process, prog *program) {
	if prog.run == nil {
		return
	}
	x := &execCtx{ctx: h.runCtx, h: h, p: p, stdout: io.Discard, stderr: io.Discard}
	x.raw = argsAfterProgram(p.CommandLine)
	x.args = splitArgs(x.raw)
	h.exit(p, prog.run(x))
}

func (h *Host) serviceRunning(s *Service, p *Process) {
	s.State, s.PID, s.proc = stateRunning, p.PID, p
	h.advance(15 * time.Millisecond)
	h.logServiceState(s, "running", 4)
	if p.prog == genericProgram {
		// The canary reports and stops by itself.
		h.canaryReport(p)
		h.stopService(s)
		return
	}
	if p.prog.onStart != nil {
		p.prog.onStart(h, s, p)
	}
}

// serviceImage finds the executable of an expanded image path: the quoted
// first token, or the shortest space-separated prefix that names a file, as
// CreateProcess resolves an unquoted path.
func (h *Host) serviceImage(cmdline string, env map[string]string) (string, bool) {
	cmdline = strings.TrimSpace(cmdline)
	if strings.HasPrefix(cmdline, `"`) {
		end := strings.IndexByte(cmdline[1:], '"')
		if end < 0 {
			return "", false
		}
		return h.resolveImage(`C:\Windows\system32`, cmdline[1:1+end], env)
	}
	words := strings.Split(cmdline, " ")
	for i := range words {
		cand := strings.Join(words[:i+1], " ")
		if img, ok := h.resolveImage(`C:\Windows\system32`, cand, env); ok {
			return img, true
		}
	}
	return "", false
}

// accountIdentity is the token a service process gets for its account.
func (h *Host) accountIdentity(account string) identity {
	switch strings.ToLower(account) {
	case "", "localsystem", `.\localsystem`:
		return systemIdentity()
	case `nt authority\localservice`, `nt authority\local service`:
		return identity{user: `NT AUTHORITY\LOCAL SERVICE`, sid: "S-1-5-19",
			logonID: 0x3e5, integrity: "System"}
	case `nt authority\networkservice`, `nt authority\network service`:
		return identity{user: `NT AUTHORITY\NETWORK SERVICE`, sid: "S-1-5-20",
			logonID: 0x3e4, integrity: "System"}
	}
	user := account
	if strings.HasPrefix(user, `.\`) {
		user = h.name + user[1:]
	}
	return identity{user: user, sid: h.lab.userSID(user), logonID: h.newLogonID(),
		integrity: "High"}
}

// openService checks rights and existence the way OpenService does.
func (h *Host) openService(c *caller, name string, modify bool) (*Service, error) {
	if modify && !c.admin(h) {
		return nil, winErr(5)
	}
	s := h.service(name)
	if s == nil {
		return nil, winErr(1060)
	}
	if modify && s.DeletePending {
		return s, winErr(1072)
	}
	return s, nil
}

// scmStop stops a running service; a service marked for deletion goes
// when it stops.
func (h *Host) scmStop(c *caller, name string) (*Service, error) {
	if !c.admin(h) {
		return nil, winErr(5)
	}
	s := h.service(name)
	if s == nil {
		return nil, winErr(1060)
	}
	if s.State != stateRunning {
		return s, winErr(1062)
	}
	h.stopService(s)
	return s, nil
}

func (h *Host) stopService(s *Service) {
	if s.proc != nil && !s.proc.Exited && !s.sharesHost() {
		h.exit(s.proc, 0)
	}
	s.State, s.PID, s.proc = stateStopped, 0, nil
	h.advance(20 * time.Millisecond)
	h.logServiceState(s, "stopped", 1)
	if s.DeletePending {
		h.removeService(s)
	}
}

func (s *Service) sharesHost() bool {
	return s.Type&typeShareProcess != 0
}

// scmDelete marks a service for deletion; it goes at once unless running.
func (h *Host) scmDelete(c *caller, name string) error {
	s, err := h.openService(c, name, true)
	if err != nil {
		return err
	}
	s.DeletePending = true
	if s.State == stateRunning {
		h.regSet(h.servicesProc, servicesKey+`\`+s.Name,
			RegValue{Name: "DeleteFlag", Type: regDWORD, Num: 1})
		return nil
	}
	h.removeService(s)
	return nil
}

func (h *Host) removeService(s *Service) {
	delete(h.scm, strings.ToLower(s.Name))
	h.regDeleteKey(h.servicesProc, servicesKey+`\`+s.Name)
}

// serviceChange is a ChangeServiceConfig request; nil fields stay.
type serviceChange struct {
	ImagePath, DisplayName, Account *string
	Type, Start, ErrorControl       *uint32
}

// scmConfig changes a service's configuration: services.exe writes the
// changed values, and a start type change logs 7040.
func (h *Host) scmConfig(c *caller, name string, ch serviceChange) error {
	s, err := h.openService(c, name, true)
	if err != nil {
		return err
	}
	key := servicesKey + `\` + s.Name
	sp := h.servicesProc
	if ch.Type != nil {
		s.Type = *ch.Type
		h.regSet(sp, key, RegValue{Name: "Type", Type: regDWORD, Num: uint64(s.Type)})
	}
	if ch.Start != nil && *ch.Start != s.Start {
		old := s.Start
		s.Start = *ch.Start
		h.regSet(sp, key, RegValue{Name: "Start", Type: regDWORD, Num: uint64(s.Start)})
		h.logStartTypeChange(s, old, s.Start, c)
	}
	if ch.ErrorControl != nil {
		s.ErrorControl = *ch.ErrorControl
		h.regSet(sp, key, RegValue{Name: "ErrorControl", Type: regDWORD,
			Num: uint64(s.ErrorControl)})
	}
	if ch.ImagePath != nil {
		s.ImagePath = *ch.ImagePath
		h.regSet(sp, key, RegValue{Name: "ImagePath", Type: regExpandSZ, Str: s.ImagePath})
	}
	if ch.DisplayName != nil {
		s.DisplayName = *ch.DisplayName
		h.regSet(sp, key, RegValue{Name: "DisplayName", Type: regSZ, Str: s.DisplayName})
	}
	if ch.Account != nil {
		s.Account = *ch.Account
		h.regSet(sp, key, RegValue{Name: "ObjectName", Type: regSZ, Str: s.Account})
	}
	return nil
}

// scmSetValue stores one more value the SCM keeps in the service key
// (Description, FailureCommand, FailureActions).
func (h *Host) scmSetValue(c *caller, name string, v RegValue) error {
	s, err := h.openService(c, name, true)
	if err != nil {
		return err
	}
	if strings.EqualFold(v.Name, "Description") {
		s.Description = v.Str
	}
	h.regSet(h.servicesProc, servicesKey+`\`+s.Name, v)
	return nil
}

// ServiceInfo returns a copy of the SCM entry called name.
func (h *Host) ServiceInfo(name string) (Service, bool) {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	s := h.service(name)
	if s == nil {
		return Service{}, false
	}
	cp := *s
	cp.proc = nil
	return cp, true
}

// Reboot reloads the SCM database from the Services hive, as a restart
// does: services written straight into the registry become known, and
// services marked for deletion go. Processes are not restarted.
func (h *Host) Reboot() {
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	for _, s := range h.scm {
		if s.DeletePending {
			h.removeService(s)
		}
	}
	for _, path := range h.regSubkeys(servicesKey) {
		name := baseName(path)
		if h.scm[strings.ToLower(name)] != nil {
			continue
		}
		k := h.regKeyOf(path)
		img := k.value("ImagePath")
		if img == nil {
			continue
		}
		s := &Service{Name: name, ImagePath: img.Str, State: stateStopped,
			Account: "LocalSystem", Type: typeOwnProcess, Start: startDemand}
		if v := k.value("Type"); v != nil {
			s.Type = uint32(v.Num)
		}
		if v := k.value("Start"); v != nil {
			s.Start = uint32(v.Num)
		}
		if v := k.value("DisplayName"); v != nil {
			s.DisplayName = v.Str
		}
		if v := k.value("ObjectName"); v != nil {
			s.Account = v.Str
		}
		h.scm[strings.ToLower(name)] = s
	}
}

func serviceTypeText(t uint32) string {
	switch {
	case t&typeKernelDriver != 0:
		return "kernel mode driver"
	case t == 0x2:
		return "file system driver"
	case t&0x40 != 0:
		return "user mode service"
	case t&(typeOwnProcess|typeShareProcess) != 0:
		return "user mode service"
	}
	return "unknown"
}

func startTypeText(t uint32) string {
	switch t {
	case startBoot:
		return "boot start"
	case startSystem:
		return "system start"
	case startAuto:
		return "auto start"
	case startDemand:
		return "demand start"
	case startDisabled:
		return "disabled"
	}
	return "unknown"
}
