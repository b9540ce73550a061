package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
	"github.com/svcharness/svcharness/telemetry/synth"
)

const generateUsage = `
Usage: svcharness generate [--hosts N] [--rate N] [--count N | --duration D]
                           [--attacks-every N] [--attacks LIST] [--admin-every N]
                           [--process-audit] [--omit LIST] [--seed N]
                           [--duplicate-every N] [--late-every N --max-lateness D]
                           [--max-clock-skew D]
                           [--start TIME] [--format json|xml] [--labels FILE]

Write a synthetic, reproducible stream of Windows telemetry for a fleet of
hosts to standard output: background activity (service state changes,
per-user services at logon, software installs, Windows Update, Defender
drivers, svchost children, process and network noise, and approved PsExec
and PDQ deployments from the jump host JUMP01) with AN1185 attack chains
injected (psexec, smbexec, sc_comspec, sc_remote, registry_only,
imagepath_hijack). The same flags give the same bytes.

--format json writes svcharness's events NDJSON; --format xml writes Windows
event XML as Get-WinEvent's ToXml() does, one event per line. Every svcharness
command reads both. --rate spaces the timestamps (events per second of
simulated time across the fleet); it does not slow the output.
--process-audit adds Security 4688 beside every Sysmon 1; --omit leaves out
what a host without that telemetry lacks: channels (Sysmon, Security, System)
or events (Security:4697 without Security System Extension auditing,
Security:5145 without Detailed File Share). --duplicate-every and
--late-every make the stream imperfect as collectors
do: records delivered twice, and records delivered after later ones (up to
--max-lateness behind); --max-clock-skew puts hosts' clocks out of step.
--labels writes the ground truth beside the events:
one JSON object per event, in the same order, with its host, record ID, chain
number, scenario, malicious flag, service, and duplicate and late flags.

Exit codes: 0 on success; 2 for a usage error or when the output cannot be
written.`

func init() {
	register(command{name: "generate", summary: "write synthetic telemetry with labelled attacks",
		run: runGenerate})
}

// generateConfig is the parsed command line of "generate".
type generateConfig struct {
	synth    synth.Config
	count    int64
	format   string
	labels   string
	duration time.Duration
}

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseGenerateArgs(args, stderr)
	if err != nil {
		return err
	}
	g, err := synth.New(cfg.synth)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if cfg.labels == "" {
		return writeStream(ctx, g, cfg, stdout, nil)
	}
	f, err := os.Create(cfg.labels)
	if err != nil {
		return fmt.Errorf("create labels file: %w", err)
	}
	labels := bufio.NewWriterSize(f, 64<<10)
	err = writeStream(ctx, g, cfg, stdout, labels)
	if ferr := labels.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write labels file: %w", ferr)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close labels file: %w", cerr)
	}
	return err
}

// parseGenerateArgs reads the flags of "generate"; it takes no arguments.
func parseGenerateArgs(args []string, stderr io.Writer) (generateConfig, error) {
	var cfg generateConfig
	var attacks, start, omit string
	fs := newFlagSet("generate", generateUsage, stderr)
	fs.IntVar(&cfg.synth.Hosts, "hosts", 10, "number of `hosts` in the fleet (at least 2)")
	fs.Float64Var(&cfg.synth.EventsPerSecond, "rate", 1000,
		"simulated `events` per second across the fleet (spaces timestamps)")
	fs.Int64Var(&cfg.count, "count", 0, "number of `events` to write (default 1000)")
	fs.DurationVar(&cfg.duration, "duration", 0,
		"simulated `span` to cover: rate × duration events (instead of --count)")
	fs.IntVar(&cfg.synth.AttackEvery, "attacks-every", 0,
		"inject one attack chain per about this many `events` (0: none)")
	fs.StringVar(&attacks, "attacks", "", "comma-separated attack `scenarios` (default: all: "+
		strings.Join(synth.Scenarios(), ",")+")")
	fs.IntVar(&cfg.synth.AdminEvery, "admin-every", 2000, "start one benign service-touching "+
		"episode (install, logon, update, approved PsExec…) per about `N` events (-1: none)")
	fs.BoolVar(&cfg.synth.ProcessAudit, "process-audit", false,
		"add Security 4688 beside every Sysmon 1")
	fs.StringVar(&omit, "omit", "", "comma-separated channels or `events` to leave out "+
		"(Sysmon, Security:4697, …)")
	fs.IntVar(&cfg.synth.DuplicateEvery, "duplicate-every", 0,
		"deliver about one event in `N` twice (0: never)")
	fs.IntVar(&cfg.synth.LateEvery, "late-every", 0,
		"deliver about one event in `N` late, after later events (0: never)")
	fs.DurationVar(&cfg.synth.MaxLateness, "max-lateness", 0,
		"how far behind (simulated `time`) a late event may arrive")
	fs.DurationVar(&cfg.synth.MaxClockSkew, "max-clock-skew", 0,
		"set each host's clock off by up to ± this `span`")
	fs.Uint64Var(&cfg.synth.Seed, "seed", 1, "random `seed`; the same flags give the same stream")
	fs.StringVar(&start, "start", "",
		"RFC 3339 `time` of the first event (default 2026-01-05T09:00:00Z)")
	fs.StringVar(&cfg.format, "format", "json", "output `format`: json (events NDJSON) or xml")
	fs.StringVar(&cfg.labels, "labels", "", "also write each event's label as NDJSON to `FILE`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, usageErrorf("%v", err)
	}
	if fs.NArg() > 0 {
		return cfg, usageErrorf("generate takes no arguments, got %q", fs.Arg(0))
	}
	if attacks != "" {
		cfg.synth.Attacks = strings.Split(attacks, ",")
	}
	if omit != "" {
		cfg.synth.Omit = strings.Split(omit, ",")
	}
	if start != "" {
		t, err := time.Parse(time.RFC3339Nano, start)
		if err != nil {
			return cfg, usageErrorf("--start: %v", err)
		}
		cfg.synth.Start = t
	}
	return cfg, checkGenerateConfig(&cfg)
}

// checkGenerateConfig validates the flags that synth.New does not see and
// turns --duration into a count.
func checkGenerateConfig(cfg *generateConfig) error {
	if cfg.format != "json" && cfg.format != "xml" {
		return usageErrorf("--format must be json or xml, not %q", cfg.format)
	}
	if cfg.synth.EventsPerSecond <= 0 || math.IsInf(cfg.synth.EventsPerSecond, 0) ||
		math.IsNaN(cfg.synth.EventsPerSecond) {
		return usageErrorf("--rate must be a positive number of events per second")
	}
	switch {
	case cfg.count != 0 && cfg.duration != 0:
		return usageErrorf("give --count or --duration, not both")
	case cfg.count < 0 || cfg.duration < 0:
		return usageErrorf("--count and --duration must not be negative")
	case cfg.duration > 0:
		cfg.count = int64(math.Ceil(cfg.duration.Seconds() * cfg.synth.EventsPerSecond))
	case cfg.count == 0:
		cfg.count = 1000
	}
	return nil
}

// writeStream writes cfg.count events to out, and their labels to labels
// when it is not nil.
func writeStream(ctx context.Context, g *synth.Generator, cfg generateConfig, out io.Writer,
	labels io.Writer) error {
	w := bufio.NewWriterSize(out, 256<<10)
	var line []byte
	for i := int64(0); i < cfg.count; i++ {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		e, label := g.Next()
		if cfg.format == "xml" {
			line = telemetry.AppendEventXML(line[:0], e)
		} else {
			line = telemetry.AppendEventJSON(line[:0], e)
		}
		if _, err := w.Write(line); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
		if labels != nil {
			if err := writeLabel(labels, e, label); err != nil {
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	return nil
}

// labelLine is one line of the --labels file.
type labelLine struct {
	Host      string `json:"host"`
	Channel   string `json:"channel"`
	RecordID  uint64 `json:"record_id"`
	Chain     uint64 `json:"chain"`
	Scenario  string `json:"scenario"`
	Malicious bool   `json:"malicious"`
	Target    string `json:"target"`
	Service   string `json:"service,omitempty"`
	Duplicate bool   `json:"duplicate,omitempty"`
	Late      bool   `json:"late,omitempty"`
}

// writeLabel writes the label of e as one JSON line.
func writeLabel(w io.Writer, e *telemetry.Event, l synth.Label) error {
	b, err := json.Marshal(labelLine{Host: e.HostKey, Channel: e.Channel, RecordID: e.RecordID,
		Chain: l.Chain, Scenario: l.Scenario, Malicious: l.Malicious, Target: l.Host,
		Service: l.Service, Duplicate: l.Duplicate, Late: l.Late})
	if err != nil {
		return fmt.Errorf("encode label: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write labels file: %w", err)
	}
	return nil
}
