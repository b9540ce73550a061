package correlate

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/internal/dataset"
	"github.com/svcharness/svcharness/telemetry"
	"github.com/svcharness/svcharness/telemetry/source"
)

// datasetPolicy is the policy the corpus is judged with; each approval in it
// is a decision documented in docs/correlator.md.
const datasetPolicy = "testdata/datasets-policy.yaml"

// readEvents decodes every record of a corpus file through telemetry/source,
// as "svcharness correlate" does. Skipped records are counted, not fatal.
func readEvents(t testing.TB, path string) (events []*telemetry.Event, skipped int) {
	t.Helper()
	in, err := source.Open(path, source.DefaultLimits)
	if err != nil {
		t.Logf("open %s: %v", path, err)
		return nil, 1
	}
	defer in.Close()
	for {
		ev, err := in.Next()
		switch {
		case errors.Is(err, io.EOF):
			return events, skipped
		case telemetry.IsRecordError(err):
			skipped++
		case err != nil:
			t.Logf("%s: stop reading: %v", filepath.Base(path), err)
			return events, skipped + 1
		default:
			events = append(events, ev)
		}
	}
}

// correlateFile runs the engine over one corpus file.
func correlateFile(t testing.TB, pol *Policy, path string) ([]Alert, Stats) {
	events, _ := readEvents(t, path)
	eng := New(pol, Options{})
	for _, ev := range events {
		eng.Process(ev)
	}
	return eng.Close(), eng.Stats()
}

func unsuppressed(alerts []Alert) []Alert {
	var out []Alert
	for _, a := range alerts {
		if !a.Suppressed() {
			out = append(out, a)
		}
	}
	return out
}

// mentions reports whether an alert names s in its service, display name,
// image path or burst members.
func mentions(a Alert, s string) bool {
	s = strings.ToLower(s)
	fields := append([]string{a.Service, a.DisplayName, a.ImagePath}, a.Services...)
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), s) {
			return true
		}
	}
	return false
}

// TestExpectations checks the engine against every verdict in
// EXPECTATIONS.json. BORDERLINE entries are held to the decision recorded in
// borderlineDecisions; GAP entries must stay silent, for the reason given in
// docs/correlator.md.
func TestExpectations(t *testing.T) {
	dir, entries := dataset.Expectations(t)
	pol, err := LoadPolicyFile(datasetPolicy)
	if err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, ent := range entries {
		ok := t.Run(ent.Path, func(t *testing.T) {
			alerts, _ := correlateFile(t, pol, filepath.Join(dir, ent.Path))
			checkVerdict(t, ent, alerts)
		})
		if ok {
			passed++
		}
	}
	t.Logf("EXPECTATIONS.json: %d of %d files pass", passed, len(entries))
}

// borderlineDecisions is the project's verdict for each BORDERLINE file, by
// base name: true means at least one unsuppressed alert.
var borderlineDecisions = map[string]bool{
	"covenant_sharpsc_start_dcerpc_smb_svcctl.zip":       false,
	"empire_shell_dcerpc_smb_service_dll_hijack.zip":     false,
	"ID13-New service for Mimikatz.evtx":                 false,
	"DSE_bypass_BYOV_TDL_dummydriver_sysmon_6_7_13.evtx": false,
}

func checkVerdict(t *testing.T, ent dataset.Entry, alerts []Alert) {
	t.Helper()
	live := unsuppressed(alerts)
	switch ent.Verdict {
	case "ALERT":
		if len(live) == 0 {
			t.Errorf("got no unsuppressed alert; want at least one (%s)", ent.Reason)
		}
	case "SILENT", "GAP":
		for _, a := range live {
			t.Errorf("got alert %s %q %v score %d; want none (%s)", a.Host, a.Service, a.Signals,
				a.Score, ent.Reason)
		}
	case "MIXED":
		for _, name := range ent.Attack {
			if !slicesAny(live, func(a Alert) bool { return mentions(a, name) }) {
				t.Errorf("got no alert mentioning %q; want one", name)
			}
		}
		for _, name := range ent.Benign {
			for _, a := range live {
				if mentions(a, name) {
					t.Errorf("got alert %q mentioning benign %q; want none", a.Service, name)
				}
			}
		}
	case "BORDERLINE":
		want, decided := borderlineDecisions[filepath.Base(ent.Path)]
		if !decided {
			t.Fatalf("no decision recorded for BORDERLINE %s", ent.Path)
		}
		if got := len(live) > 0; got != want {
			t.Errorf("got alerting=%v (%d alerts); want %v as decided", got, len(live), want)
		}
	case "PARSER":
		// Decoding damaged files must not crash the engine; any verdict goes.
	default:
		t.Fatalf("unknown verdict %q", ent.Verdict)
	}
	if t.Failed() || testing.Verbose() {
		for _, a := range alerts {
			t.Logf("alert %s host=%s service=%q image=%q signals=%v score=%d suppressed=%q reasons=%q",
				a.ID, a.Host, a.Service, a.ImagePath, a.Signals, a.Score, a.SuppressedBy, a.Reasons)
		}
	}
}

func slicesAny[T any](s []T, f func(T) bool) bool {
	for _, v := range s {
		if f(v) {
			return true
		}
	}
	return false
}
