package main

import (
	"bufio"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/telemetry"
	"github.com/svcharness/svcharness/telemetry/source"
)

const correlateUsage = `
Usage: svcharness correlate [--policy FILE] [--format table|json|ndjson]
                            [--disable-signal NAME[,NAME]...] FILE...

Run the AN1185 correlator over Windows telemetry and print its alerts. FILE is
a path, or - for standard input, in any format "svcharness events" reads
(EVTX, event XML, Winlogbeat/ECS, flattened JSON, svcharness events NDJSON,
and archives of those). Several files are merged by event time, so a host's
Security, System and Sysmon logs may come as separate files.

--policy names a policy YAML file (allowlist, correlation window, approved
remote-execution hosts, approvals); without it the defaults apply and nothing
is approved. Suppressed alerts are printed too, marked with their approval.

--format table (default) is for people; json prints one object
{"schema": 1, "alerts": [...], "stats": {...}}; ndjson prints one alert per
line as each incident closes.

--disable-signal switches signals off (comma-separated or repeated names such
as psexec_family): they are never raised and add nothing to scores, which
shows what a detection misses without them.

Exit codes: 0 when no alert is left unsuppressed; 1 when at least one is;
2 for a usage error, an invalid policy, or an input that could not be read.`

func init() {
	register(command{name: "correlate", summary: "run the AN1185 correlator over telemetry files",
		run: runCorrelate})
}

// correlateConfig is the parsed command line of "correlate" and "baseline".
type correlateConfig struct {
	policy   string
	format   string
	files    []string
	disabled []correlate.Signal
}

func runCorrelate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseCorrelateArgs("correlate", correlateUsage, args, stderr, true)
	if err != nil {
		return err
	}
	pol, err := loadPolicy(cfg.policy)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	w := newAlertWriter(cfg.format, out)
	eng := correlate.New(pol, correlate.Options{OnAlert: w.stream,
		DisabledSignals: cfg.disabled})
	res, runErr := correlateInputs(ctx, eng, cfg.files, stderr)
	if errors.Is(runErr, context.Canceled) {
		return runErr
	}
	w.add(eng.Close())
	if err := w.finish(eng.Stats(), res); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	switch {
	case runErr != nil:
		return &exitError{code: exitUsage, err: runErr}
	case w.unsuppressed > 0:
		return &exitError{code: exitFindings}
	}
	return nil
}

// parseCorrelateArgs accepts flags before, between and after the files.
func parseCorrelateArgs(name, usage string, args []string, stderr io.Writer,
	withFormat bool) (correlateConfig, error) {
	var cfg correlateConfig
	fs := newFlagSet(name, usage, stderr)
	fs.StringVar(&cfg.policy, "policy", "", "policy YAML `file`")
	if withFormat {
		fs.StringVar(&cfg.format, "format", "table", "output `format`: table, json or ndjson")
		fs.Func("disable-signal", "never raise these `signals` (comma-separated)",
			func(v string) error { return cfg.disable(v) })
	}
	files, err := parseInterspersed(fs, args, true)
	if err != nil {
		return cfg, err
	}
	cfg.files = files
	switch {
	case withFormat && cfg.format != "table" && cfg.format != "json" && cfg.format != "ndjson":
		return cfg, usageErrorf("--format must be table, json or ndjson, not %q", cfg.format)
	case len(cfg.files) == 0:
		return cfg, usageErrorf("%s needs at least one FILE (or - for stdin)", name)
	}
	return cfg, nil
}

// disable adds comma-separated signal names to those switched off.
func (cfg *correlateConfig) disable(list string) error {
	for name := range strings.SplitSeq(list, ",") {
		sig, ok := correlate.ParseSignal(strings.TrimSpace(name))
		if !ok {
			return fmt.Errorf("unknown signal %q (have %s)", name,
				strings.Join(correlate.SignalNames(), ", "))
		}
		cfg.disabled = append(cfg.disabled, sig)
	}
	return nil
}

// loadPolicy reads the policy file, or returns the defaults for "".
func loadPolicy(path string) (*correlate.Policy, error) {
	if path == "" {
		return correlate.DefaultPolicy(), nil
	}
	pol, err := correlate.LoadPolicyFile(path)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return pol, nil
}

// inputResult summarises what was read.
type inputResult struct {
	Files   int       `json:"files"`
	Records int       `json:"records"`
	Skipped int       `json:"skipped_records"`
	First   time.Time `json:"first_event,omitzero"`
	Last    time.Time `json:"last_event,omitzero"`
}

// correlateInputs opens every input and feeds their events to eng in time
// order. Inputs that cannot be opened or read to the end are reported, and
// the run goes on with the others; the joined error says which failed.
func correlateInputs(ctx context.Context, eng *correlate.Engine, files []string,
	stderr io.Writer) (inputResult, error) {
	var res inputResult
	var errs []error
	m := &mergeReader{}
	for _, path := range files {
		in, err := source.Open(path, source.DefaultLimits)
		if err != nil {
			errs = append(errs, fmt.Errorf("open %s: %w", path, err))
			continue
		}
		defer in.Close()
		res.Files++
		m.add(path, in)
	}
	n, skips, err := readAll(ctx, m, func(ev *telemetry.Event) error {
		if !ev.Time.IsZero() && (res.First.IsZero() || ev.Time.Before(res.First)) {
			res.First = ev.Time
		}
		if ev.Time.After(res.Last) {
			res.Last = ev.Time
		}
		eng.Process(ev)
		return nil
	}, stderr)
	res.Records, res.Skipped = n, skips
	errs = append(errs, err)
	errs = append(errs, m.errs...)
	return res, errors.Join(errs...)
}

// mergeReader merges several inputs by event time, reading each lazily, so
// that a host's logs given as separate files correlate as one stream. Each
// input is assumed to be roughly in time order, as Windows logs are; the
// engine's lateness absorbs the rest.
type mergeReader struct {
	heads   mergeHeap
	skipped []error // record errors met while refilling, returned first
	errs    []error // inputs that ended early
	seq     int
}

type mergeItem struct {
	ev   *telemetry.Event
	in   telemetry.Reader
	name string
	seq  int // input order breaks ties
}

type mergeHeap []*mergeItem

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if !h[i].ev.Time.Equal(h[j].ev.Time) {
		return h[i].ev.Time.Before(h[j].ev.Time)
	}
	return h[i].seq < h[j].seq
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*mergeItem)) }
func (h *mergeHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// add starts reading one input.
func (m *mergeReader) add(name string, in telemetry.Reader) {
	m.seq++
	it := &mergeItem{in: in, name: name, seq: m.seq}
	if m.fill(it) {
		heap.Push(&m.heads, it)
	}
}

// fill reads the item's next event; record errors are kept for Next.
func (m *mergeReader) fill(it *mergeItem) bool {
	for {
		ev, err := it.in.Next()
		switch {
		case err == nil:
			it.ev = ev
			return true
		case errors.Is(err, io.EOF):
			return false
		case telemetry.IsRecordError(err):
			m.skipped = append(m.skipped, err)
		default:
			m.errs = append(m.errs, fmt.Errorf("read %s: %w", it.name, err))
			return false
		}
	}
}

// Next returns skipped-record errors first, then the earliest event.
func (m *mergeReader) Next() (*telemetry.Event, error) {
	if len(m.skipped) > 0 {
		err := m.skipped[0]
		m.skipped = m.skipped[1:]
		return nil, err
	}
	if len(m.heads) == 0 {
		return nil, io.EOF
	}
	it := m.heads[0]
	ev := it.ev
	if m.fill(it) {
		heap.Fix(&m.heads, 0)
	} else {
		heap.Pop(&m.heads)
	}
	return ev, nil
}

// alertWriter prints alerts as a table, a JSON document or NDJSON.
type alertWriter struct {
	format       string
	out          *bufio.Writer
	alerts       []correlate.Alert
	unsuppressed int
	err          error
}

func newAlertWriter(format string, out *bufio.Writer) *alertWriter {
	return &alertWriter{format: format, out: out}
}

// stream receives alerts as their incidents close: NDJSON writes them at
// once, the other formats collect them.
func (w *alertWriter) stream(a correlate.Alert) {
	if !a.Suppressed() {
		w.unsuppressed++
	}
	if w.format == "ndjson" {
		w.writeJSONLine(a)
		return
	}
	w.alerts = append(w.alerts, a)
}

func (w *alertWriter) add(alerts []correlate.Alert) {
	for _, a := range alerts {
		w.stream(a)
	}
}

func (w *alertWriter) writeJSONLine(a correlate.Alert) {
	b, err := json.Marshal(a)
	if err != nil && w.err == nil {
		w.err = err
		return
	}
	w.out.Write(append(b, '\n'))
}

// correlateOutput is the --format json document.
type correlateOutput struct {
	Schema int               `json:"schema"`
	Alerts []correlate.Alert `json:"alerts"`
	Stats  correlateStats    `json:"stats"`
}

type correlateStats struct {
	correlate.Stats
	Input inputResult `json:"input"`
}

func (w *alertWriter) finish(st correlate.Stats, res inputResult) error {
	correlate.SortAlerts(w.alerts)
	switch w.format {
	case "json":
		doc := correlateOutput{Schema: 1, Alerts: w.alerts,
			Stats: correlateStats{Stats: st, Input: res}}
		if doc.Alerts == nil {
			doc.Alerts = []correlate.Alert{}
		}
		enc := json.NewEncoder(w.out)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	case "table":
		writeAlertTable(w.out, w.alerts, st, res)
	}
	return w.err
}

// writeAlertTable prints one row per alert with its reasons below it.
func writeAlertTable(out io.Writer, alerts []correlate.Alert, st correlate.Stats,
	res inputResult) {
	suppressed := 0
	if len(alerts) > 0 {
		fmt.Fprintf(out, "%-8s  %5s  %-20s  %-28s  %-20s  %s\n",
			"SEVERITY", "SCORE", "HOST", "SERVICE", "FIRST SEEN", "SIGNALS")
	}
	for _, a := range alerts {
		sev := string(a.Severity)
		if a.Suppressed() {
			sev, suppressed = "approved", suppressed+1
		}
		fmt.Fprintf(out, "%-8s  %5d  %-20s  %-28s  %-20s  %s\n", sev, a.Score, clip(a.Host, 20),
			clip(a.Service, 28), a.FirstSeen.Format("2006-01-02 15:04:05"),
			strings.Join(a.Signals, ","))
		if a.ImagePath != "" {
			fmt.Fprintf(out, "          binary: %s\n", clip(a.ImagePath, 200))
		}
		for _, r := range a.Reasons {
			fmt.Fprintf(out, "          - %s\n", clip(r, 200))
		}
		if a.Suppressed() {
			fmt.Fprintf(out, "          suppressed by %s\n", a.SuppressedBy)
		}
	}
	fmt.Fprintf(out, "%d alert(s), %d suppressed, from %d events in %d file(s) (%d skipped records)\n",
		len(alerts), suppressed, st.Events, res.Files, res.Skipped)
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
