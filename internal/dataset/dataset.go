// Package dataset finds the shared corpus of real Windows recordings
// (../shared/datasets) for tests, and reads its EXPECTATIONS.json.
//
// Tests call Dir, which skips the test with a message naming where it looked
// when the corpus is absent. SVCHARNESS_DATASETS overrides the default, which
// is ../shared/datasets beside the module root.
package dataset

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// EnvVar names the environment variable that points at the corpus.
const EnvVar = "SVCHARNESS_DATASETS"

// Entry is one file of EXPECTATIONS.json.
type Entry struct {
	Path        string         `json:"path"`
	Format      string         `json:"format"`
	Size        int64          `json:"size"`
	SHA256      string         `json:"sha256"`
	Records     int            `json:"records"`
	Hosts       []string       `json:"hosts"`
	EventCounts map[string]int `json:"an1185_event_counts"`
	Verdict     string         `json:"verdict"`
	Tool        string         `json:"tool"`
	Reason      string         `json:"reason"`
	Attack      []string       `json:"attack"`
	Benign      []string       `json:"benign"`
}

// Locate returns the corpus folder and whether it exists, without skipping.
func Locate() (string, bool) {
	dir := os.Getenv(EnvVar)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return "../shared/datasets", false
		}
		dir = filepath.Join(root, "..", "shared", "datasets")
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		dir = abs
	}
	st, err := os.Stat(filepath.Join(dir, "EXPECTATIONS.json"))
	return dir, err == nil && !st.IsDir()
}

// Dir returns the corpus folder, or skips t when it is absent.
func Dir(t testing.TB) string {
	t.Helper()
	dir, ok := Locate()
	if !ok {
		t.Skipf("dataset corpus not found at %s (set %s to its folder)", dir, EnvVar)
	}
	return dir
}

// Expectations reads EXPECTATIONS.json from the corpus, skipping t when the
// corpus is absent and failing it when the file is unreadable.
func Expectations(t testing.TB) (dir string, entries []Entry) {
	t.Helper()
	dir = Dir(t)
	entries, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, entries
}

// Load reads EXPECTATIONS.json from dir.
func Load(dir string) ([]Entry, error) {
	b, err := os.ReadFile(filepath.Join(dir, "EXPECTATIONS.json"))
	if err != nil {
		return nil, fmt.Errorf("read expectations: %w", err)
	}
	var entries []Entry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("parse expectations: %w", err)
	}
	return entries, nil
}

// moduleRoot walks up from the working directory to the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}
