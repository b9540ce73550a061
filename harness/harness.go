package harness

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/report"
	"github.com/svcharness/svcharness/scenarios"
)

// Lab is what a run drives: an inventory, a runner that reaches its hosts,
// and the interlock facts about each host.
type Lab struct {
	Inventory *labs.Inventory
	Runner    emulate.Runner
	Hosts     map[string]emulate.HostInfo
	// DryRun is set when Runner connects to nothing: results are skips.
	DryRun bool
}

// OpenLab resolves every host's credentials and CA from the inventory and
// returns a lab reached over WinRM. It makes no connection.
func OpenLab(inv *labs.Inventory, opts emulate.Options) (*Lab, error) {
	targets, hosts, err := emulate.FromInventory(inv)
	if err != nil {
		return nil, err
	}
	w, err := emulate.NewWinRM(targets, opts)
	if err != nil {
		return nil, err
	}
	return &Lab{Inventory: inv, Runner: w, Hosts: hosts}, nil
}

// DryRunLab returns a lab over inv that prints every command to out and
// connects to nothing. Hosts are taken as declared: credentials are not
// resolved.
func DryRunLab(inv *labs.Inventory, out io.Writer) *Lab {
	hosts := map[string]emulate.HostInfo{}
	for _, h := range inv.Hosts {
		hosts[h.Name] = emulate.HostInfo{Lab: h.Lab, Marker: h.Marker}
	}
	return &Lab{Inventory: inv, Runner: &emulate.DryRun{Out: out}, Hosts: hosts, DryRun: true}
}

// Config configures a Harness.
type Config struct {
	Lab    *Lab              // required
	Policy *correlate.Policy // correlate.DefaultPolicy when nil
	// PolicyName names the policy in reports ("built-in" when empty).
	PolicyName string
	// Parallel is how many scenarios may run at once, each on hosts no
	// other running scenario holds; 1 when zero.
	Parallel int
	RunID    string // scenarios.NewRunID when empty
	// Seed derives each scenario's random names (its own stream per
	// scenario ID, so names do not depend on scheduling order).
	Seed    uint64
	Sink    string // host:port the canary reports to
	Payload emulate.PayloadFunc
	Journal *emulate.Journal
	// Settle is waited after the steps before telemetry is collected.
	Settle         time.Duration
	CleanupTimeout time.Duration
	Logger         *slog.Logger
	// OnStart and OnResult report progress. They are called one at a time.
	OnStart  func(s *scenarios.Scenario, hosts map[string]string)
	OnResult func(r *report.Result)
}

// Harness runs scenarios on a lab and judges each run. It is safe for
// concurrent use: RunScenario waits until the hosts it needs are free.
type Harness struct {
	cfg      Config
	log      *slog.Logger
	mu       sync.Mutex
	cond     *sync.Cond
	busy     map[string]bool
	progress sync.Mutex
}

// New returns a harness over cfg.Lab.
func New(cfg Config) (*Harness, error) {
	if cfg.Lab == nil || cfg.Lab.Inventory == nil || cfg.Lab.Runner == nil {
		return nil, errors.New("new harness: no lab")
	}
	if cfg.Policy == nil {
		cfg.Policy = correlate.DefaultPolicy()
	}
	if cfg.PolicyName == "" {
		cfg.PolicyName = "built-in"
	}
	if cfg.RunID == "" {
		cfg.RunID = scenarios.NewRunID(scenarios.NewRand(uint64(time.Now().UnixNano())))
	}
	cfg.Parallel = max(cfg.Parallel, 1)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := &Harness{cfg: cfg, log: cfg.Logger, busy: map[string]bool{}}
	h.cond = sync.NewCond(&h.mu)
	return h, nil
}

// RunID returns the run ID baked into every plan this harness renders.
func (h *Harness) RunID() string { return h.cfg.RunID }

// Run runs every scenario of list, up to Config.Parallel at once, and returns
// the finished report. Scenarios not started when ctx ends are skipped.
func (h *Harness) Run(ctx context.Context, list []*scenarios.Scenario) *report.Run {
	run := &report.Run{RunID: h.cfg.RunID, Lab: h.cfg.Lab.Inventory.Name,
		Policy: h.cfg.PolicyName, DryRun: h.cfg.Lab.DryRun, Started: time.Now().UTC()}
	queue := make(chan *scenarios.Scenario)
	results := make(chan *report.Result)
	var wg sync.WaitGroup
	for range min(h.cfg.Parallel, max(len(list), 1)) {
		wg.Go(func() {
			for s := range queue {
				results <- h.RunScenario(ctx, s).Result
			}
		})
	}
	go func() {
		for _, s := range list {
			queue <- s
		}
		close(queue)
		wg.Wait()
		close(results)
	}()
	for r := range results {
		run.Results = append(run.Results, r)
	}
	run.Finish()
	return run
}

// Outcome is one scenario run in full: the plan, what the emulation did and
// collected, every alert the correlator raised over it, and the verdict.
type Outcome struct {
	Plan      *scenarios.Plan    // nil when the scenario did not render
	Emulation *emulate.Emulation // nil when nothing ran
	Alerts    []correlate.Alert  // every alert over the scenario's telemetry
	Joined    []correlate.Alert  // the alerts that joined the plan's names
	Result    *report.Result
}

// RunScenario runs one scenario: it waits for hosts that can play its roles
// and no other running scenario holds, renders the plan, emulates it, feeds
// the telemetry to a fresh correlator and judges the alerts.
func (h *Harness) RunScenario(ctx context.Context, s *scenarios.Scenario) *Outcome {
	o := &Outcome{Result: newResult(s)}
	if ctx.Err() != nil {
		return h.finish(o, skip(o.Result, "not run: the run was interrupted"))
	}
	hosts, err := h.acquire(ctx, s)
	if err != nil {
		return h.finish(o, skip(o.Result, "not run: "+err.Error()))
	}
	defer h.release(hosts)
	o.Result.Hosts, o.Result.Started = hosts, time.Now().UTC()
	if missing := h.undeclaredSensors(s, hosts); len(missing) > 0 {
		o.Result.MissingSensors = missing
		return h.finish(o, skip(o.Result, "the target does not record "+
			strings.Join(missing, ", ")))
	}
	h.notifyStart(s, hosts)
	plan, err := s.Render(scenarios.Binding{RunID: h.cfg.RunID, Hosts: hosts,
		Sink: h.cfg.Sink}, scenarios.NewRand(h.seedFor(s.ID)))
	if err != nil {
		o.Result.EmulationError = err.Error()
		return h.finish(o, setVerdict(o.Result, report.Error, report.EmulationError,
			"the scenario did not render: "+err.Error()))
	}
	o.Plan = plan
	o.Emulation = emulate.Emulate(ctx, h.cfg.Lab.Runner, plan, h.emulateOptions())
	h.judge(o)
	return h.finish(o, o.Result)
}

func (h *Harness) emulateOptions() emulate.EmulateOptions {
	return emulate.EmulateOptions{
		ExecOptions: emulate.ExecOptions{Logger: h.log, Journal: h.cfg.Journal,
			CleanupTimeout: h.cfg.CleanupTimeout},
		Payload: h.cfg.Payload, Hosts: h.cfg.Lab.Hosts, Settle: h.cfg.Settle,
	}
}

// seedFor derives a scenario's own random stream from the run's seed.
func (h *Harness) seedFor(id string) uint64 {
	f := fnv.New64a()
	_, _ = f.Write([]byte(id))
	return h.cfg.Seed ^ f.Sum64()
}

func (h *Harness) finish(o *Outcome, r *report.Result) *Outcome {
	o.Result = r
	if h.cfg.OnResult != nil {
		h.progress.Lock()
		defer h.progress.Unlock()
		h.cfg.OnResult(r)
	}
	return o
}

func (h *Harness) notifyStart(s *scenarios.Scenario, hosts map[string]string) {
	if h.cfg.OnStart != nil {
		h.progress.Lock()
		defer h.progress.Unlock()
		h.cfg.OnStart(s, hosts)
	}
}

func newResult(s *scenarios.Scenario) *report.Result {
	return &report.Result{ID: s.ID, Name: s.Name, Intent: string(s.Intent),
		Techniques: s.Techniques, Labels: s.AllLabels(),
		Expect: report.Expectation{Alert: s.Expect.Alert, Signals: s.Expect.Signals,
			SuppressedBy: s.Expect.SuppressedBy, Silent: s.Expect.Silent},
		Started: time.Now().UTC(), Signals: []string{}, Alerts: []report.Alert{}}
}

func setVerdict(r *report.Result, v report.Verdict, c report.Class, reason string) *report.Result {
	r.Verdict, r.Class, r.Reason = v, c, reason
	if !r.Started.IsZero() && r.Duration == 0 {
		r.Duration = time.Since(r.Started)
	}
	return r
}

func skip(r *report.Result, reason string) *report.Result {
	return setVerdict(r, report.Skip, report.Skipped, reason)
}

// errInterrupted is why a scenario waiting for hosts did not start.
var errInterrupted = fmt.Errorf("interrupted while waiting for hosts: %w", emulate.ErrInterrupted)

// StandInPayload is a PayloadFunc for the simulated lab, which runs any
// uploaded executable as the canary. It returns a small marked stand-in, not
// the canary program: a real lab needs the canary built for windows/amd64.
func StandInPayload(p scenarios.PlannedPayload) ([]byte, error) {
	if p.Source == scenarios.SourceText {
		return []byte(p.Content), nil
	}
	return []byte("MZ svcharness canary stand-in for the simulated lab\r\n"), nil
}
