package wsman

import (
	"context"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/svcharness/svcharness/labs/sim"
)

// shell is one Windows Remote Shell: an owner and its running commands.
type shell struct {
	id       string
	owner    string
	clientIP string

	mu         sync.Mutex
	cmds       map[string]*command
	lastActive time.Time
}

// command is one process started in a shell.
type command struct {
	id     string
	out    *output
	in     *input
	cancel context.CancelFunc
	exited chan struct{}
}

func (sh *shell) touch(now time.Time) {
	sh.mu.Lock()
	sh.lastActive = now
	sh.mu.Unlock()
}

func (sh *shell) command(id string) *command {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.cmds[id]
}

// removeCommand drops a command and cancels it if it still runs.
func (sh *shell) removeCommand(id string) bool {
	sh.mu.Lock()
	c, ok := sh.cmds[id]
	delete(sh.cmds, id)
	sh.mu.Unlock()
	if ok {
		c.cancel()
	}
	return ok
}

// close cancels every command of the shell.
func (sh *shell) close() {
	sh.mu.Lock()
	cmds := sh.cmds
	sh.cmds = map[string]*command{}
	sh.mu.Unlock()
	for _, c := range cmds {
		c.cancel()
	}
}

// start runs cmdline through run in a new command of the shell. The command
// lives until it is signalled or the shell is deleted, so that a client can
// still Receive its last output after it exits.
func (sh *shell) start(s *Server, cmdline string, run sim.Commander) *command {
	ctx, cancel := context.WithCancel(s.baseCtx)
	c := &command{
		id:     newGUID(),
		out:    newOutput(s.cfg.OutputBuffer),
		in:     newInput(ctx, s.cfg.StdinBuffer),
		cancel: cancel,
		exited: make(chan struct{}),
	}
	sess := sim.Session{User: sh.owner, RemoteAddr: sh.clientIP, ShellID: sh.id}
	go func() {
		defer close(c.exited)
		code := run.RunCommand(ctx, sess, cmdline, c.in,
			streamWriter{ctx, c.out, false}, streamWriter{ctx, c.out, true})
		c.out.finish(code)
	}()
	sh.mu.Lock()
	sh.cmds[c.id] = c
	sh.mu.Unlock()
	return c
}

// commandLine joins a Command element and its Arguments the way WinRS builds
// the process command line: pywinrm sends all arguments in one element,
// masterzen/winrm one element each.
func joinCommandLine(cl *commandLine) string {
	parts := make([]string, 0, 1+len(cl.Arguments))
	parts = append(parts, strings.TrimSpace(cl.Command))
	for _, a := range cl.Arguments {
		if a = strings.TrimSpace(a); a != "" {
			parts = append(parts, a)
		}
	}
	return strings.Join(parts, " ")
}

// hangCommander runs a process that never finishes by itself, for the hang
// fault: only a terminate signal or a deleted shell ends it.
type hangCommander struct{}

// exitTerminated is the exit code of a process ended by TerminateProcess on
// a WinRS terminate signal.
const exitTerminated = 1

func (hangCommander) RunCommand(ctx context.Context, _ sim.Session, _ string,
	_ io.Reader, _, _ io.Writer) int {
	<-ctx.Done()
	return exitTerminated
}
