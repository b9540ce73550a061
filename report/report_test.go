package report

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// update regenerates the golden files: go test ./report -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var t0 = time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)

// sampleRun has one result of each kind a run can produce.
func sampleRun() *Run {
	ev := &telemetry.Event{Time: t0.Add(2 * time.Second), TimeSource: telemetry.TimeUTC,
		Host: "SRV01.lab.local", HostKey: "srv01", Channel: "System",
		Provider: "Service Control Manager", EventID: 7045, RecordID: 41,
		Fields: []telemetry.Field{{Name: "ServiceName", Value: "PSEXESVC"},
			{Name: "ImagePath", Value: `%SystemRoot%\PSEXESVC.exe`}}}
	tp := &Result{ID: "psexec-default", Name: "PsExec <runs> a command & more",
		Intent: "malicious", Techniques: []string{"T1569.002"}, Labels: []string{"malicious"},
		Hosts:   map[string]string{"attacker": "WS01", "target": "SRV01"},
		Expect:  Expectation{Alert: true, Signals: []string{"service_installed"}},
		Verdict: Pass, Class: TruePositive, Reason: "alert with every expected signal",
		Started: t0, Duration: 1500 * time.Millisecond, Latency: 2 * time.Second,
		Span: time.Second, Signals: []string{"service_installed", "psexec_family"},
		Evidence: 2, JoinKeys: []string{"0123456789ab", "PSEXESVC"},
		Alerts: []Alert{{ID: "an1185-1", Host: "srv01", Service: "PSEXESVC", Score: 95,
			Severity: "critical", Signals: []string{"service_installed", "psexec_family"},
			FirstSeen: t0.Add(2 * time.Second), LastSeen: t0.Add(3 * time.Second),
			JoinedBy: "PSEXESVC", Evidence: []Evidence{
				{Time: t0.Add(2 * time.Second), Host: "srv01", Channel: "System",
					EventID: 7045, RecordID: 41, Signal: "service_installed",
					Summary: `ServiceName=PSEXESVC  ImagePath=%SystemRoot%\PSEXESVC.exe`},
				{Time: t0.Add(3 * time.Second), Host: "srv01", Channel: "Security",
					EventID: 4624, RecordID: 77}}}},
		Events: []*telemetry.Event{ev}, EventsCount: 1}
	fn := &Result{ID: "reg-imagepath-start", Name: "reg.exe writes ImagePath",
		Intent: "malicious", Expect: Expectation{Alert: true, Signals: []string{"service_key_written"}},
		Verdict: Fail, Class: FalseNegative, Reason: "no alert joined the scenario's names",
		Started: t0, Duration: time.Second, Signals: []string{}, Alerts: []Alert{}}
	emu := &Result{ID: "sc-create-user-writable", Name: "sc.exe create", Intent: "malicious",
		Expect: Expectation{Alert: true}, Verdict: Error, Class: EmulationError,
		Reason:         "connection lost (detection not judged): wsman Receive on SRV01: EOF",
		EmulationError: "wsman Receive on SRV01: EOF", CleanupError: "",
		Started: t0, Duration: time.Second, Signals: []string{}, Alerts: []Alert{}}
	skipped := &Result{ID: "service-connects-out", Name: "service connects out",
		Intent: "malicious", Expect: Expectation{Alert: true}, Verdict: Skip, Class: Skipped,
		Reason: "the target does not record sysmon", MissingSensors: []string{"sysmon"},
		Started: t0, Signals: []string{}, Alerts: []Alert{}}
	sup := &Result{ID: "psexec-from-jump-host", Name: "PsExec from the jump host",
		Intent: "approved", Expect: Expectation{SuppressedBy: "approved-jump-psexec"},
		Verdict: Pass, Class: CorrectlySuppressed, Reason: "alert suppressed by approved-jump-psexec",
		Started: t0, Duration: time.Second, Signals: []string{"service_installed"}, Evidence: 1,
		Alerts: []Alert{{ID: "an1185-2", Host: "srv01", Service: "PSEXESVC",
			SuppressedBy: "approved-jump-psexec", Signals: []string{"service_installed"},
			FirstSeen: t0, LastSeen: t0, JoinedBy: "PSEXESVC",
			Evidence: []Evidence{{Time: t0, Host: "srv01", Channel: "System", EventID: 7045,
				RecordID: 9, Signal: "service_installed"}}}}}
	r := &Run{RunID: "0123456789ab", Lab: "svcharness-sim", Policy: "built-in",
		Started: t0, Finished: t0.Add(9 * time.Second),
		Results: []*Result{tp, fn, emu, skipped, sup}}
	r.Finish()
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		t.Errorf("%s differs from the golden file from line %d:\ngot:  %.200s\nwant: %.200s\n"+
			"(go test ./report -update regenerates it)", name, i+1, line(gl, i), line(wl, i))
	}
}

func line(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "<end of file>"
}

func TestWritersMatchGoldenFiles(t *testing.T) {
	writers := map[string]func(io.Writer, *Run) error{
		"run.txt": WriteTable, "run.json": WriteJSON, "run.junit.xml": WriteJUnit,
		"run.html": WriteHTML,
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := write(&b, sampleRun()); err != nil {
				t.Fatal(err)
			}
			golden(t, name, b.Bytes())
		})
	}
}

func TestTotals(t *testing.T) {
	tot := sampleRun().Totals
	if tot.Precision != 1 || tot.Recall != 0.5 || tot.SuppressionAccuracy != 1 {
		t.Errorf("got precision %v, recall %v, suppression accuracy %v; want 1, 0.5, 1",
			tot.Precision, tot.Recall, tot.SuppressionAccuracy)
	}
	if tot.Verdicts[Error] != 1 || tot.Classes[EmulationError] != 1 ||
		tot.Classes[FalseNegative] != 1 {
		t.Errorf("got verdicts %v classes %v; the emulation error must not count as missed",
			tot.Verdicts, tot.Classes)
	}
	if got := ComputeTotals(nil); got.Precision != -1 || got.Recall != -1 {
		t.Errorf("empty run: got precision %v, recall %v; want -1 (n/a)", got.Precision, got.Recall)
	}
}

// TestJUnitDistinguishesFailuresAndErrors parses the JUnit output back.
func TestJUnitDistinguishesFailuresAndErrors(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, c := range doc.Suites[0].Cases {
		id, _, _ := strings.Cut(c.Name, ":")
		switch {
		case c.Failure != nil:
			kinds[id] = "failure"
		case c.Error != nil:
			kinds[id] = "error"
		case c.Skipped != nil:
			kinds[id] = "skipped"
		default:
			kinds[id] = "passed"
		}
	}
	want := map[string]string{"psexec-default": "passed", "reg-imagepath-start": "failure",
		"sc-create-user-writable": "error", "service-connects-out": "skipped",
		"psexec-from-jump-host": "passed"}
	for id, k := range want {
		if kinds[id] != k {
			t.Errorf("%s: got %q; want %q", id, kinds[id], k)
		}
	}
	if doc.Tests != 5 || doc.Failures != 1 || doc.Errors != 1 || doc.Skipped != 1 {
		t.Errorf("got tests %d failures %d errors %d skipped %d; want 5 1 1 1", doc.Tests,
			doc.Failures, doc.Errors, doc.Skipped)
	}
}

// TestWriteDirTelemetryReplays writes the folder and reads the telemetry
// back with the events NDJSON reader "svcharness correlate" uses.
func TestWriteDirTelemetryReplays(t *testing.T) {
	dir := t.TempDir()
	r := sampleRun()
	files, err := WriteDir(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 {
		t.Errorf("got files %v; want telemetry and four reports", files)
	}
	f, err := os.Open(filepath.Join(dir, "telemetry", "psexec-default.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev, err := telemetry.NewJSONReader("t", f).Next()
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventID != 7045 || ev.Value("ServiceName") != "PSEXESVC" ||
		!ev.Time.Equal(t0.Add(2*time.Second)) {
		t.Errorf("got %+v; want the 7045 written", ev)
	}
	if r.Results[0].TelemetryFile == "" && r.Results[1].TelemetryFile == "" {
		t.Error("no result records its telemetry file")
	}
}

func TestHTMLEscapesScenarioText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Contains(s, "<runs>") || !strings.Contains(s, "&lt;runs&gt;") {
		t.Error("a scenario name reached the page unescaped")
	}
}
