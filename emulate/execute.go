package emulate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/svcharness/svcharness/scenarios"
)

// ErrStepFailed matches a scenario step that ended with an exit code the
// scenario does not expect: the emulated attack or administration did not
// happen as written, so its verdict cannot be judged.
var ErrStepFailed = emulationKind("scenario step failed")

// PayloadFunc returns the bytes of a canary payload. Text payloads carry
// their own content.
type PayloadFunc func(p scenarios.PlannedPayload) ([]byte, error)

// ExecOptions tune Execute. The zero value is usable.
type ExecOptions struct {
	Logger *slog.Logger
	// CleanupTimeout bounds cleanup and its verification, which run on a
	// context of their own so that a timeout or an interrupt of the steps
	// does not stop them; 2m if zero.
	CleanupTimeout time.Duration
	// Journal, when set, records the plan's cleanup before anything runs
	// and forgets it once the cleanup is verified. A plan that cannot be
	// journalled does not run.
	Journal *Journal
	// AfterSteps, when set, runs once every step has run as expected and
	// before cleanup: the place to collect telemetry, so that what cleanup
	// does on the hosts is not mistaken for the scenario. Its error becomes
	// the steps' error.
	AfterSteps func(ctx context.Context) error
}

// StepResult is one command of a plan and what became of it.
type StepResult struct {
	Command scenarios.Command
	Result  Result
	Err     error // nil when the command ended as the scenario expects
}

// Outcome is what running a plan did.
type Outcome struct {
	Started    time.Time
	Steps      []StepResult
	Cleanup    []StepResult
	StepsErr   error // why the payloads or steps stopped; nil when all ran
	CleanupErr error // every failed cleanup step and check, joined
}

// Err returns the run's emulation error, the steps' and every cleanup
// failure together, or nil. Every error in it matches ErrEmulation.
func (o *Outcome) Err() error { return errors.Join(o.StepsErr, o.CleanupErr) }

// Execute runs a plan: it places the payloads, runs the steps in order and
// stops at the first that fails, then always runs every cleanup step and
// verifies the cleanup, even when ctx has ended.
func Execute(ctx context.Context, r Runner, p *scenarios.Plan, payload PayloadFunc,
	opts ExecOptions) *Outcome {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.CleanupTimeout <= 0 {
		opts.CleanupTimeout = 2 * time.Minute
	}
	log := opts.Logger.With("scenario", p.Scenario.ID, "run", p.RunID)
	o := &Outcome{Started: time.Now()}

	log.Info("scenario started")
	if opts.Journal != nil {
		if err := opts.Journal.Begin(p); err != nil {
			o.StepsErr = fmt.Errorf("%w: %w", ErrCommandFailed, err)
			return o
		}
	}
	o.StepsErr = placePayloads(ctx, r, p, payload)
	if o.StepsErr == nil {
		o.Steps, o.StepsErr = runCommands(ctx, r, p.Steps, true)
	}
	if o.StepsErr == nil && opts.AfterSteps != nil {
		o.StepsErr = opts.AfterSteps(ctx)
	}

	// Cleanup gets a context of its own: after a timeout or Ctrl-C the
	// hosts must still be put back.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.CleanupTimeout)
	defer cancel()
	var cerr error
	o.Cleanup, cerr = runCommands(cctx, r, p.Cleanup, false)
	o.CleanupErr = errors.Join(cerr, Verify(cctx, r, p.Checks))
	if opts.Journal != nil && o.CleanupErr == nil {
		if err := opts.Journal.Done(p); err != nil {
			o.CleanupErr = fmt.Errorf("%w: %w", ErrCommandFailed, err)
		}
	}
	log.Info("scenario finished", "steps_error", o.StepsErr != nil,
		"cleanup_error", o.CleanupErr != nil)
	return o
}

func placePayloads(ctx context.Context, r Runner, p *scenarios.Plan, payload PayloadFunc) error {
	for _, pl := range p.Payloads {
		data := []byte(pl.Content)
		if pl.Source == scenarios.SourceCanary {
			if payload == nil {
				return fmt.Errorf("place payload %s on %s: no canary supplied: %w",
					pl.Path, pl.Host, ErrCommandFailed)
			}
			var err error
			if data, err = payload(pl); err != nil {
				return fmt.Errorf("place payload %s on %s: %w: %w", pl.Path, pl.Host,
					ErrCommandFailed, err)
			}
		}
		if err := Upload(ctx, r, pl.Host, pl.Path, data); err != nil {
			return err
		}
	}
	return nil
}

// runCommands runs cmds in order. Steps stop at the first failure; cleanup
// runs every command and joins the failures.
func runCommands(ctx context.Context, r Runner, cmds []scenarios.Command,
	stopOnError bool) ([]StepResult, error) {
	out := make([]StepResult, 0, len(cmds))
	var errs []error
	for _, c := range cmds {
		if err := ctx.Err(); err != nil && stopOnError {
			errs = append(errs, fmt.Errorf("%s %d on %s: %w: %w", c.Phase, c.Index+1, c.Host,
				ErrInterrupted, err))
			break
		}
		sr := runCommand(ctx, r, c)
		out = append(out, sr)
		if sr.Err == nil {
			continue
		}
		errs = append(errs, sr.Err)
		if stopOnError {
			break
		}
	}
	return out, errors.Join(errs...)
}

func runCommand(ctx context.Context, r Runner, c scenarios.Command) StepResult {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	res, err := r.Run(ctx, c.Host, c.Shell, c.Line)
	sr := StepResult{Command: c, Result: res}
	switch {
	case err != nil:
		sr.Err = fmt.Errorf("%s %d on %s: %w", c.Phase, c.Index+1, c.Host, err)
	case res.DryRun, c.MayFail, slices.Contains(c.ExpectExit, res.ExitCode):
	default:
		sr.Err = fmt.Errorf("%s %d on %s: exit %d, want %v: %s: %w", c.Phase, c.Index+1,
			c.Host, res.ExitCode, c.ExpectExit, firstLine(res.Stdout+"\n"+stderrText(res.Stderr)),
			ErrStepFailed)
	}
	return sr
}
