package emulate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestJournalForgetsAVerifiedRun(t *testing.T) {
	j, err := OpenJournal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := plan(t, "sc-create-user-writable")
	o := Execute(context.Background(), &scripted{rules: absentRules}, p, canary,
		ExecOptions{Journal: j})
	if err := o.Err(); err != nil {
		t.Fatal(err)
	}
	if pending, err := j.Pending(); err != nil || len(pending) != 0 {
		t.Errorf("got %d pending entries (%v); want none after a verified cleanup", len(pending), err)
	}
}

func TestJournalKeepsAnUnverifiedRun(t *testing.T) {
	j, _ := OpenJournal(t.TempDir())
	p := plan(t, "sc-create-user-writable")
	r := &scripted{rules: append([]rule{{contains: "sc.exe query", res: Result{ExitCode: 0}}},
		absentRules...)}
	o := Execute(context.Background(), r, p, canary, ExecOptions{Journal: j})
	if !errors.Is(o.CleanupErr, ErrLeftBehind) {
		t.Fatalf("got %v; want ErrLeftBehind", o.CleanupErr)
	}
	if pending, _ := j.Pending(); len(pending) != 1 {
		t.Errorf("got %d pending entries; want the unverified run kept", len(pending))
	}
}

// TestJournalRecoversAKilledRun journals a plan as Execute does, then
// "dies" before cleanup; Recover must run the cleanup, verify it and close
// the entry.
func TestJournalRecoversAKilledRun(t *testing.T) {
	dir := t.TempDir()
	j, _ := OpenJournal(dir)
	p := plan(t, "psexec-default")
	if err := j.Begin(p); err != nil {
		t.Fatal(err)
	}

	next, _ := OpenJournal(dir) // the next run
	pending, err := next.Pending()
	if err != nil || len(pending) != 1 || pending[0].RunID != p.RunID ||
		len(pending[0].Cleanup) != len(p.Cleanup) {
		t.Fatalf("got %+v, %v; want the killed run's entry", pending, err)
	}
	r := &scripted{rules: absentRules}
	if err := next.Recover(context.Background(), r); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if r.ran("sc.exe delete PSEXESVC") != 1 || r.ran(`sc.exe query "PSEXESVC"`) != 1 {
		t.Errorf("recovery did not clean up and verify: %v", r.calls)
	}
	if pending, _ := next.Pending(); len(pending) != 0 {
		t.Errorf("got %d entries after recovery; want none", len(pending))
	}
}

func TestJournalRecoveryFailureKeepsTheEntry(t *testing.T) {
	j, _ := OpenJournal(t.TempDir())
	p := plan(t, "psexec-default")
	if err := j.Begin(p); err != nil {
		t.Fatal(err)
	}
	r := &scripted{rules: []rule{{contains: "sc.exe query", res: Result{ExitCode: 0}}}}
	if err := j.Recover(context.Background(), r); !errors.Is(err, ErrLeftBehind) {
		t.Errorf("got %v; want ErrLeftBehind", err)
	}
	if pending, _ := j.Pending(); len(pending) != 1 {
		t.Error("a failed recovery dropped its entry")
	}
}

func TestJournalReportsUnreadableEntries(t *testing.T) {
	dir := t.TempDir()
	j, _ := OpenJournal(dir)
	if err := os.WriteFile(filepath.Join(dir, "abc-x.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Pending(); err == nil {
		t.Error("Pending ignored a corrupt entry; want an error")
	}
}
