package synth

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// Config chooses the fleet, the rate and the attacks of a stream.
type Config struct {
	// Hosts is the number of hosts in the fleet (default 10, at least 2).
	// The last is the administrators' jump host JUMP01, the one before it
	// (from 4 hosts) the deployment server MGMT01 (see AdminHosts); of the
	// others every tenth is a server (SRVnnn), the rest workstations
	// (WSnnnn).
	Hosts int
	// EventsPerSecond spaces the events' timestamps: the fleet as a whole
	// records this many events per second of simulated time (default 1000).
	// It does not throttle the generator, which runs as fast as it is called.
	EventsPerSecond float64
	// AttackEvery injects one attack chain per this many events on average
	// (0: none). Chains are spread with jitter, not at exact multiples.
	AttackEvery int
	// AdminEvery starts one benign episode that touches services the way
	// attacks do (a software install, a logon with its per-user services, a
	// Windows Update run, a Defender driver, a service restart, an approved
	// PsExec or deployment) per this many events on average (default 2000;
	// -1: none). The rest of the stream is process, network and service
	// state noise. Real fleets see far fewer per event; the default keeps
	// look-alikes frequent enough to matter in a short stream.
	AdminEvery int
	// Attacks restricts the injected chains to these scenarios (default: all of
	// Scenarios()).
	Attacks []string
	// Seed makes the stream reproducible: the same Config gives the same events.
	Seed uint64
	// Start is the time of the first event (default 2026-01-05T09:00:00Z).
	Start time.Time
	// Domain is the DNS domain of the hosts (default "lab.local").
	Domain string
	// ProcessAudit adds Security 4688 (version 2, with command line and
	// parent name) beside every Sysmon 1, as hosts with process-creation
	// auditing record.
	ProcessAudit bool
	// Omit drops events as a host without that telemetry would: whole
	// channels ("Sysmon", "Security", "System") or single events in
	// Event.Key form ("Security:4697" without Security System Extension
	// auditing, "Security:5145" without Detailed File Share, "Sysmon:13").
	// Episodes keep their shape; only the omitted legs are missing.
	Omit []string
	// DuplicateEvery delivers about one event in this many a second time, a
	// few events later, as a collector that re-sends a batch does (0: never).
	// The copy has the same record ID and is labelled Duplicate.
	DuplicateEvery int
	// LateEvery holds about one event in this many back and delivers it up to
	// MaxLateness (of stream time) after events recorded later, as a slow
	// forwarder does (0: never). Such events are labelled Late.
	LateEvery   int
	MaxLateness time.Duration
	// MaxClockSkew sets each host's clock off by a fixed amount drawn from
	// [-MaxClockSkew, +MaxClockSkew], as unsynchronised hosts are: a remote
	// chain's source and target legs then disagree on time (0: all in step).
	MaxClockSkew time.Duration
	// Concurrency is how many episodes (an install, a logon, an attack
	// chain…) are under way at once, interleaved event by event across
	// hosts (default 8). An episode of n events spans about n×Concurrency
	// events of the stream.
	Concurrency int
}

// Label says which episode an event belongs to. Attack chains have
// Malicious set; everything else is background that a correct correlator
// either ignores or attributes to approved or benign activity.
type Label struct {
	Scenario  string // episode kind: "psexec", "software_install", "process_noise", …
	Malicious bool   // the event is part of an injected attack chain
	Chain     uint64 // episode number, unique within the stream, starting at 1
	// Host is the canonical key of the host the episode targets. The source
	// side of a remote chain (PsExec.exe and its connection to port 445)
	// carries the target's key here and its own in the event's HostKey.
	Host    string
	Service string // service key name the episode installs or changes, if any

	Duplicate bool // a second delivery of an event already returned
	Late      bool // delivered after events recorded later than it
}

// Attack scenarios. Each is one chain of events on a target host (and, for
// remote ones, its source host).
const (
	// PsExec from another host: 4624, 5145, PSEXESVC, its pipes and child.
	ScenarioPsExec = "psexec"
	// impacket smbexec: a %COMSPEC% echo … execute.bat service.
	ScenarioSmbExec = "smbexec"
	// A local sc.exe create with a %COMSPEC% binPath, then sc.exe start.
	ScenarioScComspec = "sc_comspec"
	// A service key written by PowerShell; the SCM logs nothing.
	ScenarioRegistryOnly = "registry_only"
	// An existing service's ImagePath rewritten, then the service started.
	ScenarioImagePathHijack = "imagepath_hijack"
	// Caldera: sc.exe \\target create with a display name and a
	// "cmd /c start agent" binpath; the agent beacons out.
	ScenarioScRemote = "sc_remote"
)

// Scenarios returns the names of the attack chains the generator can inject.
func Scenarios() []string {
	return []string{ScenarioPsExec, ScenarioSmbExec, ScenarioScComspec, ScenarioRegistryOnly,
		ScenarioImagePathHijack, ScenarioScRemote}
}

// ErrConfig is wrapped by New's errors for an invalid Config.
var ErrConfig = errors.New("invalid generator config")

// Generator produces the stream. It is not safe for concurrent use; run one
// per goroutine (with different seeds) to generate in parallel.
type Generator struct {
	cfg           Config
	rng           *rand.Rand
	arena         arena
	hosts         []*host
	jump          *host // the administrators' jump host, JUMP01
	mgmt          *host // the software-deployment server, MGMT01 (or JUMP01)
	domainNetBIOS string
	nsPerEvent    float64
	attacks       []attackFunc
	omit          []omission
	scratch       telemetry.Event // receives the fields of omitted events

	slots      []slot
	injected   []*slot // chains queued by Inject, emitted before anything else
	forced     *host   // the target Inject asked for, while it builds a chain
	held       []held  // duplicates and late events waiting for delivery
	lateEvents uint64  // MaxLateness in events of the stream
	n          uint64  // events emitted so far
	chains     uint64  // episodes started so far
	nextAttack uint64  // event count at which the next attack chain starts
	nextAdmin  uint64  // event count at which the next administrative episode starts
}

// slot is one episode under way: its label and the events not yet emitted.
type slot struct {
	label   Label
	pending []pend
	pos     int
}

// held is an event waiting to be delivered again or late, when the stream
// has emitted due events.
type held struct {
	ev    *telemetry.Event
	label Label
	due   uint64
}

// pend is an event built ahead of its emission; Time, RecordID and Sysmon's
// UtcTime are set when it is emitted, so that they follow stream order.
type pend struct {
	ev *telemetry.Event
	h  *host
}

// New returns a generator for cfg, with defaults filled in.
func New(cfg Config) (*Generator, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:        cfg,
		rng:        rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		nsPerEvent: 1e9 / cfg.EventsPerSecond,
		slots:      make([]slot, cfg.Concurrency),
	}
	g.domainNetBIOS = strings.ToUpper(strings.SplitN(cfg.Domain, ".", 2)[0])
	for _, name := range cfg.Attacks {
		g.attacks = append(g.attacks, attackByName[name])
	}
	g.omit, _ = parseOmissions(cfg.Omit)
	g.hosts = make([]*host, cfg.Hosts)
	for i := range g.hosts {
		g.hosts[i] = newHost(g, i)
	}
	g.jump, g.mgmt = g.hosts[len(g.hosts)-1], g.hosts[len(g.hosts)-1]
	if len(g.hosts) >= 4 {
		g.mgmt = g.hosts[len(g.hosts)-2]
	}
	if cfg.AttackEvery > 0 {
		g.nextAttack = gap(g, cfg.AttackEvery)
	}
	if cfg.AdminEvery > 0 {
		g.nextAdmin = gap(g, cfg.AdminEvery)
	}
	g.lateEvents = max(1, uint64(cfg.MaxLateness.Seconds()*cfg.EventsPerSecond))
	return g, nil
}

// fill checks c and sets its defaults.
func (c *Config) fill() error {
	if c.Hosts < 0 || c.EventsPerSecond < 0 || c.AttackEvery < 0 || c.Concurrency < 0 ||
		c.AdminEvery < -1 ||
		c.DuplicateEvery < 0 || c.LateEvery < 0 || c.MaxLateness < 0 || c.MaxClockSkew < 0 {
		return fmt.Errorf("%w: negative count, rate, interval or lateness", ErrConfig)
	}
	if c.LateEvery > 0 && c.MaxLateness == 0 {
		return fmt.Errorf("%w: LateEvery needs a MaxLateness", ErrConfig)
	}
	c.Hosts = cmpOr(c.Hosts, 10)
	c.EventsPerSecond = cmpOr(c.EventsPerSecond, 1000)
	c.Concurrency = cmpOr(c.Concurrency, 8)
	c.AdminEvery = cmpOr(c.AdminEvery, 2000)
	c.Domain = cmpOr(c.Domain, "lab.local")
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	}
	c.Start = c.Start.UTC()
	if len(c.Attacks) == 0 {
		c.Attacks = Scenarios()
	}
	for _, a := range c.Attacks {
		if attackByName[a] == nil {
			return fmt.Errorf("%w: unknown attack scenario %q (have %s)", ErrConfig, a,
				strings.Join(Scenarios(), ", "))
		}
	}
	if _, err := parseOmissions(c.Omit); err != nil {
		return err
	}
	if c.Hosts < 2 {
		return fmt.Errorf("%w: need at least 2 hosts (remote attacks come from one)", ErrConfig)
	}
	return nil
}

// cmpOr returns v, or def when v is the zero value.
func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// AdminHost is a host that approved remote administration comes from.
type AdminHost struct {
	Name string // as Windows records it: "JUMP01.lab.local"
	Key  string // canonical: "jump01"
	IP   string
}

// AdminHosts returns the hosts approved remote administration comes from:
// the administrators' jump host JUMP01 (the fleet's last host), source of
// admin_psexec, and the software-deployment server MGMT01 (the one before
// it, in fleets of four hosts or more), source of remote_deploy. These are
// the roles and names of the built-in lab's policy
// (scenarios/catalog/policy.yaml). Attacks never come from them, so a policy
// approving them as remote execution hosts should suppress exactly those
// two scenarios.
func (g *Generator) AdminHosts() []AdminHost {
	hosts := []AdminHost{{g.jump.name, g.jump.key, g.jump.ip}}
	if g.mgmt != g.jump {
		hosts = append(hosts, AdminHost{g.mgmt.name, g.mgmt.key, g.mgmt.ip})
	}
	return hosts
}

// Next returns the next event of the stream and its label. The event is the
// caller's to keep.
func (g *Generator) Next() (*telemetry.Event, Label) {
	for {
		if i := g.dueHeld(); i >= 0 {
			h := g.held[i]
			g.held = slices.Delete(g.held, i, i+1)
			return h.ev, h.label
		}
		e, l := g.fresh()
		if g.cfg.LateEvery > 0 && g.rng.IntN(g.cfg.LateEvery) == 0 {
			l.Late = true
			due := g.n + 1 + g.rng.Uint64N(g.lateEvents)
			g.held = append(g.held, held{ev: e, label: l, due: due})
			continue
		}
		if g.cfg.DuplicateEvery > 0 && g.rng.IntN(g.cfg.DuplicateEvery) == 0 {
			dup := g.arena.event()
			*dup = *e
			dl := l
			dl.Duplicate = true
			g.held = append(g.held, held{ev: dup, label: dl, due: g.n + 1 + g.rng.Uint64N(16)})
		}
		return e, l
	}
}

// dueHeld returns the index of the held event due earliest, if it is due,
// else -1.
func (g *Generator) dueHeld() int {
	best := -1
	for i := range g.held {
		if g.held[i].due <= g.n && (best < 0 || g.held[i].due < g.held[best].due) {
			best = i
		}
	}
	return best
}

// fresh emits the next event of an injected chain, or else of a running
// episode, starting one when the chosen slot is empty.
func (g *Generator) fresh() (*telemetry.Event, Label) {
	for len(g.injected) > 0 {
		s := g.injected[0]
		if s.pos < len(s.pending) {
			p := s.pending[s.pos]
			s.pos++
			g.emit(p)
			return p.ev, s.label
		}
		g.injected = g.injected[1:]
	}
	s := &g.slots[g.rng.IntN(len(g.slots))]
	for s.pos == len(s.pending) {
		s.pending, s.pos = s.pending[:0], 0
		g.startEpisode(s)
	}
	p := s.pending[s.pos]
	s.pos++
	g.emit(p)
	return p.ev, s.label
}

// Fill fills events with the next len(events) events of the stream, and
// labels (when not nil, and as far as it is long) with their labels. The
// events' fields and strings are shared with nothing the generator will
// write again.
func (g *Generator) Fill(events []telemetry.Event, labels []Label) {
	for i := range events {
		e, l := g.Next()
		events[i] = *e
		if i < len(labels) {
			labels[i] = l
		}
	}
}

// emit stamps an event with the stream's clock, its host's next record ID
// and, for Sysmon, the matching UtcTime.
func (g *Generator) emit(p pend) {
	e := p.ev
	e.Time = g.cfg.Start.Add(time.Duration(float64(g.n)*g.nsPerEvent) + p.h.skew)
	g.n++
	e.RecordID = p.h.record(e.Channel)
	if e.Channel != telemetry.ChannelSysmon {
		return
	}
	utc := g.arena.sysmonTime(e.Time)
	for i := range e.Fields {
		if n := e.Fields[i].Name; n == "UtcTime" || n == "CreationUtcTime" {
			e.Fields[i].Value = utc
		}
	}
}

// ErrUnknownScenario is returned by Inject for a name that is not a scenario.
var ErrUnknownScenario = errors.New("unknown scenario")

// ErrUnknownHost is returned by Inject for a host that is not in the fleet.
var ErrUnknownHost = errors.New("unknown host")

// Inject queues one episode of scenario (any attack of Scenarios or any
// background scenario, such as ScenarioAdminPsExec) on the host whose
// canonical key is hostKey ("" for a random one). Its events come next, in
// order and without other events between them, ahead of the regular
// stream; chains injected one after another follow each other. Tests use it
// to build exact sequences: an approved PsExec, then an attacker's PsExec
// on the same host.
func (g *Generator) Inject(scenario, hostKey string) error {
	run := attackByName[scenario]
	if run == nil {
		run = backgroundByName()[scenario]
	}
	if run == nil {
		return fmt.Errorf("inject %q: %w", scenario, ErrUnknownScenario)
	}
	g.forced = nil
	if hostKey != "" {
		i := slices.IndexFunc(g.hosts, func(h *host) bool { return h.key == hostKey })
		if i < 0 {
			return fmt.Errorf("inject %s on %q: %w", scenario, hostKey, ErrUnknownHost)
		}
		g.forced = g.hosts[i]
	}
	s := &slot{}
	run(g, s)
	g.forced = nil
	g.injected = append(g.injected, s)
	return nil
}

// Reader returns a telemetry.Reader over the next n events of the stream,
// so the generator can stand in for a decoded file wherever a Reader is read.
// Labels are not returned; use Next for them.
func (g *Generator) Reader(n uint64) telemetry.Reader {
	return &reader{g: g, left: n}
}

// reader is the telemetry.Reader of Generator.Reader.
type reader struct {
	g    *Generator
	left uint64
}

// Next returns the next event, or io.EOF after n events.
func (r *reader) Next() (*telemetry.Event, error) {
	if r.left == 0 {
		return nil, io.EOF
	}
	r.left--
	e, _ := r.g.Next()
	return e, nil
}

// omission is one entry of Config.Omit: a channel, and an event ID or 0 for
// the whole channel.
type omission struct {
	channel string
	id      uint32
}

// parseOmissions reads Config.Omit.
func parseOmissions(keys []string) ([]omission, error) {
	var out []omission
	channels := map[string]bool{}
	for _, k := range keys {
		name, idText, hasID := strings.Cut(k, ":")
		channel := telemetry.CanonicalChannel(name)
		if strings.EqualFold(name, "Sysmon") {
			channel = telemetry.ChannelSysmon
		}
		if channel != telemetry.ChannelSecurity && channel != telemetry.ChannelSystem &&
			channel != telemetry.ChannelSysmon {
			return nil, fmt.Errorf("%w: omit %q: unknown channel (want Sysmon, Security or "+
				"System)", ErrConfig, k)
		}
		var id uint64
		if hasID {
			v, ok := telemetry.ParseNumber(idText)
			if !ok || v == 0 || v > 0xffffffff {
				return nil, fmt.Errorf("%w: omit %q: bad event ID", ErrConfig, k)
			}
			id = v
		} else {
			channels[channel] = true
		}
		out = append(out, omission{channel, uint32(id)})
	}
	if len(channels) == 3 {
		return nil, fmt.Errorf("%w: omitting every channel leaves no events", ErrConfig)
	}
	return out, nil
}

// omitted reports whether events of channel and id are left out.
func (g *Generator) omitted(channel string, id uint32) bool {
	for _, o := range g.omit {
		if o.channel == channel && (o.id == 0 || o.id == id) {
			return true
		}
	}
	return false
}
