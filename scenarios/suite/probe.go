package suite

import (
	"context"
	"errors"
	"fmt"

	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/scenarios"
)

// Prober returns a labs.Prober over r, so that a suite can run labs.Check
// before it runs scenarios on a real lab. Emulation failures are mapped onto
// the kinds labs.Check gives fixes for.
func Prober(r emulate.Runner) labs.Prober { return prober{r} }

type prober struct{ r emulate.Runner }

func (p prober) Probe(ctx context.Context, host string, ps bool,
	line string) (labs.ProbeResult, error) {
	shell := scenarios.Cmd
	if ps {
		shell = scenarios.PowerShell
	}
	res, err := p.r.Run(ctx, host, shell, line)
	for _, k := range []struct{ from, to error }{{emulate.ErrAuth, labs.ErrAuth},
		{emulate.ErrTLS, labs.ErrTLS}, {emulate.ErrUnreachable, labs.ErrUnreachable}} {
		if errors.Is(err, k.from) {
			return labs.ProbeResult{}, fmt.Errorf("%w: %w", k.to, err)
		}
	}
	if err != nil {
		return labs.ProbeResult{}, err
	}
	return labs.ProbeResult{Stdout: res.Stdout, ExitCode: res.ExitCode}, nil
}
