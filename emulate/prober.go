package emulate

import (
	"context"
	"errors"
	"fmt"

	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/scenarios"
)

// LabProber returns a labs.Prober that runs labs.Check's probes through r
// (cmd.exe, or PowerShell when the probe asks for it) and maps r's failures
// onto the kinds labs.Check gives fixes for: authentication, TLS and
// unreachable hosts.
func LabProber(r Runner) labs.Prober { return labProber{r} }

type labProber struct{ r Runner }

func (p labProber) Probe(ctx context.Context, host string, ps bool,
	line string) (labs.ProbeResult, error) {
	shell := scenarios.Cmd
	if ps {
		shell = scenarios.PowerShell
	}
	res, err := p.r.Run(ctx, host, shell, line)
	for _, kind := range []struct{ from, to error }{{ErrAuth, labs.ErrAuth},
		{ErrTLS, labs.ErrTLS}, {ErrUnreachable, labs.ErrUnreachable}} {
		if errors.Is(err, kind.from) {
			return labs.ProbeResult{}, fmt.Errorf("%w: %w", kind.to, err)
		}
	}
	if err != nil {
		return labs.ProbeResult{}, err
	}
	return labs.ProbeResult{Stdout: res.Stdout, ExitCode: res.ExitCode}, nil
}
