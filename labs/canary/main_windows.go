//go:build windows

package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
)

func main() {
	service, err := svc.IsWindowsService()
	if err != nil || !service {
		os.Exit(runConsole(os.Args[1:], os.Stderr))
	}
	os.Exit(runService())
}

// runService runs under the SCM. The service name comes from the SCM's
// arguments to Execute; svc.Run needs one, and for an own-process service
// any name is accepted.
func runService() int {
	if err := svc.Run("svcharness-canary", &handler{args: os.Args[1:]}); err != nil {
		return 1
	}
	return 0
}

// handler is the canary's service: it reports and stops on its own.
type handler struct {
	args []string
}

// Execute reports Running, sends the report, and stops. Stop and Shutdown
// requests arriving meanwhile end it at once.
func (h *handler) Execute(scArgs []string, r <-chan svc.ChangeRequest,
	s chan<- svc.Status) (bool, uint32) {
	s <- svc.Status{State: svc.StartPending}
	name := ""
	if len(scArgs) > 0 {
		name = scArgs[0]
	}
	c, err := parseArgs(h.args, io.Discard)
	if err == nil && c.RunID == "" && c.Sink == "" {
		c = fromRegistry(name)
	}
	c.Service = name
	s <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}

	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- report(ctx, c) }()
	for {
		select {
		case err := <-done:
			logResult(name, err)
			s <- svc.Status{State: svc.StopPending}
			return false, 0
		case req := <-r:
			switch req.Cmd {
			case svc.Interrogate:
				s <- req.CurrentStatus
			case svc.Stop, svc.Shutdown:
				cancel()
				s <- svc.Status{State: svc.StopPending}
				return false, 0
			}
		}
	}
}

// fromRegistry reads Run and Sink from the service's Parameters key.
func fromRegistry(service string) config {
	var c config
	if service == "" {
		return c
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE,
		`SYSTEM\CurrentControlSet\Services\`+service+`\Parameters`, registry.QUERY_VALUE)
	if err != nil {
		return c
	}
	defer k.Close()
	c.RunID, _, _ = k.GetStringValue("Run")
	c.Sink, _, _ = k.GetStringValue("Sink")
	return c
}

// logResult notes a failed report in the Application log, best effort: the
// service's life cycle is what scenarios observe, so a missing sink does not
// make the service fail.
func logResult(service string, err error) {
	if err == nil || service == "" {
		return
	}
	l, lerr := eventlog.Open(service)
	if lerr != nil {
		return
	}
	defer l.Close()
	_ = l.Warning(1, fmt.Sprintf("svcharness canary: %v", err))
}
