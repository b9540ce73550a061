package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/labs"
)

const labCheckUsage = `
Usage: svcharness lab check --lab FILE [--json] [--timeout D]

Check that every host of a lab inventory is ready for scenarios: WinRM
answers and accepts the inventory's credentials, the lab marker is present on
hosts declared lab: true, Sysmon runs with a configuration that logs writes to
the Services keys (ImagePath, ServiceDll, Start), the processes services.exe
starts and service binaries' network connections, and auditpol enables the
subcategories behind 4697 (Security System Extension) and 5145 (Detailed File
Share). Every check that does not pass says what to fix. A sensor the
inventory does not list for a host is a warning, not a failure.

Exit codes: 0 the lab is ready (warnings allowed); 1 a check failed; 2 usage
error or invalid inventory; 3 a host is unreachable or refused the
credentials.`

func init() { labSubcommands["check"] = runLabCheck }

func runLabCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		lab     string
		asJSON  bool
		timeout time.Duration
	)
	fs := newFlagSet("lab check", labCheckUsage, stderr)
	fs.StringVar(&lab, "lab", "", "lab inventory file (required)")
	fs.BoolVar(&asJSON, "json", false, "print the findings as JSON")
	fs.DurationVar(&timeout, "timeout", time.Minute, "time limit of each command on a host")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErrorf("lab check: %v", err)
	}
	switch {
	case fs.NArg() > 0:
		return usageErrorf("lab check: unexpected arguments %q", fs.Args())
	case lab == "":
		return usageErrorf("lab check: --lab FILE is required")
	}
	report, err := checkLab(ctx, lab, timeout)
	if err != nil {
		return err
	}
	return writeLabCheck(report, asJSON, stdout)
}

// checkLab loads the inventory and checks every host over WinRM.
func checkLab(ctx context.Context, path string, timeout time.Duration) (*labs.CheckReport, error) {
	inv, err := labs.Load(path)
	if err != nil {
		return nil, fmt.Errorf("lab check: %w", err)
	}
	targets, _, err := emulate.FromInventory(inv)
	if err != nil {
		return nil, fmt.Errorf("lab check: %w", err)
	}
	w, err := emulate.NewWinRM(targets, emulate.Options{})
	if err != nil {
		return nil, fmt.Errorf("lab check: %w", err)
	}
	return labs.Check(ctx, inv, emulate.LabProber(w), labs.CheckOptions{ProbeTimeout: timeout}), nil
}

func writeLabCheck(r *labs.CheckReport, asJSON bool, stdout io.Writer) error {
	var err error
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.WriteText(stdout)
	}
	switch {
	case err != nil:
		return fmt.Errorf("lab check: write report: %w", err)
	case r.Unreachable():
		return &exitError{code: exitEmulation, err: errors.New("lab check: a host is unreachable")}
	case r.Failed():
		return &exitError{code: exitFindings, err: errors.New("lab check: the lab is not ready")}
	}
	return nil
}
