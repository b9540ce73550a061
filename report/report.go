// Package report holds the result model of one svcharness run (a verdict per
// scenario, with its confusion class, alerts and evidence, and the run's
// totals) and its writers: a terminal scorecard, JSON, JUnit XML, a
// self-contained HTML timeline, and each scenario's telemetry as events
// NDJSON that "svcharness correlate" replays.
//
// One file per output format, all over the same Run:
//
//	run.Finish()
//	report.WriteTable(os.Stdout, run)
//	files, err := report.WriteDir("svcharness-report", run)
package report

import (
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// Schema is the version of the JSON report's shape.
const Schema = 1

// Verdict is whether a scenario met its expectation.
type Verdict string

// The verdicts. Error means the emulation failed (or left something behind),
// so the detection was not judged, or was judged on a lab that is now dirty;
// Skip means the scenario could not be judged on this lab (a sensor it needs
// is missing, no host plays a role) or nothing ran (a dry run).
const (
	Pass  Verdict = "pass"
	Fail  Verdict = "fail"
	Error Verdict = "error"
	Skip  Verdict = "skip"
)

// Class is a scenario's confusion class: what the detection concluded,
// measured against what the scenario is.
type Class string

// The confusion classes. EmulationError and Skipped are not detection
// outcomes and never count towards precision or recall.
const (
	TruePositive        Class = "true-positive"
	FalseNegative       Class = "false-negative"
	FalsePositive       Class = "false-positive"
	TrueNegative        Class = "true-negative"
	CorrectlySuppressed Class = "correctly-suppressed"
	EmulationError      Class = "emulation-error"
	Skipped             Class = "skipped"
)

// Run is one svcharness run: every scenario's result and the totals.
type Run struct {
	Schema   int       `json:"schema"`
	RunID    string    `json:"run_id"`
	Lab      string    `json:"lab"`    // inventory name, or the built-in lab's
	Policy   string    `json:"policy"` // policy file, or "built-in"
	DryRun   bool      `json:"dry_run,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Results  []*Result `json:"results"`
	Totals   Totals    `json:"totals"`
}

// Result is the verdict on one scenario run.
type Result struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Intent     string            `json:"intent"`
	Techniques []string          `json:"techniques"`
	Labels     []string          `json:"labels"`
	Hosts      map[string]string `json:"hosts,omitempty"` // scenario role -> host
	Expect     Expectation       `json:"expect"`

	Verdict Verdict `json:"verdict"`
	Class   Class   `json:"class"`
	Reason  string  `json:"reason"` // one sentence a person reads

	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	// Latency is the time from the scenario's start, on the target's clock,
	// to the first evidence of the alert that decided the verdict.
	Latency time.Duration `json:"latency_ns,omitempty"`
	// Span is the time from the first to the last evidence of that alert.
	Span     time.Duration `json:"span_ns,omitempty"`
	Signals  []string      `json:"signals"`
	Evidence int           `json:"evidence"`

	// Alerts are the alerts that joined this scenario through the names its
	// plan generated; Unattributed counts those raised on its hosts in its
	// window that did not join.
	Alerts       []Alert  `json:"alerts"`
	Unattributed []Alert  `json:"unattributed,omitempty"`
	JoinKeys     []string `json:"join_keys,omitempty"`

	MissingSensors []string `json:"missing_sensors,omitempty"`
	EmulationError string   `json:"emulation_error,omitempty"`
	CleanupError   string   `json:"cleanup_error,omitempty"`

	// Events is the telemetry the scenario's hosts recorded during its steps;
	// EventsCount survives JSON, the events themselves go to TelemetryFile.
	Events        []*telemetry.Event `json:"-"`
	EventsCount   int                `json:"events"`
	SkippedEvents int                `json:"skipped_records,omitempty"`
	TelemetryFile string             `json:"telemetry_file,omitempty"`
}

// Expectation is what the scenario asks of the detection.
type Expectation struct {
	Alert        bool     `json:"alert,omitempty"`
	Signals      []string `json:"signals,omitempty"`
	SuppressedBy string   `json:"suppressed_by,omitempty"`
	Silent       bool     `json:"silent,omitempty"`
}

// String says the expectation in a few words.
func (e Expectation) String() string {
	switch {
	case e.Alert:
		return "alert"
	case e.SuppressedBy != "":
		return "suppressed by " + e.SuppressedBy
	default:
		return "silent"
	}
}

// Alert is a correlator alert as the report shows it.
type Alert struct {
	ID           string     `json:"id"`
	Host         string     `json:"host"`
	Service      string     `json:"service"`
	ImagePath    string     `json:"image_path,omitempty"`
	SuppressedBy string     `json:"suppressed_by,omitempty"`
	Signals      []string   `json:"signals"`
	Score        int        `json:"score"`
	Severity     string     `json:"severity"`
	FirstSeen    time.Time  `json:"first_seen"`
	LastSeen     time.Time  `json:"last_seen"`
	JoinedBy     string     `json:"joined_by,omitempty"` // the join key that matched
	Evidence     []Evidence `json:"evidence"`
}

// Evidence is one record of an alert's evidence chain.
type Evidence struct {
	Time     time.Time `json:"time"`
	Host     string    `json:"host"`
	Channel  string    `json:"channel"`
	EventID  uint32    `json:"event_id"`
	RecordID uint64    `json:"record_id"`
	Signal   string    `json:"signal,omitempty"`
	Summary  string    `json:"summary,omitempty"` // what the record says, redacted
}
