package source

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/internal/dataset"
)

// countFile decodes one corpus file and returns its records, the records per
// Event.Key, and the skipped records.
func countFile(t *testing.T, file string) (int, map[string]int, int) {
	t.Helper()
	in, err := Open(file, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	evs, skips, end := drain(t, in)
	if end != nil {
		t.Fatalf("got end error %v after %d records", end, len(evs))
	}
	keys := map[string]int{}
	for _, ev := range evs {
		keys[ev.Key()]++
	}
	return len(evs), keys, len(skips)
}

// TestDatasetExpectations decodes every non-EVTX file of EXPECTATIONS.json
// through Open (format found from content) and checks its record count and,
// per key of an1185_event_counts, the records with that channel and event
// ID. The EVTX files are telemetry/evtx's to test.
func TestDatasetExpectations(t *testing.T) {
	dir, entries := dataset.Expectations(t)
	tested := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Format, "EVTX") {
			continue
		}
		tested++
		t.Run(e.Path, func(t *testing.T) {
			n, keys, _ := countFile(t, filepath.Join(dir, filepath.FromSlash(e.Path)))
			if n != e.Records {
				t.Errorf("got %d records; want %d", n, e.Records)
			}
			for key, want := range e.EventCounts {
				if got := keys[key]; got != want {
					t.Errorf("%s: got %d records; want %d", key, got, want)
				}
			}
		})
	}
	if tested == 0 {
		t.Error("EXPECTATIONS.json lists no non-EVTX file")
	}
}

// TestDatasetDerivedXML checks that each derived-xml/<top>__<base>.xml,
// rendered from an EVTX file by libevtx, decodes to as many events as that
// EVTX file holds records.
func TestDatasetDerivedXML(t *testing.T) {
	dir, entries := dataset.Expectations(t)
	records := map[string]int{}
	for _, e := range entries {
		top, _, _ := strings.Cut(e.Path, "/")
		base := strings.TrimSuffix(path.Base(e.Path), ".evtx")
		records[top+"__"+base+".xml"] = e.Records
	}
	files, err := os.ReadDir(filepath.Join(dir, "derived-xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("derived-xml is empty")
	}
	for _, f := range files {
		t.Run(f.Name(), func(t *testing.T) {
			want, ok := records[f.Name()]
			if !ok {
				t.Fatalf("no EVTX source for %s in EXPECTATIONS.json", f.Name())
			}
			n, _, skips := countFile(t, filepath.Join(dir, "derived-xml", f.Name()))
			if n != want || skips != 0 {
				t.Errorf("got %d events and %d skips; want %d events", n, skips, want)
			}
		})
	}
}
