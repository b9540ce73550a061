package emulate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/svcharness/svcharness/scenarios"
)

// ErrLeftBehind matches a cleanup check that found what the scenario made
// still present: a service, a key, a file, or a value not restored.
var ErrLeftBehind = emulationKind("cleanup left something behind")

// Verify runs every cleanup check of a plan and returns every failure, on
// every host, together.
func Verify(ctx context.Context, r Runner, checks []scenarios.PlannedCheck) error {
	var errs []error
	for _, c := range checks {
		if err := verifyOne(ctx, r, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// verifyOne runs one check. Native tools report absence by exit code:
// sc.exe query 1060 (no such service), reg.exe query 1 (no such key).
func verifyOne(ctx context.Context, r Runner, c scenarios.PlannedCheck) error {
	what := fmt.Sprintf("verify %s %s", c.Kind, c.Target)
	switch c.Kind {
	case scenarios.ServiceAbsent:
		return absentByExit(ctx, r, c, what, "sc.exe query "+cmdQuote(c.Target), 1060)
	case scenarios.KeyAbsent:
		return absentByExit(ctx, r, c, what, "reg.exe query "+cmdQuote(c.Target), 1)
	case scenarios.FileAbsent:
		return fileAbsent(ctx, r, c, what)
	case scenarios.ValueIs:
		return valueIs(ctx, r, c, what)
	}
	return fmt.Errorf("%s on %s: unknown check kind: %w", what, c.Host, ErrCommandFailed)
}

func absentByExit(ctx context.Context, r Runner, c scenarios.PlannedCheck, what, line string,
	absent int) error {
	res, err := r.Run(ctx, c.Host, scenarios.Cmd, line)
	switch {
	case err != nil:
		return fmt.Errorf("%s on %s: %w", what, c.Host, err)
	case res.DryRun || res.ExitCode == absent:
		return nil
	case res.ExitCode == 0:
		return fmt.Errorf("%s on %s: still present: %w", what, c.Host, ErrLeftBehind)
	}
	return fmt.Errorf("%s on %s: exit %d: %s: %w", what, c.Host, res.ExitCode,
		firstLine(res.Stdout+stderrText(res.Stderr)), ErrCommandFailed)
}

func fileAbsent(ctx context.Context, r Runner, c scenarios.PlannedCheck, what string) error {
	res, err := run(ctx, r, c.Host, what, "Test-Path -Path "+psQuote(c.Target))
	if err != nil || res.DryRun {
		return err
	}
	switch strings.TrimSpace(res.Stdout) {
	case "False":
		return nil
	case "True":
		return fmt.Errorf("%s on %s: still present: %w", what, c.Host, ErrLeftBehind)
	}
	return fmt.Errorf("%s on %s: unexpected output %q: %w", what, c.Host,
		firstLine(res.Stdout), ErrCommandFailed)
}

// valueIs reads one value with reg.exe query and compares its data; DWORD
// and QWORD data compare as numbers ("2" matches 0x2).
func valueIs(ctx context.Context, r Runner, c scenarios.PlannedCheck, what string) error {
	line := fmt.Sprintf("reg.exe query %s /v %s", cmdQuote(c.Target), cmdQuote(c.Name))
	res, err := r.Run(ctx, c.Host, scenarios.Cmd, line)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", what, c.Host, err)
	}
	if res.DryRun {
		return nil
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("%s on %s: value %s missing: %w", what, c.Host, c.Name, ErrLeftBehind)
	}
	typ, data, ok := regValue(res.Stdout, c.Name)
	if !ok {
		return fmt.Errorf("%s on %s: cannot read reg.exe output %q: %w", what, c.Host,
			firstLine(res.Stdout), ErrCommandFailed)
	}
	if !sameRegData(typ, data, c.Data) {
		return fmt.Errorf("%s on %s: %s is %q, want %q: %w", what, c.Host, c.Name, data, c.Data,
			ErrLeftBehind)
	}
	return nil
}

// regValue finds "    <name>    <type>    <data>" in reg.exe query output.
func regValue(out, name string) (typ, data string, ok bool) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.SplitN(strings.TrimSpace(line), "    ", 3)
		if len(f) >= 2 && strings.EqualFold(f[0], name) && strings.HasPrefix(f[1], "REG_") {
			if len(f) == 3 {
				data = f[2]
			}
			return f[1], strings.TrimRight(data, "\r"), true
		}
	}
	return "", "", false
}

func sameRegData(typ, got, want string) bool {
	if typ == "REG_DWORD" || typ == "REG_QWORD" {
		g, err1 := strconv.ParseUint(strings.TrimPrefix(got, "0x"), 16, 64)
		w, err2 := strconv.ParseUint(want, 0, 64)
		return err1 == nil && err2 == nil && g == w
	}
	return got == want
}

// cmdQuote quotes an argument for cmd.exe and the C runtime's parser.
func cmdQuote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// psQuote quotes a PowerShell single-quoted string.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
