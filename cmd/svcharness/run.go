package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/harness"
	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/report"
	"github.com/svcharness/svcharness/scenarios"
)

const runUsage = `
Usage: svcharness run [--lab FILE] [--scenario ID]... [--label EXPR]
                      [--policy FILE] [--report-dir DIR] [--parallel N]
                      [--dry-run] [--catalog DIR]...

Run scenarios of the catalog on a lab, correlate what the hosts recorded, and
judge each run against its expectation. Without --lab, the built-in simulated
lab (the four hosts of "svcharness lab serve", plus a workstation and a server
per extra --parallel worker) is started in-process on loopback for the run.

Live progress goes to stderr, the scorecard to stdout. The report directory
receives report.json, junit.xml (one test case per scenario: a wrong verdict
is a failure, an emulation error an error), report.html (self-contained: each
scenario's evidence chain on a timeline), scorecard.txt, and
telemetry/<scenario>.ndjson, the events each scenario collected, which
"svcharness correlate --policy FILE telemetry/ID.ndjson" replays.

Credentials come only from the inventory's references (a 0600 file or
environment variables). Malicious scenarios run only on hosts the inventory
declares lab hosts and that carry the lab marker.

Cleanup is journalled before a scenario touches a host; a run killed before
its cleanup was verified leaves an entry that the next run against the same
inventory finishes first. The journal lives in --journal, by default
<user cache dir>/svcharness/journal/<inventory name>-<hash of its path>
(~/.cache/... on Linux).

--label takes a Ginkgo label filter over each scenario's intent, techniques,
tools and labels: "malicious && psexec", "T1543.003 || benign", "!remote".

Exit codes: 0 every verdict passed (skips included); 1 a verdict failed;
2 usage error or invalid input (catalog, policy, inventory); 3 an emulation
error, an unreachable lab or an interrupted run included.`

func init() {
	register(command{name: "run", summary: "run scenarios on a lab and score the detection",
		run: runRun})
}

// runConfig is the parsed command line of "run".
type runConfig struct {
	lab, label, policy, reportDir, journal, canary, sink string
	scenarios, catalogs                                  []string
	parallel                                             int
	dryRun, verbose                                      bool
	settle                                               time.Duration
	seed                                                 uint64
}

func parseRunArgs(args []string, stderr io.Writer) (*runConfig, error) {
	cfg := &runConfig{}
	fs := newFlagSet("run", runUsage, stderr)
	fs.StringVar(&cfg.lab, "lab", "", "lab inventory YAML (default: the built-in simulated lab)")
	fs.Func("scenario", "scenario ID to run (repeatable; default: all)", func(s string) error {
		cfg.scenarios = append(cfg.scenarios, s)
		return nil
	})
	fs.StringVar(&cfg.label, "label", "", "Ginkgo label filter over scenario labels")
	fs.StringVar(&cfg.policy, "policy", "", "correlator policy YAML (default: the catalog's)")
	fs.StringVar(&cfg.reportDir, "report-dir", "svcharness-report", "directory for the reports")
	fs.IntVar(&cfg.parallel, "parallel", 2, "scenarios at once, each on hosts of its own")
	fs.BoolVar(&cfg.dryRun, "dry-run", false, "print every command; connect to nothing")
	fs.Func("catalog", "directory of scenario files to add (repeatable)", func(s string) error {
		cfg.catalogs = append(cfg.catalogs, s)
		return nil
	})
	fs.StringVar(&cfg.journal, "journal", "", "cleanup journal directory (default: see above)")
	fs.StringVar(&cfg.canary, "canary", "", "canary payload built for windows/amd64 "+
		"(required on a real lab by scenarios that place it)")
	fs.StringVar(&cfg.sink, "sink", "10.10.0.250:8443", "host:port the canary reports to")
	fs.DurationVar(&cfg.settle, "settle", -1, "wait after the steps before collecting "+
		"(default 0 on the simulated lab, 3s on --lab)")
	fs.Uint64Var(&cfg.seed, "seed", 0, "seed for generated names and the run ID (0: random)")
	fs.BoolVar(&cfg.verbose, "verbose", false, "debug logs on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageErrorf("run: %v", err)
	}
	switch {
	case fs.NArg() > 0:
		return nil, usageErrorf("run: unexpected arguments %q", fs.Args())
	case cfg.parallel < 1 || cfg.parallel > 64:
		return nil, usageErrorf("run: --parallel %d; want 1 to 64", cfg.parallel)
	}
	return cfg, nil
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseRunArgs(args, stderr)
	if err != nil {
		return err
	}
	in, err := loadRunInputs(cfg)
	if err != nil {
		return err
	}
	log := newRunLogger(stderr, cfg.verbose)
	lab, closeLab, err := openRunLab(ctx, cfg, in, stdout, log)
	if err != nil {
		return err
	}
	defer closeLab()
	return executeRun(ctx, cfg, in, lab, stdout, stderr, log)
}

// runInputs are the validated inputs of a run.
type runInputs struct {
	list       []*scenarios.Scenario
	policy     *correlate.Policy
	policyName string
	inv        *labs.Inventory // nil: the built-in lab
	canary     []byte
}

// loadRunInputs loads everything that can be wrong with the user's input
// before anything connects: catalog, selection, policy, inventory, canary.
func loadRunInputs(cfg *runConfig) (*runInputs, error) {
	cat, err := scenarios.Open(cfg.catalogs...)
	if err != nil {
		return nil, usageErrorf("run: %v", err)
	}
	in := &runInputs{}
	if in.list, err = harness.Select(cat, cfg.scenarios, cfg.label); err != nil {
		return nil, usageErrorf("run: %v", err)
	}
	if len(in.list) == 0 {
		return nil, usageErrorf("run: no scenario matches the selection")
	}
	if err := in.loadPolicy(cfg.policy); err != nil {
		return nil, err
	}
	if cfg.lab != "" {
		if in.inv, err = labs.Load(cfg.lab); err != nil {
			return nil, usageErrorf("run: %v", err)
		}
	}
	return in, in.loadCanary(cfg)
}

func (in *runInputs) loadPolicy(path string) error {
	var err error
	in.policyName = "built-in"
	if path == "" {
		in.policy, err = correlate.LoadPolicy("built-in "+scenarios.PolicyFile,
			scenarios.DefaultPolicy())
	} else {
		in.policyName = path
		in.policy, err = correlate.LoadPolicyFile(path)
	}
	if err != nil {
		return usageErrorf("run: %v", err)
	}
	ids := policyIDs(in.policy)
	var missing []string
	for _, s := range in.list {
		if a := s.Expect.SuppressedBy; a != "" && !slices.Contains(ids, a) {
			missing = append(missing, fmt.Sprintf("%s (%s:%d) expects approval %q",
				s.ID, s.File, s.Line, a))
		}
	}
	if len(missing) > 0 {
		return usageErrorf("run: the policy %s lacks approvals the selected scenarios "+
			"rely on:\n  %s", in.policyName, strings.Join(missing, "\n  "))
	}
	return nil
}

func policyIDs(p *correlate.Policy) []string {
	var ids []string
	for _, a := range p.Approvals {
		ids = append(ids, a.ID)
	}
	for _, a := range p.Allowlist {
		ids = append(ids, a.ID)
	}
	return ids
}

func (in *runInputs) loadCanary(cfg *runConfig) error {
	if cfg.canary != "" {
		b, err := os.ReadFile(cfg.canary)
		if err != nil {
			return usageErrorf("run: read canary: %v", err)
		}
		in.canary = b
		return nil
	}
	if in.inv != nil && !cfg.dryRun && harness.NeedsCanary(in.list) {
		return usageErrorf("run: the selected scenarios place the canary payload on a real " +
			"lab; build it (task canary) and pass --canary FILE")
	}
	return nil
}

func (in *runInputs) payload(p scenarios.PlannedPayload) ([]byte, error) {
	if p.Source == scenarios.SourceCanary && in.canary != nil {
		return in.canary, nil
	}
	return harness.StandInPayload(p)
}

// newRunLogger logs warnings only: progress has its own lines on stderr.
func newRunLogger(stderr io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// runTarget is the lab a run drives and the journal its cleanup goes through.
type runTarget struct {
	lab     *harness.Lab
	journal *emulate.Journal
	settle  time.Duration
}

// openRunLab opens the inventory's lab, a dry run over it, or starts the
// built-in simulated lab. The returned function releases it.
func openRunLab(ctx context.Context, cfg *runConfig, in *runInputs, stdout io.Writer,
	log *slog.Logger) (*runTarget, func(), error) {
	rl := &runTarget{settle: cfg.settle}
	if cfg.dryRun {
		inv := in.inv
		if inv == nil {
			inv = builtinInventoryShape()
		}
		rl.lab = harness.DryRunLab(inv, stdout)
		return rl, func() {}, nil
	}
	if in.inv != nil {
		return rl.openInventory(cfg, in.inv, log)
	}
	return rl.startSimLab(cfg, log)
}

func (rl *runTarget) openInventory(cfg *runConfig, inv *labs.Inventory,
	log *slog.Logger) (*runTarget, func(), error) {
	lab, err := harness.OpenLab(inv, emulate.Options{Logger: log})
	if err != nil {
		return nil, nil, usageErrorf("run: %v", err)
	}
	dir := cfg.journal
	if dir == "" {
		if dir, err = defaultJournalDir(cfg.lab, inv); err != nil {
			return nil, nil, usageErrorf("run: %v (name one with --journal)", err)
		}
	}
	if rl.journal, err = emulate.OpenJournal(dir); err != nil {
		return nil, nil, usageErrorf("run: %v", err)
	}
	if rl.settle < 0 {
		rl.settle = 3 * time.Second
	}
	rl.lab = lab
	return rl, func() {}, nil
}

// startSimLab starts the built-in lab in a private temporary directory that
// holds its inventory, credentials and journal, and removes it afterwards.
func (rl *runTarget) startSimLab(cfg *runConfig, log *slog.Logger) (*runTarget, func(), error) {
	dir, err := os.MkdirTemp("", "svcharness-sim-*")
	if err != nil {
		return nil, nil, fmt.Errorf("run: %w", err)
	}
	// One more workstation and server per extra worker, so that --parallel
	// has disjoint hosts to run on; the first four are the catalog's lab.
	hosts := harness.SimHosts(min(4+2*(cfg.parallel-1), 64))
	sl, err := harness.StartSimLab(harness.SimLabConfig{Hosts: hosts, Dir: dir,
		Seed: cfg.seed, Logger: log.With("component", "sim")})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, &exitError{code: exitEmulation, err: fmt.Errorf("run: %w", err)}
	}
	release := func() { sl.Close(); os.RemoveAll(dir) }
	if rl.lab, err = harness.OpenLab(sl.Inventory, emulate.Options{Logger: log}); err == nil {
		rl.journal, err = emulate.OpenJournal(filepath.Join(dir, "journal"))
	}
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("run: %w", err)
	}
	rl.settle = max(rl.settle, 0)
	return rl, release, nil
}

// builtinInventoryShape is the built-in lab's inventory without endpoints,
// for a dry run that starts nothing.
func builtinInventoryShape() *labs.Inventory {
	inv := &labs.Inventory{Version: labs.Version, Name: "svcharness-sim"}
	for _, h := range harness.DefaultSimHosts() {
		inv.Hosts = append(inv.Hosts, labs.Host{Name: h.Name, Roles: h.Roles, Lab: true})
	}
	return inv
}

// defaultJournalDir keeps one journal per inventory file, so that a run
// never tries to finish another lab's cleanup.
func defaultJournalDir(invPath string, inv *labs.Inventory) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locate the cleanup journal: %w", err)
	}
	abs, err := filepath.Abs(invPath)
	if err != nil {
		return "", fmt.Errorf("locate the cleanup journal: %w", err)
	}
	sum := sha256.Sum256([]byte(abs))
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == ' ' {
			return '_'
		}
		return r
	}, inv.Name)
	return filepath.Join(cache, "svcharness", "journal",
		name+"-"+hex.EncodeToString(sum[:6])), nil
}

func executeRun(ctx context.Context, cfg *runConfig, in *runInputs, rl *runTarget,
	stdout, stderr io.Writer, log *slog.Logger) error {
	if err := recoverJournal(ctx, rl, stderr); err != nil {
		return err
	}
	h, err := harness.New(harness.Config{Lab: rl.lab, Policy: in.policy,
		PolicyName: in.policyName, Parallel: cfg.parallel, RunID: runID(cfg.seed),
		Seed: cfg.seed, Sink: cfg.sink, Payload: in.payload, Journal: rl.journal,
		Settle: rl.settle, Logger: log,
		OnStart: func(s *scenarios.Scenario, hosts map[string]string) {
			fmt.Fprintf(stderr, "start  %-34s %s\n", s.ID, roleList(hosts))
		},
		OnResult: func(r *report.Result) {
			fmt.Fprintf(stderr, "%-6s %-34s %s (%s)\n", strings.ToUpper(string(r.Verdict)),
				r.ID, r.Class, r.Duration.Round(time.Millisecond))
		}})
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	fmt.Fprintf(stderr, "run %s: %d scenarios on %s, %d at once\n", h.RunID(), len(in.list),
		rl.lab.Inventory.Name, cfg.parallel)
	run := h.Run(ctx, in.list)
	return finishRun(ctx, cfg, run, stdout, stderr)
}

// recoverJournal finishes the cleanup that killed runs left. A lab that
// still owes cleanup is not used: its leftovers would blur the verdicts.
func recoverJournal(ctx context.Context, rl *runTarget, stderr io.Writer) error {
	if rl.journal == nil {
		return nil
	}
	pending, err := rl.journal.Pending()
	if err != nil {
		return &exitError{code: exitEmulation, err: fmt.Errorf("run: %w", err)}
	}
	if len(pending) == 0 {
		return nil
	}
	fmt.Fprintf(stderr, "finishing the cleanup of %d interrupted scenario runs\n", len(pending))
	if err := rl.journal.Recover(ctx, rl.lab.Runner); err != nil {
		return &exitError{code: exitEmulation, err: fmt.Errorf(
			"run: the lab still owes cleanup from an earlier run: %w", err)}
	}
	return nil
}

func finishRun(ctx context.Context, cfg *runConfig, run *report.Run,
	stdout, stderr io.Writer) error {
	_, werr := report.WriteDir(cfg.reportDir, run)
	if err := report.WriteTable(stdout, run); err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("run: %w", werr)
	}
	fmt.Fprintf(stderr, "reports in %s: %s, %s, %s, %s/<scenario>.ndjson\n", cfg.reportDir,
		report.FileHTML, report.FileJUnit, report.FileJSON, report.DirTelemetry)
	t := run.Totals
	switch {
	case ctx.Err() != nil:
		return &exitError{code: exitEmulation, err: errors.New("run: interrupted")}
	case t.Verdicts[report.Error] > 0:
		return &exitError{code: exitEmulation, err: fmt.Errorf(
			"run: %d scenarios hit an emulation error", t.Verdicts[report.Error])}
	case t.Verdicts[report.Fail] > 0:
		return &exitError{code: exitFindings, err: fmt.Errorf(
			"run: %d verdicts failed", t.Verdicts[report.Fail])}
	}
	return nil
}

// runID returns the run's ID: from the seed when one is given, so that a
// seeded run is reproducible.
func runID(seed uint64) string {
	if seed == 0 {
		return ""
	}
	return scenarios.NewRunID(scenarios.NewRand(seed))
}

func roleList(hosts map[string]string) string {
	var parts []string
	for _, role := range slices.Sorted(maps.Keys(hosts)) {
		parts = append(parts, role+"="+hosts[role])
	}
	return strings.Join(parts, " ")
}
