// Command svcharness proves that a detection for abnormal Windows service
// execution (MITRE ATT&CK analytic AN1185) works: it decodes and correlates
// Windows telemetry, drives scenarios on lab hosts over WinRM, and serves a
// simulated lab. Run "svcharness help" for the subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
