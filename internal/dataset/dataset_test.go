package dataset

import (
	"os"
	"path/filepath"
	"testing"
)

func TestExpectationsListFilesThatExist(t *testing.T) {
	dir, entries := Expectations(t)
	if len(entries) == 0 {
		t.Fatal("got 0 entries in EXPECTATIONS.json; want some")
	}
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Path)); err != nil {
			t.Errorf("entry %s: %v", e.Path, err)
		}
	}
}

func TestLocateHonoursEnvVar(t *testing.T) {
	t.Setenv(EnvVar, t.TempDir())
	if _, ok := Locate(); ok {
		t.Fatal("got ok for an empty folder; want not found")
	}
}
