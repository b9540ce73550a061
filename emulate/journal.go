package emulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/svcharness/svcharness/scenarios"
)

// Journal records the cleanup each running scenario still owes, one file
// per run and scenario, written before the scenario touches a host and
// removed once its cleanup is verified. A run that is killed leaves its
// entries behind; the next run calls Recover first and finishes them.
type Journal struct {
	dir string
}

// JournalEntry is the cleanup one scenario run owes.
type JournalEntry struct {
	RunID    string                   `json:"run_id"`
	Scenario string                   `json:"scenario"`
	Started  time.Time                `json:"started"`
	Cleanup  []scenarios.Command      `json:"cleanup"`
	Checks   []scenarios.PlannedCheck `json:"checks"`

	file string
}

// maxJournalEntry bounds one entry file; an entry is a few kilobytes.
const maxJournalEntry = 1 << 20

var journalName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9a-z-]{1,140}\.json$`)
})

// OpenJournal opens (creating it, private to the user) the journal
// directory.
func OpenJournal(dir string) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open cleanup journal: %w", err)
	}
	return &Journal{dir: dir}, nil
}

func (j *Journal) path(runID, scenario string) string {
	return filepath.Join(j.dir, strings.ToLower(runID+"-"+scenario)+".json")
}

// Begin records the plan's cleanup. It writes to a temporary file, syncs
// it and renames it into place, so an entry is either whole or absent.
func (j *Journal) Begin(p *scenarios.Plan) error {
	e := JournalEntry{RunID: p.RunID, Scenario: p.Scenario.ID, Started: time.Now().UTC(),
		Cleanup: p.Cleanup, Checks: p.Checks}
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return fmt.Errorf("journal cleanup of %s: %w", p.Scenario.ID, err)
	}
	dst := j.path(p.RunID, p.Scenario.ID)
	if !journalName().MatchString(filepath.Base(dst)) {
		return fmt.Errorf("journal cleanup of %s: unusable run ID %q", p.Scenario.ID, p.RunID)
	}
	f, err := os.CreateTemp(j.dir, ".entry-*")
	if err != nil {
		return fmt.Errorf("journal cleanup of %s: %w", p.Scenario.ID, err)
	}
	defer os.Remove(f.Name()) // after a successful rename this finds nothing
	_, err = f.Write(data)
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		return fmt.Errorf("journal cleanup of %s: %w", p.Scenario.ID, err)
	}
	return nil
}

// Done removes the plan's entry: its cleanup has been verified.
func (j *Journal) Done(p *scenarios.Plan) error {
	err := os.Remove(j.path(p.RunID, p.Scenario.ID))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("close journal entry of %s: %w", p.Scenario.ID, err)
	}
	return nil
}

// Pending returns the entries left by runs that did not finish, oldest
// first. An unreadable entry is an error, not silently skipped: it stands
// for cleanup nobody has done.
func (j *Journal) Pending() ([]JournalEntry, error) {
	des, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("read cleanup journal: %w", err)
	}
	var out []JournalEntry
	var errs []error
	for _, de := range des {
		if de.IsDir() || !journalName().MatchString(de.Name()) {
			continue
		}
		e, err := readEntry(filepath.Join(j.dir, de.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b JournalEntry) int { return a.Started.Compare(b.Started) })
	return out, errors.Join(errs...)
}

func readEntry(path string) (JournalEntry, error) {
	var e JournalEntry
	f, err := os.Open(path)
	if err != nil {
		return e, fmt.Errorf("read journal entry: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJournalEntry+1))
	if err == nil && len(data) > maxJournalEntry {
		err = errors.New("entry too large")
	}
	if err == nil {
		err = json.Unmarshal(data, &e)
	}
	if err != nil {
		return e, fmt.Errorf("read journal entry %s: %w", filepath.Base(path), err)
	}
	e.file = path
	return e, nil
}

// Recover finishes every pending entry: it runs its cleanup and verifies
// it, and removes the entry when that succeeds. Every failure is returned
// together; the entries that failed stay for the next attempt.
func (j *Journal) Recover(ctx context.Context, r Runner) error {
	entries, err := j.Pending()
	errs := []error{err}
	for _, e := range entries {
		_, cerr := runCommands(ctx, r, e.Cleanup, false)
		verr := Verify(ctx, r, e.Checks)
		if err := errors.Join(cerr, verr); err != nil {
			errs = append(errs, fmt.Errorf("recover %s of run %s: %w", e.Scenario, e.RunID, err))
			continue
		}
		if err := os.Remove(e.file); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("close journal entry of %s: %w", e.Scenario, err))
		}
	}
	return errors.Join(errs...)
}
