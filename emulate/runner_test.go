package emulate

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/svcharness/svcharness/scenarios"
)

func TestDryRunRecordsAndConnectsToNothing(t *testing.T) {
	var out bytes.Buffer
	d := &DryRun{Out: &out}
	ctx := context.Background()
	for _, c := range []DryCommand{
		{"WS01", scenarios.Cmd, "sc.exe create x binPath= C:\\x.exe"},
		{"WS02", scenarios.PowerShell, "Get-Service"},
	} {
		res, err := d.Run(ctx, c.Host, c.Shell, c.Line)
		if err != nil || !res.DryRun {
			t.Fatalf("Run: %+v, %v; want a dry result", res, err)
		}
	}
	if got := len(d.Commands()); got != 2 {
		t.Errorf("got %d commands; want 2", got)
	}
	want := "WS01 cmd> sc.exe create x binPath= C:\\x.exe\nWS02 powershell> Get-Service\n"
	if out.String() != want {
		t.Errorf("got output %q; want %q", out.String(), want)
	}
}

func TestDryRunHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&DryRun{}).Run(ctx, "WS01", scenarios.Cmd, "hostname")
	if !errors.Is(err, ErrInterrupted) {
		t.Errorf("got %v; want ErrInterrupted", err)
	}
}

func TestWinRMRunsOnTheNamedHost(t *testing.T) {
	f := newFake(t)
	w, err := NewWinRM([]Target{f.target()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Run(context.Background(), "ws01", scenarios.Cmd, "hostname"); err != nil {
		t.Errorf("Run on ws01 (case-insensitive): %v", err)
	}
	_, err = w.Run(context.Background(), "WS99", scenarios.Cmd, "hostname")
	if !errors.Is(err, ErrUnknownHost) || !errors.Is(err, ErrEmulation) {
		t.Errorf("got %v; want ErrUnknownHost", err)
	}
	if _, err := NewWinRM([]Target{f.target(), f.target()}, Options{}); err == nil {
		t.Error("NewWinRM accepted a host listed twice")
	}
}
