package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/labs"
)

// buildCLI builds the svcharness binary into the test's temporary
// directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and runs it in processes of its own; not with -short")
	}
	bin := filepath.Join(t.TempDir(), "svcharness")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build svcharness: %v\n%s", err, out)
	}
	return bin
}

// TestInterruptedRunLeavesNoService runs real processes: "lab serve" in one,
// "run --lab" in another, stopped while a step hangs after the scenario has
// installed its service, then a second run. SIGINT lets the first run clean
// up itself; SIGKILL leaves its journal entry, which the second run must
// finish. Either way a service query on the simulated host finds nothing.
func TestInterruptedRunLeavesNoService(t *testing.T) {
	bin := buildCLI(t)
	for _, sig := range []os.Signal{os.Interrupt, os.Kill} {
		t.Run(sig.String(), func(t *testing.T) { interruptedRun(t, bin, sig) })
	}
}

func interruptedRun(t *testing.T, bin string, sig os.Signal) {
	dir := t.TempDir()
	invPath := filepath.Join(dir, "lab", "inventory.yaml")
	// The fifth command of the run hangs (the interlock, the clock, the
	// payload's streamed upload and sc.exe create come before it): the
	// scenario's second step, after its service exists.
	serveLabProcess(t, bin, invPath, "--fault", "command:hang*1+4")
	inv, err := labs.Load(invPath)
	if err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, "journal")
	// The simulated lab runs any uploaded program as the canary.
	canary := filepath.Join(dir, "canary.exe")
	if err := os.WriteFile(canary, []byte("MZ canary stand-in"), 0o644); err != nil {
		t.Fatal(err)
	}
	runArgs := func(reportDir string, scenario string) []string {
		return []string{"run", "--lab", invPath, "--journal", journal, "--report-dir",
			filepath.Join(dir, reportDir), "--settle", "0s", "--canary", canary,
			"--scenario", scenario}
	}

	first := exec.Command(bin, append(runArgs("r1", "sc-create-user-writable"),
		"--verbose")...)
	firstErr := newLineBuffer()
	first.Stderr = firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	service := waitForJournalledService(t, journal)
	// Every command counts towards the fault's skip, the test's own queries
	// too, so the test waits for the fourth finished command in the run's
	// debug log rather than asking the lab.
	waitForCount(t, firstErr, "command finished", 4)
	time.Sleep(100 * time.Millisecond)
	if err := first.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err = first.Wait()
	checkFirstExit(t, sig, err, firstErr.String())
	if sig == os.Interrupt {
		if n := journalEntries(t, journal); n != 0 {
			t.Errorf("got %d journal entries after SIGINT; want 0: the run cleans up", n)
		}
		queryService(t, inv, service, 1060)
	}
	if sig == os.Kill {
		if n := journalEntries(t, journal); n != 1 {
			t.Fatalf("got %d journal entries after SIGKILL; want 1", n)
		}
		queryService(t, inv, service, 0) // left behind, for the next run to remove
	}

	second := exec.Command(bin, runArgs("r2", "spooler-restart")...)
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if sig == os.Kill && !strings.Contains(string(out), "finishing the cleanup of 1") {
		t.Errorf("the second run did not finish the journalled cleanup:\n%s", out)
	}
	queryService(t, inv, service, 1060) // ERROR_SERVICE_DOES_NOT_EXIST
	if n := journalEntries(t, journal); n != 0 {
		t.Errorf("got %d journal entries after the second run; want 0", n)
	}
}

func checkFirstExit(t *testing.T, sig os.Signal, err error, stderr string) {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("first run: got %v; want it stopped by %v", err, sig)
	}
	if sig == os.Interrupt && ee.ExitCode() != exitEmulation {
		t.Errorf("first run after SIGINT: exit %d; want %d\n%s", ee.ExitCode(), exitEmulation,
			stderr)
	}
}

// serveLabProcess starts "svcharness lab serve" and waits until it serves.
func serveLabProcess(t *testing.T, bin, invPath string, extra ...string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"lab", "serve", "--inventory-out", invPath},
		extra...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "serving") {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("lab serve did not start within 30s")
	}
}

// waitForJournalledService reads the service name the running scenario's
// journal entry promises to remove.
func waitForJournalledService(t *testing.T, dir string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, e := range entries {
			if name := journalService(e); name != "" {
				return name
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no journal entry with a service_absent check within 30s")
	return ""
}

func journalService(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var e struct {
		Checks []struct{ Kind, Target string } `json:"checks"`
	}
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	for _, c := range e.Checks {
		if c.Kind == "service_absent" {
			return c.Target
		}
	}
	return ""
}

func journalEntries(t *testing.T, dir string) int {
	t.Helper()
	entries, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// waitForCount waits until s occurs n times in b.
func waitForCount(t *testing.T, b *lineBuffer, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(b.String(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%q did not occur %d times within 30s:\n%s", s, n, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func queryService(t *testing.T, inv *labs.Inventory, service string, want int) {
	t.Helper()
	if got := scQuery(t, inv, service); got != want {
		t.Errorf("sc.exe query %s on SRV01: exit %d; want %d", service, got, want)
	}
}

func scQuery(t *testing.T, inv *labs.Inventory, service string) int {
	t.Helper()
	h, ok := inv.Host("SRV01")
	if !ok {
		t.Fatal("no SRV01 in the inventory")
	}
	cred, err := inv.Credential(h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, code, err := inventoryClient(t, inv, h, cred).RunCmdWithContext(ctx,
		"sc.exe query "+service)
	if err != nil {
		t.Fatalf("sc.exe query %s: %v", service, err)
	}
	return code
}
