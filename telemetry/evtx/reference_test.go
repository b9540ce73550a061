package evtx

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/internal/dataset"
	"github.com/svcharness/svcharness/telemetry"
)

// TestDerivedXML compares every record of the EVTX files that have an
// evtxexport rendering in derived-xml/ with that rendering.
func TestDerivedXML(t *testing.T) {
	dir := dataset.Dir(t)
	xmls, err := filepath.Glob(filepath.Join(dir, "derived-xml", "*.xml"))
	if err != nil || len(xmls) == 0 {
		t.Fatalf("no derived XML in %s: %v", dir, err)
	}
	for _, x := range xmls {
		top, base, ok := strings.Cut(strings.TrimSuffix(filepath.Base(x), ".xml"), "__")
		if !ok {
			t.Fatalf("derived XML name %q lacks the <folder>__<base> form", x)
		}
		t.Run(base, func(t *testing.T) {
			path := findEVTX(t, filepath.Join(dir, top), base+".evtx")
			ref, err := os.ReadFile(x)
			if err != nil {
				t.Fatal(err)
			}
			compareWithRef(t, readFile(t, path), ref, nil)
		})
	}
}

// TestEvtxexport runs Debian's evtxexport (libevtx-utils) on every EVTX
// file of the corpus and compares its rendering with ours, record by record.
func TestEvtxexport(t *testing.T) {
	bin, err := exec.LookPath("evtxexport")
	if err != nil {
		t.Skip("evtxexport not on PATH (apt-get install libevtx-utils)")
	}
	dir := dataset.Dir(t)
	for _, path := range allEVTX(t, dir) {
		rel, _ := filepath.Rel(dir, path)
		t.Run(rel, func(t *testing.T) {
			out, err := exec.Command(bin, "-f", "xml", path).Output()
			if err != nil {
				t.Fatalf("evtxexport %s: %v", rel, err)
			}
			compareWithRef(t, readFile(t, path), out, knownDisagreements[filepath.Base(path)])
		})
	}
}

// knownDisagreements lists, per file, record IDs where evtxexport and this
// decoder differ and this decoder is right, with the reason.
var knownDisagreements = map[string]map[uint64]string{
	"Application_no_crc32.evtx": {
		441: "ExtraInfo holds the one-character string \"\\n\"; evtxexport writes an " +
			"empty element. The record stores the newline, so we keep it.",
	},
}

// compareWithRef matches our events to the reference records by record ID
// and compares each. Records only we recovered are allowed (the PARSER
// samples); a reference record we lack is an error.
func compareWithRef(t *testing.T, d decoded, refXML []byte, known map[uint64]string) {
	t.Helper()
	refs, bad := parseRefXML(refXML)
	for _, b := range bad {
		t.Errorf("reference record unreadable: %s", b)
	}
	ours := map[uint64]*telemetry.Event{}
	for _, ev := range d.events {
		ours[ev.RecordID] = ev
	}
	failures := 0
	for _, ref := range refs {
		id := parseUint(ref.system["EventRecordID"], 64)
		ev, ok := ours[id]
		if !ok {
			t.Errorf("record %d: in the reference, not decoded", id)
			continue
		}
		diffs := compareRef(ref, ev)
		if len(diffs) == 0 || known[id] != "" {
			continue
		}
		if failures++; failures <= 10 {
			t.Errorf("record %d:\n\t%s", id, strings.Join(diffs, "\n\t"))
		}
	}
	if failures > 10 {
		t.Errorf("%d records differ in all", failures)
	}
	if len(refs) == 0 {
		t.Errorf("reference holds no records")
	}
}

func findEVTX(t *testing.T, root, base string) string {
	t.Helper()
	for _, p := range allEVTX(t, root) {
		if filepath.Base(p) == base {
			return p
		}
	}
	t.Fatalf("%s not found under %s", base, root)
	return ""
}

func allEVTX(t *testing.T, root string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && bytes.HasSuffix([]byte(p), []byte(".evtx")) {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}
