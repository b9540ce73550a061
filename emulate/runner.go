package emulate

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/svcharness/svcharness/scenarios"
)

// Runner runs command lines on named lab hosts. A non-zero exit code is a
// Result, not an error; an error means the command could not be run and
// matches ErrEmulation.
type Runner interface {
	Run(ctx context.Context, host string, shell scenarios.Shell, line string) (Result, error)
}

// InputRunner is a Runner that can also feed a command's standard input.
// Upload streams payloads through it when the runner has it.
type InputRunner interface {
	Runner
	RunInput(ctx context.Context, host string, shell scenarios.Shell, line string,
		stdin io.Reader) (Result, error)
}

// ErrUnknownHost is returned for a host the runner was not given.
var ErrUnknownHost = emulationKind("host not in the inventory")

// WinRM is a Runner over one Client per host.
type WinRM struct {
	clients map[string]*Client
}

// NewWinRM prepares a client for every target. It makes no connection.
func NewWinRM(targets []Target, opts Options) (*WinRM, error) {
	w := &WinRM{clients: make(map[string]*Client, len(targets))}
	for _, t := range targets {
		key := strings.ToUpper(t.Name)
		if _, dup := w.clients[key]; dup {
			return nil, fmt.Errorf("prepare winrm clients: host %q listed twice", t.Name)
		}
		c, err := NewClient(t, opts)
		if err != nil {
			return nil, err
		}
		w.clients[key] = c
	}
	return w, nil
}

// Run runs line on host. Host names compare case-insensitively, as Windows
// computer names do.
func (w *WinRM) Run(ctx context.Context, host string, shell scenarios.Shell,
	line string) (Result, error) {
	c, ok := w.clients[strings.ToUpper(host)]
	if !ok {
		return Result{}, fmt.Errorf("run command on %s: %w", host, ErrUnknownHost)
	}
	return c.Run(ctx, shell, line)
}

// RunInput runs line on host with stdin as its standard input.
func (w *WinRM) RunInput(ctx context.Context, host string, shell scenarios.Shell,
	line string, stdin io.Reader) (Result, error) {
	c, ok := w.clients[strings.ToUpper(host)]
	if !ok {
		return Result{}, fmt.Errorf("run command on %s: %w", host, ErrUnknownHost)
	}
	return c.RunInput(ctx, shell, line, stdin)
}

// DryCommand is one command a DryRun was asked to run.
type DryCommand struct {
	Host  string
	Shell scenarios.Shell
	Line  string
}

// DryRun is a Runner that connects to nothing: it records every command,
// prints it to Out if set, and reports it as run with Result.DryRun set, so
// that callers skip exit-code checks. It is safe for concurrent use.
type DryRun struct {
	Out io.Writer

	mu       sync.Mutex
	commands []DryCommand
}

// Run records the command.
func (d *DryRun) Run(ctx context.Context, host string, shell scenarios.Shell,
	line string) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("dry run on %s: %w: %w", host, ErrInterrupted, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.commands = append(d.commands, DryCommand{Host: host, Shell: shell, Line: line})
	if d.Out != nil {
		if _, err := fmt.Fprintf(d.Out, "%s %s> %s\n", host, shellName(shell), line); err != nil {
			return Result{}, fmt.Errorf("print dry-run command: %w", err)
		}
	}
	return Result{DryRun: true}, nil
}

// RunInput records the command and says how much input it would have been
// sent; the input is not read.
func (d *DryRun) RunInput(ctx context.Context, host string, shell scenarios.Shell,
	line string, stdin io.Reader) (Result, error) {
	if n, ok := stdin.(interface{ Len() int }); ok {
		line += fmt.Sprintf("  <<< %d bytes on stdin", n.Len())
	} else if stdin != nil {
		line += "  <<< stdin"
	}
	return d.Run(ctx, host, shell, line)
}

// Commands returns every command recorded so far, in order.
func (d *DryRun) Commands() []DryCommand {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.commands)
}

func shellName(s scenarios.Shell) string {
	if s == "" {
		return string(scenarios.Cmd)
	}
	return string(s)
}
