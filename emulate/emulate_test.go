package emulate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestEmulateRefusesUndeclaredHostsForMaliciousPlans(t *testing.T) {
	p := plan(t, "psexec-default")
	r := &scripted{rules: append([]rule{{contains: "lab.marker", res: Result{Stdout: "True"}}},
		absentRules...)}
	e := Emulate(context.Background(), r, p, EmulateOptions{Payload: canary,
		Hosts: map[string]HostInfo{"TARGET01": {Lab: true}}}) // ATTACKER01 undeclared
	if !errors.Is(e.Err(), ErrNotLab) {
		t.Fatalf("got %v; want ErrNotLab", e.Err())
	}
	if r.ran("PsExec") != 0 || r.ran("sc.exe") != 0 {
		t.Errorf("something ran on a refused plan: %v", r.calls)
	}
}

// TestEmulateCollectsBeforeCleanup: telemetry is read after the steps and
// before cleanup, so cleanup's own commands are not part of the evidence.
func TestEmulateCollectsBeforeCleanup(t *testing.T) {
	p := plan(t, "sc-create-user-writable")
	r := &scripted{rules: append([]rule{
		{contains: "lab.marker", res: Result{Stdout: "True"}},
		{contains: "UtcNow", res: Result{Stdout: "2026-12-03T19:00:00.0000000Z"}},
	}, absentRules...)}
	e := Emulate(context.Background(), r, p, EmulateOptions{Payload: canary,
		Hosts: map[string]HostInfo{"TARGET01": {Lab: true}}})
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	first := func(sub string) int {
		return slices.IndexFunc(r.calls, func(c string) bool { return strings.Contains(c, sub) })
	}
	collect, lastStep, cleanup := first("wevtutil"), first("sc.exe delete"), first("sc.exe stop")
	if collect < 0 || !(lastStep < collect && collect < cleanup) {
		t.Errorf("got last step at %d, collection at %d, cleanup at %d; want that order",
			lastStep, collect, cleanup)
	}
	if len(e.Collections) != 1 || e.Since["TARGET01"].IsZero() {
		t.Errorf("got %d collections, since %v; want the target's", len(e.Collections), e.Since)
	}
}

func TestEmulateSkipsCollectionWhenAStepFails(t *testing.T) {
	p := plan(t, "sc-create-user-writable")
	r := &scripted{rules: append([]rule{
		{contains: "lab.marker", res: Result{Stdout: "True"}},
		{contains: "UtcNow", res: Result{Stdout: "2026-12-03T19:00:00.0000000Z"}},
		{contains: "sc.exe create", res: Result{ExitCode: 1073}},
	}, absentRules...)}
	e := Emulate(context.Background(), r, p, EmulateOptions{Payload: canary,
		Hosts: map[string]HostInfo{"TARGET01": {Lab: true}}})
	if !errors.Is(e.Err(), ErrStepFailed) || r.ran("wevtutil") != 0 {
		t.Errorf("got %v after %d collections; want ErrStepFailed and none",
			e.Err(), r.ran("wevtutil"))
	}
	if r.ran("sc.exe stop") != 1 {
		t.Error("cleanup did not run after the failed step")
	}
}
