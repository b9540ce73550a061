package emulate

import (
	"context"
	"fmt"
	"strings"
)

// DefaultLabMarker is where provisioning puts the lab marker when the
// inventory names no other path. Its presence is the host's own statement
// that it is a disposable lab machine.
const DefaultLabMarker = `C:\ProgramData\svcharness\lab.marker`

// ErrNotLab matches a host that may not receive malicious scenarios: the
// inventory does not declare it a lab host, or it lacks the lab marker.
var ErrNotLab = emulationKind("not a lab host")

// CheckLabHost is the interlock malicious scenarios pass before they touch
// a host: declared is the inventory's lab flag, marker the marker path (""
// for DefaultLabMarker). A DryRun passes when the host is declared.
func CheckLabHost(ctx context.Context, r Runner, host string, declared bool,
	marker string) error {
	if !declared {
		return fmt.Errorf("check %s: the inventory does not declare it a lab host: %w",
			host, ErrNotLab)
	}
	if marker == "" {
		marker = DefaultLabMarker
	}
	res, err := run(ctx, r, host, "check lab marker", "Test-Path -Path "+psQuote(marker))
	if err != nil || res.DryRun {
		return err
	}
	if strings.TrimSpace(res.Stdout) != "True" {
		return fmt.Errorf("check %s: lab marker %s not found: %w", host, marker, ErrNotLab)
	}
	return nil
}
