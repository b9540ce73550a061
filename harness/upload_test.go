package harness

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/scenarios"
)

// countingRunner counts the commands a runner is asked to run, with and
// without input.
type countingRunner struct {
	emulate.InputRunner
	runs, inputs atomic.Int64
}

func (c *countingRunner) Run(ctx context.Context, host string, shell scenarios.Shell,
	line string) (emulate.Result, error) {
	c.runs.Add(1)
	return c.InputRunner.Run(ctx, host, shell, line)
}

func (c *countingRunner) RunInput(ctx context.Context, host string, shell scenarios.Shell,
	line string, stdin io.Reader) (emulate.Result, error) {
	c.inputs.Add(1)
	return c.InputRunner.RunInput(ctx, host, shell, line, stdin)
}

// A canary-sized payload reaches a simulated host over real WinRM in one
// command, its bytes on stdin (Send requests), and arrives intact.
func TestUploadStreamsOverWinRM(t *testing.T) {
	sl := startLab(t, SimLabConfig{})
	lab, err := OpenLab(sl.Inventory, emulate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ir, ok := lab.Runner.(emulate.InputRunner)
	if !ok {
		t.Fatalf("the WinRM runner (%T) takes no input", lab.Runner)
	}
	r := &countingRunner{InputRunner: ir}
	payload := bytes.Repeat([]byte("MZ\x90\x00\x03 canary payload bytes "), 160000) // 4.3 MB
	path := `C:\ProgramData\svcharness\up\canary.exe`
	if err := emulate.Upload(t.Context(), r, "WS01", path, payload); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if r.inputs.Load() != 1 || r.runs.Load() != 0 {
		t.Errorf("got %d commands with input and %d without; want one with input",
			r.inputs.Load(), r.runs.Load())
	}
	res, err := lab.Runner.Run(t.Context(), "WS01", scenarios.PowerShell,
		"[IO.File]::ReadAllBytes('"+path+"').Length")
	if want := strconv.Itoa(len(payload)); err != nil || strings.TrimSpace(res.Stdout) != want {
		t.Errorf("got %q, %v; want the file's %s bytes", res.Stdout, err, want)
	}
}
