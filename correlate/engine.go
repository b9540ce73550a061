package correlate

import (
	"log/slog"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// Default caps on the engine's state. A flood beyond them evicts the oldest
// state and counts it in Stats.Evicted.
const (
	DefaultMaxHosts            = 100_000
	DefaultMaxIncidentsPerHost = 4096
	DefaultMaxProcessesPerHost = 16384
	DefaultMaxLogonsPerHost    = 16384
	DefaultMaxEvidencePerAlert = 1000
	DefaultLogonTTL            = time.Hour
	defaultMaxPendingPerHost   = 4096
	defaultMaxDedupPerHost     = 65536
	defaultMaxStatesPerHost    = 4096
	clockSkew                  = 2 * time.Second
	keyHost                    = "host"
	keyService                 = "service"
	keyScore                   = "score"
)

// Options tunes the engine's resources and delivery. The zero value is ready.
type Options struct {
	// Logger receives lifecycle and eviction messages; nil discards them.
	Logger *slog.Logger
	// OnAlert, when set, receives each alert as soon as its incident closes,
	// and Close returns nothing. Otherwise Close returns every alert.
	OnAlert func(Alert)
	// Now is the clock approvals expire by (time.Now when nil).
	Now func() time.Time

	MaxHosts            int
	MaxIncidentsPerHost int
	MaxProcessesPerHost int
	MaxLogonsPerHost    int
	MaxEvidencePerAlert int
	// LogonTTL is how long a network logon stays joinable to an install.
	LogonTTL time.Duration
	// DisabledSignals are never raised: they appear in no alert, add nothing
	// to a score, and InstallBurst disabled merges no installs into bursts.
	// Evidence that would have raised them is still kept. The harness
	// switches each signal off in turn to show which scenarios depend on it.
	DisabledSignals []Signal
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxHosts, DefaultMaxHosts)
	def(&o.MaxIncidentsPerHost, DefaultMaxIncidentsPerHost)
	def(&o.MaxProcessesPerHost, DefaultMaxProcessesPerHost)
	def(&o.MaxLogonsPerHost, DefaultMaxLogonsPerHost)
	def(&o.MaxEvidencePerAlert, DefaultMaxEvidencePerAlert)
	if o.LogonTTL <= 0 {
		o.LogonTTL = DefaultLogonTTL
	}
}

// Stats counts what the engine saw and did.
type Stats struct {
	Events     uint64    `json:"events"`
	Relevant   uint64    `json:"relevant"`     // events of a kind AN1185 reads
	Duplicates uint64    `json:"duplicates"`   // the same record seen again
	OutOfOrder uint64    `json:"out_of_order"` // older than the host's newest event
	Late       uint64    `json:"late"`         // older than the allowed lateness
	LocalTime  uint64    `json:"local_time"`   // host-local timestamps converted
	NoTime     uint64    `json:"no_time"`      // events without a timestamp
	Hosts      int       `json:"hosts"`
	Incidents  uint64    `json:"incidents"` // incidents opened
	Alerts     uint64    `json:"alerts"`
	Suppressed uint64    `json:"suppressed"`
	BelowScore uint64    `json:"below_score"` // incidents closed without alerting
	Evicted    Evictions `json:"evicted"`
}

// Evictions counts state dropped at a cap before it expired.
type Evictions struct {
	Hosts     uint64 `json:"hosts"`
	Incidents uint64 `json:"incidents"`
	Processes uint64 `json:"processes"`
	Logons    uint64 `json:"logons"`
	Pending   uint64 `json:"pending"`
	Dedup     uint64 `json:"dedup"`
	Evidence  uint64 `json:"evidence"`
}

// Engine correlates one stream of events. It is not safe for concurrent use:
// run one engine per partition (hosts never span engines).
type Engine struct {
	pol   *Policy
	opts  Options
	hosts map[string]*hostState
	stats Stats
	out   []Alert
	seq   uint64

	classified map[string][]finding // memo of nonstandard by ImagePath
	lbuf       []byte               // scratch for lower-case lookups
	canonical  map[string]string    // memo of canonical images
	ipNames    map[string]string    // workstation names NTLM logons gave addresses
	ownIPs     map[string]string    // addresses hosts' own connections came from
	disabled   signalSet            // Options.DisabledSignals
}

// New returns an engine applying pol (DefaultPolicy when nil).
func New(pol *Policy, opts Options) *Engine {
	if pol == nil {
		pol = DefaultPolicy()
	}
	opts.setDefaults()
	e := &Engine{pol: pol, opts: opts, hosts: map[string]*hostState{},
		classified: map[string][]finding{}, canonical: map[string]string{},
		ipNames: map[string]string{}, ownIPs: map[string]string{}}
	for _, sig := range opts.DisabledSignals {
		if sig < numSignals {
			e.disabled.add(sig)
		}
	}
	return e
}

// Policy returns the policy the engine applies.
func (e *Engine) Policy() *Policy { return e.pol }

// Stats returns the counters so far.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Hosts = len(e.hosts)
	return s
}

// Process feeds one event. Alerts whose incidents close as the host's clock
// advances go to Options.OnAlert or are kept for Close.
func (e *Engine) Process(ev *telemetry.Event) {
	e.stats.Events++
	h := e.host(ev)
	if h == nil {
		return
	}
	t := e.advance(h, ev)
	kind := kindOf(ev)
	if kind == kindNone || !e.wants(h, ev, kind) {
		e.maybeSweep(h)
		return
	}
	e.stats.Relevant++
	if kind != kindProcess && kind != kindState && h.seen.dup(ev, &e.stats) {
		// Process starts and state changes, by far the most frequent, are
		// handled idempotently instead: a second copy joins nothing new and
		// its evidence is recognised by record.
		e.stats.Duplicates++
		return
	}
	e.dispatch(h, ev, kind, t)
	e.maybeSweep(h)
}

// Close ends the stream: every open incident closes, and the alerts not yet
// delivered are returned in order (none when Options.OnAlert is set).
func (e *Engine) Close() []Alert {
	for _, h := range e.hosts {
		e.closeHost(h)
	}
	out := e.out
	e.out = nil
	SortAlerts(out)
	return out
}

// emit delivers or keeps one alert.
func (e *Engine) emit(a Alert) {
	e.stats.Alerts++
	if a.Suppressed() {
		e.stats.Suppressed++
	}
	if e.opts.OnAlert != nil {
		e.opts.OnAlert(a)
		return
	}
	e.out = append(e.out, a)
}

// host returns the state of the event's host, creating it.
func (e *Engine) host(ev *telemetry.Event) *hostState {
	key := ev.HostKey
	if key == "" {
		key = telemetry.CanonicalHost(ev.Host)
	}
	if h, ok := e.hosts[key]; ok {
		return h
	}
	if len(e.hosts) >= e.opts.MaxHosts {
		e.evictHost()
	}
	h := newHostState(key, ev.Host)
	e.hosts[key] = h
	return h
}

// evictHost closes the host whose clock is furthest behind.
func (e *Engine) evictHost() {
	var oldest *hostState
	for _, h := range e.hosts {
		if oldest == nil || h.watermark.Before(oldest.watermark) {
			oldest = h
		}
	}
	if oldest != nil {
		e.stats.Evicted.Hosts++
		e.opts.Logger.Info("evicting host state", keyHost, oldest.key)
		e.closeHost(oldest)
		delete(e.hosts, oldest.key)
	}
}

// advance converts the event's time to UTC and moves the host's clock.
func (e *Engine) advance(h *hostState, ev *telemetry.Event) time.Time {
	t := ev.Time
	switch ev.TimeSource {
	case telemetry.TimeLocal:
		e.stats.LocalTime++
		t = h.fromLocal(t)
	case telemetry.TimeUTC:
		h.lastUTC = t
	}
	if t.IsZero() {
		e.stats.NoTime++
		return h.watermark
	}
	switch {
	case t.After(h.watermark):
		h.watermark = t
	case t.Before(h.watermark.Add(-e.pol.Lateness)):
		e.stats.Late++
		e.stats.OutOfOrder++
	case t.Before(h.watermark):
		e.stats.OutOfOrder++
	}
	return t
}
