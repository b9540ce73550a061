package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/svcharness/svcharness/telemetry"
	"github.com/svcharness/svcharness/telemetry/source"
)

const eventsUsage = `
Usage: svcharness events [--format table|json] [--count] FILE...

Decode Windows telemetry and print the events. FILE is a path, or - for
standard input. The format is recognised from the content: Windows event XML
(Get-WinEvent ToXml(), wevtutil, evtxexport), EVTX, Winlogbeat/ECS NDJSON,
Winlogbeat 6 and NXLog-flattened JSON lines, svcharness's own events NDJSON,
and .zip, .tar, .tar.gz and .gz archives of those.

--format json writes svcharness's events NDJSON, one event per line, which
every svcharness command reads back. --count prints one line per FILE,
"<records><TAB><path>", counting every member of an archive.

Skipped records are reported on stderr with a count per file.

Exit codes: 0 when at least one record was read; 2 for a usage error or when
no record at all could be read.`

// stdin is what "-" reads; tests replace it.
var stdin io.Reader = os.Stdin

// maxSkipsShown is how many skipped records are printed per file before only
// the count is reported.
const maxSkipsShown = 20

func init() {
	register(command{name: "events", summary: "decode telemetry files and print the events",
		run: runEvents})
}

// eventsConfig is the parsed command line of "events".
type eventsConfig struct {
	format string
	count  bool
	files  []string
}

func runEvents(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	tuneGCForEvents()
	cfg, err := parseEventsArgs(args, stderr)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	p := &eventPrinter{cfg: cfg, out: out} // one table header for all files
	total := 0
	for _, path := range cfg.files {
		n, err := eventsFile(ctx, p, path, stderr)
		total += n
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			out.Flush()
			return err
		}
		if err != nil {
			fmt.Fprintf(stderr, "svcharness: %v\n", err)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if total == 0 {
		return &exitError{code: exitUsage, err: errors.New("no records could be read")}
	}
	return nil
}

// parseEventsArgs accepts flags before, between and after the files, and
// treats everything after "--" as files.
func parseEventsArgs(args []string, stderr io.Writer) (eventsConfig, error) {
	var cfg eventsConfig
	fs := newFlagSet("events", eventsUsage, stderr)
	fs.StringVar(&cfg.format, "format", "table", "output `format`: table or json")
	fs.BoolVar(&cfg.count, "count", false, "print only the record count of each file")
	files, err := parseInterspersed(fs, args, true)
	if err != nil {
		return cfg, err
	}
	cfg.files = files
	if cfg.format != "table" && cfg.format != "json" {
		return cfg, usageErrorf("--format must be table or json, not %q", cfg.format)
	}
	if len(cfg.files) == 0 {
		return cfg, usageErrorf("events needs at least one FILE (or - for stdin)")
	}
	return cfg, nil
}

// eventsFile decodes one input and writes its events or its count. It
// returns the number of records read.
func eventsFile(ctx context.Context, p *eventPrinter, path string,
	stderr io.Writer) (int, error) {
	cfg, out := p.cfg, p.out
	var in *source.Input
	var err error
	if path == "-" {
		in, err = source.OpenReader("-", stdin, source.DefaultLimits)
	} else {
		in, err = source.Open(path, source.DefaultLimits)
	}
	if err != nil {
		if cfg.count {
			fmt.Fprintf(out, "0\t%s\n", path)
		}
		return 0, err
	}
	defer in.Close()
	n, skips, err := readAll(ctx, in, p.print, stderr)
	for _, d := range in.Damage() {
		fmt.Fprintf(stderr, "svcharness: warning: %v\n", d)
	}
	if cfg.count {
		fmt.Fprintf(out, "%d\t%s\n", n, path)
	}
	if skips > 0 {
		shown := ""
		if skips > maxSkipsShown {
			shown = fmt.Sprintf(" (first %d shown)", maxSkipsShown)
		}
		fmt.Fprintf(stderr, "svcharness: %s: %d records skipped%s\n", path, skips, shown)
	}
	if err != nil {
		return n, fmt.Errorf("read %s after %d records: %w", path, n, err)
	}
	return n, nil
}

// readAll drains r, handing each event to emit and reporting skipped records
// on stderr. It returns the records read and skipped.
func readAll(ctx context.Context, r telemetry.Reader, emit func(*telemetry.Event) error,
	stderr io.Writer) (n, skips int, err error) {
	for {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return n, skips, err
			}
		}
		ev, err := r.Next()
		switch {
		case err == io.EOF:
			return n, skips, nil
		case telemetry.IsRecordError(err):
			if skips++; skips <= maxSkipsShown {
				fmt.Fprintf(stderr, "svcharness: skipped: %v\n", err)
			}
			continue
		case err != nil:
			return n, skips, err
		}
		n++
		if err := emit(ev); err != nil {
			return n, skips, err
		}
	}
}

// eventPrinter writes events as a table or as NDJSON.
type eventPrinter struct {
	cfg    eventsConfig
	out    *bufio.Writer
	header bool
	buf    []byte
}

func (p *eventPrinter) print(ev *telemetry.Event) error {
	switch {
	case p.cfg.count:
		return nil
	case p.cfg.format == "json":
		p.buf = telemetry.AppendEventJSON(p.buf[:0], ev)
		_, err := p.out.Write(p.buf)
		return err
	}
	if !p.header {
		p.header = true
		fmt.Fprintf(p.out, "%-25s  %-16s  %-16s  %5s  %10s  %s\n",
			"TIME", "HOST", "CHANNEL", "ID", "RECORD", "SUMMARY")
	}
	channel := ev.Channel
	if channel == telemetry.ChannelSysmon {
		channel = "Sysmon"
	}
	_, err := fmt.Fprintf(p.out, "%-25s  %-16s  %-16s  %5d  %10d  %s\n", tableTime(ev),
		cut(ev.HostKey, 16), cut(channel, 16), ev.EventID, ev.RecordID, summary(ev))
	return err
}

// tableTime shows UTC times with "Z" and host-local ones with "local".
func tableTime(ev *telemetry.Event) string {
	switch ev.TimeSource {
	case telemetry.TimeUTC:
		return ev.Time.Format("2006-01-02T15:04:05.000Z")
	case telemetry.TimeLocal:
		return ev.Time.Format("2006-01-02T15:04:05") + " local"
	}
	return "-"
}

// summaryFields are the fields that say most about an AN1185 event, in the
// order the summary shows them.
var summaryFields = []string{"ServiceName", "ImagePath", "ServiceFileName", "NewProcessName",
	"Image", "CommandLine", "TargetObject", "Details", "PipeName", "DestinationIp",
	"DestinationPort", "ShareName", "RelativeTargetName", "TargetUserName", "param1", "param2"}

// summary returns up to three name=value pairs, cut to about 120 characters.
func summary(ev *telemetry.Event) string {
	var parts []string
	for _, name := range summaryFields {
		if v, ok := ev.Get(name); ok && v != "" && len(parts) < 3 {
			parts = append(parts, name+"="+v)
		}
	}
	for i := 0; len(parts) == 0 && i < len(ev.Fields) && i < 2; i++ {
		parts = append(parts, ev.Fields[i].Name+"="+ev.Fields[i].Value)
	}
	s := strings.Join(parts, " ")
	s = strings.NewReplacer("\r", " ", "\n", " ", "\t", " ").Replace(s)
	return cut(s, 120)
}

// cut shortens s to at most n runes, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
