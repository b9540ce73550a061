package evtx

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/internal/dataset"
	"github.com/svcharness/svcharness/telemetry"
)

// decoded is everything a Reader produced for one file.
type decoded struct {
	events  []*telemetry.Event
	skipped []*telemetry.RecordError
	damage  []*telemetry.RecordError
}

func readFile(t testing.TB, path string) decoded {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(filepath.Base(path), f, st.Size())
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer r.Close()
	var d decoded
	for {
		ev, err := r.Next()
		var re *telemetry.RecordError
		switch {
		case errors.Is(err, io.EOF):
			d.damage = r.Damage()
			return d
		case errors.As(err, &re):
			d.skipped = append(d.skipped, re)
		case err != nil:
			t.Fatalf("read %s: %v", path, err)
		default:
			d.events = append(d.events, ev)
		}
	}
}

// TestDatasetCounts checks every EVTX file of the corpus except the damaged
// PARSER samples against EXPECTATIONS.json: record count and the number of
// events per "<channel>:<event ID>" key.
func TestDatasetCounts(t *testing.T) {
	dir, entries := dataset.Expectations(t)
	for _, e := range entries {
		if !strings.HasSuffix(e.Path, ".evtx") || e.Verdict == "PARSER" {
			continue
		}
		t.Run(e.Path, func(t *testing.T) {
			d := readFile(t, filepath.Join(dir, e.Path))
			for _, s := range d.skipped {
				t.Errorf("skipped: %v", s)
			}
			if len(d.events) != e.Records {
				t.Errorf("got %d records; want %d", len(d.events), e.Records)
			}
			got := map[string]int{}
			for _, ev := range d.events {
				got[ev.Key()]++
			}
			for key, want := range e.EventCounts {
				if got[key] != want {
					t.Errorf("%s: got %d events; want %d", key, got[key], want)
				}
			}
		})
	}
}

// TestParserSamples checks the damaged samples. Where the count differs from
// EXPECTATIONS.json (python-evtx's and libevtx's counts) the case says why.
func TestParserSamples(t *testing.T) {
	dir := dataset.Dir(t)
	tests := []struct {
		file        string
		records     int
		skipped     []string // Pos of each skipped record or chunk
		damage      error    // one damage note must wrap it
		explanation string
	}{{
		file:    "Application_no_crc32.evtx",
		records: 17,
		damage:  ErrChecksum,
	}, {
		// libevtx and python-evtx: 335. Record 3 of chunk 0 has a size
		// field of 0; they stop reading chunk 0 there and lose the 115
		// records from it on. We end the record at the next record
		// signature: record 3 decodes whole (its copy of size is 0 as
		// well) and so do the 114 after it, all with consecutive
		// identifiers, so all 450 records of the 4 chunks come out.
		file:    "sample-with-zero-data-size-event.evtx",
		records: 450,
		damage:  ErrCorrupt,
	}, {
		// python-evtx: 270, libevtx: 267. The file has 4 KiB blocks
		// wiped to zeros. Chunks 6 and 10 lost their headers: their
		// surviving records refer to names and templates in wiped
		// blocks, so none decodes (one error per chunk). Records 46741
		// (chunk 0), 47640 (chunk 7) and 45933 (chunk 9) run into a
		// wiped block: their copy of size is 0 and their values are
		// zeros, so we skip them; python-evtx emits them (270 = 267 +
		// 3), libevtx does not. In chunk 7 a wiped block hides records
		// 47641-47674; the others stop the chunk there, we find the next
		// record signature and recover 47675-47705 (298 = 267 + 31).
		file:    "sample_with_a_bad_chunk_magic.evtx",
		records: 298,
		skipped: []string{"chunk 0 record 46741", "chunk 6", "chunk 7 record 47640",
			"chunk 7 offset 0x2060", "chunk 9 record 45933", "chunk 10"},
		damage: ErrChecksum,
	}, {
		// An entry of chunk 0's common string offset table is zeroed.
		// The table is only a writer's cache: names are referenced by
		// their own offsets, so nothing is lost.
		file:    "security_bad_string_cache.evtx",
		records: 2261,
		damage:  ErrChecksum,
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d := readFile(t, filepath.Join(dir, "omerbenamram-evtx", "samples", tt.file))
			if len(d.events) != tt.records {
				t.Errorf("got %d records; want %d", len(d.events), tt.records)
			}
			var pos []string
			for _, s := range d.skipped {
				pos = append(pos, s.Pos)
			}
			if strings.Join(pos, "|") != strings.Join(tt.skipped, "|") {
				t.Errorf("got skipped %q; want %q", pos, tt.skipped)
			}
			if !anyWraps(d.damage, tt.damage) {
				t.Errorf("got damage %v; want one wrapping %v", d.damage, tt.damage)
			}
		})
	}
}

func anyWraps(errs []*telemetry.RecordError, target error) bool {
	for _, e := range errs {
		if errors.Is(e, target) {
			return true
		}
	}
	return false
}

// TestBadStringCacheSameEvents checks that the sample with a damaged string
// cache yields exactly the events of the undamaged original.
func TestBadStringCacheSameEvents(t *testing.T) {
	dir := dataset.Dir(t)
	samples := filepath.Join(dir, "omerbenamram-evtx", "samples")
	good := readFile(t, filepath.Join(samples, "security.evtx"))
	bad := readFile(t, filepath.Join(samples, "security_bad_string_cache.evtx"))
	if len(good.events) != len(bad.events) {
		t.Fatalf("got %d events; want %d", len(bad.events), len(good.events))
	}
	for i := range good.events {
		if diff := diffEvents(good.events[i], bad.events[i]); diff != "" {
			t.Errorf("record %d: %s", good.events[i].RecordID, diff)
		}
	}
}
