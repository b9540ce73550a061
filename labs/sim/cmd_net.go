package sim

import (
	"errors"
	"slices"
	"strings"
)

// runNet is net.exe: for the service verbs it starts net1.exe with the same
// arguments, as the real net.exe does.
func runNet(x *execCtx) int {
	if len(x.args) == 0 {
		x.outf("The syntax of this command is:\n\nNET\n    [ ACCOUNTS | COMPUTER | CONFIG" +
			" | CONTINUE | FILE | GROUP | HELP |\n      HELPMSG | LOCALGROUP | PAUSE | SESSION" +
			" | SHARE | START |\n      STATISTICS | STOP | TIME | USE | USER | VIEW ]\n\n")
		return 1
	}
	cmdline := `C:\Windows\system32\net1  ` + x.raw
	code, err := x.h.runImage(x, `C:\Windows\System32\net1.exe`, cmdline, x.p.identity())
	if err != nil {
		return 1
	}
	return code
}

// runNet1 is net1.exe with the start and stop verbs.
func runNet1(x *execCtx) int {
	if len(x.args) == 0 {
		return 1
	}
	switch strings.ToLower(x.args[0]) {
	case "start":
		if len(x.args) == 1 {
			return x.netList()
		}
		return x.netStart(strings.Join(x.args[1:], " "))
	case "stop":
		if len(x.args) == 1 {
			x.errf("The syntax of this command is:\n\nNET STOP\nservice\n\n")
			return 1
		}
		return x.netStop(strings.Join(x.args[1:], " "))
	}
	x.errf("The syntax of this command is:\n\nNET\n    [ START | STOP ]\n\n")
	return 1
}

func (x *execCtx) netList() int {
	var names []string
	for _, s := range x.h.scm {
		if s.State == stateRunning && s.Type&typeKernelDriver == 0 {
			names = append(names, s.displayOrName())
		}
	}
	slices.Sort(names)
	x.outf("These Windows services are started:\n\n")
	for _, n := range names {
		x.outf("   %s\n", n)
	}
	x.outf("\nThe command completed successfully.\n\n")
	return 0
}

func (x *execCtx) netStart(name string) int {
	by := localCaller(x.p)
	s := x.h.service(name)
	if s == nil {
		return x.netHelp(2185, "The service name is invalid.")
	}
	if s.State == stateRunning {
		return x.netHelp(2182, "The requested service has already been started.")
	}
	_, err := x.h.scmStart(by, name, nil)
	var we *WinError
	switch {
	case err == nil:
		x.outf("The %s service is starting.\nThe %s service was started successfully.\n\n",
			s.displayOrName(), s.displayOrName())
		return 0
	case errors.As(err, &we) && we.Code == 1053:
		x.outf("The %s service is starting.\n", s.displayOrName())
		return x.netHelp(3534, "The "+s.displayOrName()+" service could not be started.\n\n"+
			"The service did not report an error.")
	case errors.As(err, &we) && we.Code == 1058:
		return x.netHelp(3521, "The "+s.displayOrName()+" service could not be started.")
	case errors.As(err, &we):
		x.errf("System error %d has occurred.\n\n%s\n\n", we.Code, we.Error())
		return 2
	}
	return 2
}

func (x *execCtx) netStop(name string) int {
	s := x.h.service(name)
	if s == nil {
		return x.netHelp(2185, "The service name is invalid.")
	}
	if s.State != stateRunning {
		return x.netHelp(3521, "The "+s.displayOrName()+" service is not started.")
	}
	if _, err := x.h.scmStop(localCaller(x.p), name); err != nil {
		var we *WinError
		if errors.As(err, &we) {
			x.errf("System error %d has occurred.\n\n%s\n\n", we.Code, we.Error())
		}
		return 2
	}
	x.outf("The %s service is stopping.\nThe %s service was stopped successfully.\n\n",
		s.displayOrName(), s.displayOrName())
	return 0
}

// netHelp prints net's error with its HELPMSG pointer; net exits with 2.
func (x *execCtx) netHelp(msg int, text string) int {
	x.errf("%s\n\nMore help is available by typing NET HELPMSG %d.\n\n", text, msg)
	return 2
}
