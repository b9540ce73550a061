package sim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// scTarget is the SCM an sc.exe invocation talks to: the local one, or a
// remote host's through \PIPE\svcctl with a network logon.
type scTarget struct {
	h  *Host
	by *caller
}

// remoteSCM opens another host's SCM from x: the source connects to port
// 445, the target logs the network logon and the svcctl pipe access.
func (x *execCtx) remoteSCM(server string) (*scTarget, error) {
	t := x.h.lab.Host(strings.TrimPrefix(server, `\\`))
	if t == nil {
		return nil, winErr(1722)
	}
	if t == x.h {
		return &scTarget{h: t, by: localCaller(x.p)}, nil
	}
	x.h.logNetwork(x.p, "tcp", x.h.IP(), uint16(49152+x.h.lab.rng.IntN(16000)),
		t.IP(), t.FQDN(), 445)
	l := t.networkLogon(x.p.User, x.h.IP(), strings.ToUpper(x.h.name))
	if x.p.SID == "S-1-5-18" {
		l = t.networkLogon(x.h.lab.cfg.Domain+`\`+x.h.name+"$", x.h.IP(), "-")
	}
	t.logShareAccess(l, "IPC$", "", "svcctl", "0x12019f",
		"%%1538\n\t\t\t\t%%1541\n\t\t\t\t%%4416\n\t\t\t\t%%4417\n\t\t\t\t%%4418\n\t\t\t\t"+
			"%%4419\n\t\t\t\t%%4420\n\t\t\t\t%%4423\n\t\t\t\t%%4424\n\t\t\t\t")
	return &scTarget{h: t, by: remoteCaller(l)}, nil
}

func init() { winMessages[1722] = "The RPC server is unavailable." }

// runSc is sc.exe.
func runSc(x *execCtx) int {
	args := x.args
	t := &scTarget{h: x.h, by: localCaller(x.p)}
	if len(args) > 0 && strings.HasPrefix(args[0], `\\`) {
		rt, err := x.remoteSCM(args[0])
		if err != nil {
			return x.scFail("OpenSCManager", err)
		}
		t, args = rt, args[1:]
	}
	if len(args) == 0 {
		x.outf("DESCRIPTION:\n\tSC is a command line program used for communicating with the\n" +
			"\tService Control Manager and services.\nUSAGE:\n" +
			"\tsc <server> [command] [service name] <option1> <option2>...\n")
		return 0
	}
	verb := strings.ToLower(args[0])
	if verb == "query" || verb == "queryex" {
		return x.scQuery(t, args[1:], verb == "queryex")
	}
	if len(args) < 2 {
		x.outf("[SC] %s: service name is required\n", verb)
		return 1639
	}
	if f := scVerbs[verb]; f != nil {
		return f(x, t, args[1], args[2:])
	}
	x.outf("[SC] Unrecognized command: %s\n", args[0])
	return 1639
}

func init() { winMessages[1639] = "Invalid command line argument." }

type scVerb func(x *execCtx, t *scTarget, name string, opts []string) int

var scVerbs map[string]scVerb

func init() {
	scVerbs = map[string]scVerb{
		"create": (*execCtx).scCreate, "config": (*execCtx).scConfig,
		"start": (*execCtx).scStart, "stop": (*execCtx).scStop,
		"delete": (*execCtx).scDelete, "qc": (*execCtx).scQC,
		"description": (*execCtx).scDescription, "failure": (*execCtx).scFailure,
	}
}

// scFail prints sc.exe's failure block and returns the error code.
func (x *execCtx) scFail(function string, err error) int {
	var we *WinError
	if !errors.As(err, &we) {
		we = winErr(1639)
	}
	if we.Code == 5 || we.Code == 1060 {
		if function != "OpenSCManager" && function != "CreateService" &&
			!strings.HasSuffix(function, "OpenService") {
			function = "OpenService"
		}
		if function == "CreateService" && we.Code == 5 {
			function = "OpenSCManager"
		}
	}
	x.outf("[SC] %s FAILED %d:\n\n%s\n\n", function, we.Code, we.Error())
	return we.Code
}

// scOptions parses "name= value" and "name=value" pairs, case-insensitive.
func scOptions(opts []string) (map[string]string, error) {
	out := map[string]string{}
	for i := 0; i < len(opts); i++ {
		k, v, ok := strings.Cut(opts[i], "=")
		if !ok {
			return nil, fmt.Errorf("option %q has no '='", opts[i])
		}
		if v == "" {
			if i+1 >= len(opts) {
				return nil, fmt.Errorf("option %q has no value", opts[i])
			}
			i++
			v = opts[i]
		}
		out[strings.ToLower(k)] = v
	}
	return out, nil
}

var scTypes = map[string]uint32{"own": typeOwnProcess, "share": typeShareProcess,
	"kernel": typeKernelDriver, "filesys": 0x2, "rec": 0x8, "userown": typeUserOwn,
	"usershare": typeUserShare}

var scStarts = map[string]uint32{"boot": startBoot, "system": startSystem,
	"auto": startAuto, "demand": startDemand, "disabled": startDisabled,
	"delayed-auto": startAuto}

var scErrors = map[string]uint32{"normal": 1, "severe": 2, "critical": 3, "ignore": 0}

// scChange turns sc options into a configuration change.
func scChange(o map[string]string) (serviceChange, error) {
	var ch serviceChange
	for k, v := range o {
		lv := strings.ToLower(v)
		switch k {
		case "binpath":
			ch.ImagePath = &v
		case "displayname":
			ch.DisplayName = &v
		case "obj":
			ch.Account = &v
		case "type":
			t, ok := scTypes[lv]
			if lv == "interact" {
				t, ok = typeOwnProcess|typeInteractive, true
			}
			if !ok {
				return ch, fmt.Errorf("bad type= %q", v)
			}
			ch.Type = &t
		case "start":
			s, ok := scStarts[lv]
			if !ok {
				return ch, fmt.Errorf("bad start= %q", v)
			}
			ch.Start = &s
		case "error":
			e, ok := scErrors[lv]
			if !ok {
				return ch, fmt.Errorf("bad error= %q", v)
			}
			ch.ErrorControl = &e
		case "group", "tag", "depend", "password":
		default:
			return ch, fmt.Errorf("unknown option %q", k)
		}
	}
	return ch, nil
}

func (x *execCtx) scCreate(t *scTarget, name string, opts []string) int {
	o, err := scOptions(opts)
	ch, err2 := scChange(o)
	if err != nil || err2 != nil || ch.ImagePath == nil {
		x.outf("[SC] CreateService: usage: sc <server> create [service name] " +
			"binPath= <BinaryPathName> [type= ] [start= ] [error= ] [DisplayName= ] [obj= ]\n")
		return 1639
	}
	s := Service{Name: name, ImagePath: *ch.ImagePath, Type: typeOwnProcess,
		Start: startDemand, ErrorControl: 1}
	if ch.Type != nil {
		s.Type = *ch.Type
	}
	if ch.Start != nil {
		s.Start = *ch.Start
	}
	if ch.ErrorControl != nil {
		s.ErrorControl = *ch.ErrorControl
	}
	if ch.DisplayName != nil {
		s.DisplayName = *ch.DisplayName
	}
	if ch.Account != nil {
		s.Account = *ch.Account
	}
	if err := t.h.scmCreate(t.by, s); err != nil {
		return x.scFail("CreateService", err)
	}
	x.outf("[SC] CreateService SUCCESS\n")
	return 0
}

func (x *execCtx) scConfig(t *scTarget, name string, opts []string) int {
	o, err := scOptions(opts)
	ch, err2 := scChange(o)
	if err != nil || err2 != nil {
		x.outf("[SC] ChangeServiceConfig: invalid option\n")
		return 1639
	}
	if err := t.h.scmConfig(t.by, name, ch); err != nil {
		return x.scFail("ChangeServiceConfig", err)
	}
	x.outf("[SC] ChangeServiceConfig SUCCESS\n")
	return 0
}

func (x *execCtx) scStart(t *scTarget, name string, args []string) int {
	s, err := t.h.scmStart(t.by, name, args)
	if err != nil {
		return x.scFail("StartService", err)
	}
	x.outf("\n")
	x.scStatus(s, stateStartPending, true)
	return 0
}

func (x *execCtx) scStop(t *scTarget, name string, _ []string) int {
	s, err := t.h.scmStop(t.by, name)
	if err != nil {
		return x.scFail("ControlService", err)
	}
	x.outf("\n")
	x.scStatus(s, stateStopPending, false)
	return 0
}

func (x *execCtx) scDelete(t *scTarget, name string, _ []string) int {
	if err := t.h.scmDelete(t.by, name); err != nil {
		return x.scFail("DeleteService", err)
	}
	x.outf("[SC] DeleteService SUCCESS\n")
	return 0
}

func (x *execCtx) scDescription(t *scTarget, name string, opts []string) int {
	desc := strings.Join(opts, " ")
	err := t.h.scmSetValue(t.by, name, RegValue{Name: "Description", Type: regSZ, Str: desc})
	if err != nil {
		return x.scFail("OpenService", err)
	}
	x.outf("[SC] ChangeServiceConfig2 SUCCESS\n")
	return 0
}

func (x *execCtx) scFailure(t *scTarget, name string, opts []string) int {
	o, err := scOptions(opts)
	if err != nil {
		x.outf("[SC] ChangeServiceConfig2: invalid option\n")
		return 1639
	}
	if _, err := t.h.openService(t.by, name, true); err != nil {
		return x.scFail("OpenService", err)
	}
	if cmd, ok := o["command"]; ok {
		_ = t.h.scmSetValue(t.by, name, RegValue{Name: "FailureCommand", Type: regSZ,
			Str: cmd})
	}
	if _, ok := o["actions"]; ok {
		_ = t.h.scmSetValue(t.by, name, RegValue{Name: "FailureActions", Type: regBinary,
			Str: failureActionsHex(o["reset"], o["actions"])})
	}
	x.outf("[SC] ChangeServiceConfig2 SUCCESS\n")
	return 0
}

// failureActionsHex encodes SERVICE_FAILURE_ACTIONS as the SCM stores it:
// reset period, two empty pointers, the action count, then type/delay pairs.
func failureActionsHex(reset, actions string) string {
	r, _ := strconv.ParseUint(reset, 10, 32)
	parts := strings.Split(actions, "/")
	var b []byte
	le := func(v uint32) { b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)) }
	le(uint32(r))
	le(0)
	le(0)
	le(uint32(len(parts) / 2))
	le(0x14)
	kinds := map[string]uint32{"": 0, "restart": 1, "reboot": 2, "run": 3}
	for i := 0; i+1 < len(parts); i += 2 {
		d, _ := strconv.ParseUint(parts[i+1], 10, 32)
		le(kinds[strings.ToLower(parts[i])])
		le(uint32(d))
	}
	return upperHex(b)
}

// scQuery prints the status of one service, or of every active service.
func (x *execCtx) scQuery(t *scTarget, args []string, ex bool) int {
	var list []*Service
	if len(args) > 0 && !strings.Contains(args[0], "=") {
		s := t.h.service(args[0])
		if s == nil {
			return x.scFail("EnumQueryServicesStatus:OpenService", winErr(1060))
		}
		list = []*Service{s}
	} else {
		for _, s := range t.h.scm {
			if s.State == stateRunning && s.Type&typeKernelDriver == 0 {
				list = append(list, s)
			}
		}
		slices.SortFunc(list, func(a, b *Service) int {
			return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		})
	}
	for _, s := range list {
		x.outf("\n")
		x.scStatus(s, s.State, ex)
	}
	return 0
}

// scStatus prints the SERVICE_STATUS block sc.exe prints.
func (x *execCtx) scStatus(s *Service, state uint32, ex bool) {
	x.outf("SERVICE_NAME: %s \n", s.Name)
	if len(x.args) > 0 && (strings.EqualFold(x.args[0], "query") ||
		strings.EqualFold(x.args[0], "queryex")) && len(x.args) == 1 {
		x.outf("DISPLAY_NAME: %s\n", s.displayOrName())
	}
	x.outf("        TYPE               : %x  %s  \n", s.Type, typeName(s.Type))
	x.outf("        STATE              : %d  %s \n", state, stateName(state))
	if state == stateRunning {
		x.outf("                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)\n")
	} else {
		x.outf("                                (NOT_STOPPABLE, NOT_PAUSABLE, IGNORES_SHUTDOWN)\n")
	}
	x.outf("        WIN32_EXIT_CODE    : 0  (0x0)\n")
	x.outf("        SERVICE_EXIT_CODE  : 0  (0x0)\n")
	x.outf("        CHECKPOINT         : 0x0\n")
	hint := "0x0"
	if state == stateStartPending || state == stateStopPending {
		hint = "0x7d0"
	}
	x.outf("        WAIT_HINT          : %s\n", hint)
	if ex {
		x.outf("        PID                : %d\n", s.PID)
		x.outf("        FLAGS              : \n")
	}
}

func (x *execCtx) scQC(t *scTarget, name string, _ []string) int {
	s, err := t.h.openService(t.by, name, false)
	if err != nil {
		return x.scFail("OpenService", err)
	}
	x.outf("[SC] QueryServiceConfig SUCCESS\n\n")
	x.outf("SERVICE_NAME: %s\n", s.Name)
	x.outf("        TYPE               : %x  %s \n", s.Type, typeName(s.Type))
	x.outf("        START_TYPE         : %d   %s\n", s.Start, startName(s.Start))
	x.outf("        ERROR_CONTROL      : %d   %s\n", s.ErrorControl,
		[]string{"IGNORE", "NORMAL", "SEVERE", "CRITICAL"}[min(s.ErrorControl, 3)])
	x.outf("        BINARY_PATH_NAME   : %s\n", s.ImagePath)
	x.outf("        LOAD_ORDER_GROUP   : \n        TAG                : 0\n")
	x.outf("        DISPLAY_NAME       : %s\n", s.displayOrName())
	x.outf("        DEPENDENCIES       : \n")
	x.outf("        SERVICE_START_NAME : %s\n", s.Account)
	return 0
}

func typeName(t uint32) string {
	switch t {
	case typeOwnProcess:
		return "WIN32_OWN_PROCESS"
	case typeShareProcess:
		return "WIN32_SHARE_PROCESS"
	case typeOwnProcess | typeInteractive:
		return "WIN32_OWN_PROCESS (interactive)"
	case typeKernelDriver:
		return "KERNEL_DRIVER"
	case 0x2:
		return "FILE_SYSTEM_DRIVER"
	case typeUserOwn, typeUserShare, 0xd0, 0xe0:
		return "USER_OWN_PROCESS"
	}
	return "WIN32"
}

func stateName(s uint32) string {
	return [...]string{"", "STOPPED", "START_PENDING", "STOP_PENDING", "RUNNING"}[min(s, 4)]
}

func startName(s uint32) string {
	return [...]string{"BOOT_START", "SYSTEM_START", "AUTO_START", "DEMAND_START",
		"DISABLED"}[min(s, 4)]
}
