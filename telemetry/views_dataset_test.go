package telemetry_test

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

// TestViewsOnDatasets decodes every record of the shared corpus and checks
// that each event of a kind AN1185 reads decodes with its view, and that the
// values the correlator joins on normalize: service and start types parse,
// image paths have a canonical form, service-key writes name their service,
// and hex or decimal IDs parse. It reports every failing value once.
func TestViewsOnDatasets(t *testing.T) {
	dir, entries := dataset.Expectations(t)
	problems := map[string]int{}
	counts := map[string]int{}
	for _, entry := range entries {
		if entry.Verdict == "PARSER" {
			continue // the damaged EVTX samples; their decoders have their own tests
		}
		readViews(t, filepath.Join(dir, entry.Path), counts, problems)
	}
	for _, key := range []string{"Sysmon:1", "Sysmon:13", "System:7045", "Security:4697",
		"Security:4688", "Security:4624", "Security:5145", "Sysmon:17", "System:7036"} {
		if counts[key] == 0 {
			t.Errorf("no %s event checked in the corpus; want some", key)
		}
	}
	for p, n := range problems {
		t.Errorf("%s (%d records)", p, n)
	}
	t.Logf("checked %v", counts)
}

// readViews checks every event of one input.
func readViews(t *testing.T, path string, counts, problems map[string]int) {
	in, err := source.Open(path, source.DefaultLimits)
	if err != nil {
		t.Errorf("open %s: %v", path, err)
		return
	}
	defer in.Close()
	for {
		e, err := in.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if telemetry.IsRecordError(err) {
				continue // counted by the decoder tests
			}
			t.Errorf("read %s: %v", path, err)
			return
		}
		if p := checkRealEvent(e); p != "" {
			problems[e.Key()+": "+p]++
		}
		counts[e.Key()]++
	}
}

// checkRealEvent returns what is wrong with one real event's view, or "".
func checkRealEvent(e *telemetry.Event) string {
	switch e.Key() {
	case "Sysmon:1", "Security:4688":
		p, ok := e.ProcessCreate()
		if !ok || p.ImageKey == "" || (e.EventID == 1 && p.ProcessGUID == "") {
			return "ProcessCreate() without image or GUID"
		}
		// NXLog-flattened Sysmon records can lack ProcessId (the GUID is
		// the join key); a present ID must parse.
		if v, present := e.Get(pidField(e)); present {
			if _, ok := telemetry.ParseNumber(v); !ok {
				return "process ID " + quote(v) + " does not parse"
			}
		}
	case "Sysmon:12", "Sysmon:13", "Sysmon:14":
		r, ok := e.RegistryEvent()
		if !ok || r.Key == "" {
			return "RegistryEvent() without a key"
		}
		if strings.Contains(strings.ToLower(r.Target), `\services\`) &&
			strings.Contains(r.Key, `currentcontrolset\services\`) && r.Service == "" {
			return "service key " + quote(r.Target) + " names no service"
		}
	case "System:7045", "Security:4697":
		return checkRealInstall(e)
	case "System:7040":
		for _, f := range []string{"param2", "param3"} {
			if _, ok := telemetry.ParseStartType(e.Value(f)); !ok {
				return "7040 start type " + quote(e.Value(f)) + " does not parse"
			}
		}
	case "Security:4624":
		// LogonType 0 is real: the SYSTEM logon at boot (security.evtx).
		if l, ok := e.Logon(); !ok || l.TargetLogonID == 0 {
			return "Logon() without a logon ID"
		}
		if _, ok := telemetry.ParseNumber(e.Value("LogonType")); !ok {
			return "logon type " + quote(e.Value("LogonType")) + " does not parse"
		}
	}
	return ""
}

func pidField(e *telemetry.Event) string {
	if e.EventID == 4688 {
		return "NewProcessId"
	}
	return "ProcessId"
}

// checkRealInstall checks a 7045 or 4697.
func checkRealInstall(e *telemetry.Event) string {
	s, ok := e.ServiceInstall()
	if !ok || s.ServiceName == "" || s.ImageKey == "" {
		return "ServiceInstall() without name or image"
	}
	startField := "StartType"
	if e.EventID == 4697 {
		startField = "ServiceStartType"
	}
	if _, ok := telemetry.ParseServiceType(e.Value("ServiceType")); !ok {
		return "service type " + quote(e.Value("ServiceType")) + " does not parse"
	}
	if _, ok := telemetry.ParseStartType(e.Value(startField)); !ok {
		return "start type " + quote(e.Value(startField)) + " does not parse"
	}
	return ""
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return `"` + s + `"`
}
