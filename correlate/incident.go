package correlate

import (
	"slices"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// incident is one service on one host (or one burst of services) while the
// engine correlates it.
type incident struct {
	seq                  uint64
	hostKey, host        string
	keyName, displayName string
	imagePath            string // as first recorded (unredacted until output)
	imageKey             string // canonical binary
	imageNorm            string // normPath(imagePath)
	imageGuess           bool   // imagePath came from a dropped file or a pipe's creator
	driver               bool

	signals  signalSet
	reasons  []string
	evidence []evRec
	hosts    []string // host names as recorded, indexed by evRec.host
	dropped  int

	first, last time.Time
	installed   time.Time // install, registration or creation command
	changed     time.Time // binary changed
	started     time.Time

	creator, user        string
	sourceHost, sourceIP string
	signer               string
	commandKinds         signalSet // T1543.003 vs T1569.002 evidence from commands

	// A service name is re-created per session (PsExec's PSEXESVC) or per
	// command (smbexec): each creation is an incident of its own, told apart
	// by these (see registration).
	installs   uint8     // install events seen: installed7045, installed4697
	installAt  time.Time // time of the first 7045 or 4697
	logonID    uint64    // 4697 SubjectLogonId
	deletedAt  time.Time // key deleted or sc delete issued
	createdCmd time.Time // first create command (issuing host's clock)
	prevSame   *incident // the open incident this name had before this one
	others     []origin  // sources seen besides sourceHost/sourceIP
	hashes     []string  // SHA-256 of every binary its processes ran

	suspicious    bool // counted towards install bursts
	oneLiner      bool // the binary is a shell one-liner: scored higher
	inBurst       bool
	burst         *incident   // the burst incident this one was merged into
	members       []string    // burst: the distinct services, in order
	burstInstalls int         // burst: the installs it merged
	parts         []*incident // burst: the installs, up to maxBurstNames
	isBurst       bool
	closed        bool
}

// root returns the incident that collects this one's evidence: its burst when
// merged, else itself.
func (inc *incident) root() *incident {
	if inc.burst != nil {
		return inc.burst
	}
	return inc
}

// name returns the key name when known, else the display name.
func (inc *incident) name() string {
	if inc.keyName != "" {
		return inc.keyName
	}
	return inc.displayName
}

// openIncident starts tracking a new service on h.
func (e *Engine) openIncident(h *hostState, t time.Time) *incident {
	if len(h.open) >= e.opts.MaxIncidentsPerHost {
		e.stats.Evicted.Incidents++
		e.finish(h, h.open[0])
		h.open = h.open[1:]
	}
	e.seq++
	e.stats.Incidents++
	inc := &incident{seq: e.seq, hostKey: h.key, host: h.name, first: t, last: t}
	h.open = append(h.open, inc)
	return inc
}

// setNames records the service's key and display names and indexes them.
func (h *hostState) setNames(inc *incident, key, display string) {
	if key != "" && inc.keyName == "" {
		inc.keyName = strings.Clone(key) // do not pin a decoder's buffer
		h.index(h.byName, strings.ToLower(key), inc)
	}
	if display != "" && inc.displayName == "" {
		inc.displayName = strings.Clone(display)
		h.index(h.byName, strings.ToLower(display), inc)
	}
}

// setImage records the service binary and indexes its full ImagePath.
func (h *hostState) setImage(inc *incident, path string) {
	if path == "" {
		return
	}
	if inc.imagePath == "" || inc.imageGuess {
		inc.imagePath, inc.imageGuess = strings.Clone(path), false
		inc.imageKey, inc.imageNorm = canonImage(path), normPath(path)
		if inc.imageKey != "" {
			h.byBinary[inc.imageKey] = append(h.byBinary[inc.imageKey], inc)
			if b := baseName(inc.imageKey); b != inc.imageKey {
				h.byBinary[b] = append(h.byBinary[b], inc) // for shares and relative paths
			}
		}
	}
	h.index(h.byImage, normPath(path), inc)
}

// index maps k to inc unless an open, newer incident already holds it: a
// name or path names its newest service.
func (h *hostState) index(m map[string]*incident, k string, inc *incident) {
	if k == "" {
		return
	}
	if cur, ok := m[k]; !ok || cur.closed || cur.seq < inc.seq {
		m[k] = inc
	}
}

// samePath reports whether two ImagePaths name the same binary with the same
// arguments, whatever their quoting, variables or case.
func samePath(a, b string) bool {
	if normPath(a) == normPath(b) {
		return true
	}
	_, argsA := splitImage(a)
	_, argsB := splitImage(b)
	return canonImage(a) == canonImage(b) && strings.EqualFold(argsA, argsB)
}

// appendLower appends s in ASCII lower case; map lookups keyed by
// string(result) do not allocate.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// normPath is the lookup form of a full ImagePath: lower case, Sysmon's %%
// halved, outer spaces trimmed, arguments kept.
func normPath(p string) string {
	return strings.ToLower(strings.TrimSpace(strings.ReplaceAll(p, "%%", "%")))
}

// lookup finds the open incident for a service by key name, display name or
// full ImagePath: of the incidents of a name re-created in quick succession,
// the newest one created by t. The ImagePath join (7045 carrying a display
// name, 4697 the key name) only holds within the window of that incident's
// install.
func (e *Engine) lookup(h *hostState, t time.Time, key, display, path string) *incident {
	return createdBy(e.newest(h, t, key, display, path), t)
}

// newest finds the newest open incident for a service (see lookup).
func (e *Engine) newest(h *hostState, t time.Time, key, display, path string) *incident {
	for _, n := range []string{key, display} {
		if n == "" {
			continue
		}
		e.lbuf = appendLower(e.lbuf[:0], n)
		if inc := h.byName[string(e.lbuf)]; inc != nil && !inc.closed { // no allocation
			return inc
		}
	}
	if path == "" {
		return nil
	}
	inc := h.byImage[normPath(path)]
	if inc == nil || inc.closed || !within(inc.installed, t, e.pol.Window) {
		return nil
	}
	return inc
}

// within reports whether b is no more than w from a in either direction; a
// zero a never matches. Exactly w still joins.
func within(a, b time.Time, w time.Duration) bool {
	if a.IsZero() {
		return false
	}
	d := b.Sub(a)
	return d <= w && d >= -w
}

// after reports whether b follows a by at most w (with clockSkew of slack
// before a, for records written by different logs). Exactly w still joins.
func after(a, b time.Time, w time.Duration) bool {
	if a.IsZero() || b.IsZero() {
		return false
	}
	d := b.Sub(a)
	return d >= -clockSkew && d <= w
}

// note adds evidence, and optionally a signal and a reason, to the incident's
// root. Repeated timing and PsExec reasons are kept once per signal, and a
// burst's members add evidence but no reasons (the burst's reason covers them).
func (e *Engine) note(inc *incident, ev Evidence, sig Signal, reason string) {
	r := inc.root()
	if sig < numSignals && e.disabled.has(sig) {
		sig, reason = noSignal, "" // the evidence stays, the signal and its reason go
	}
	if sig < numSignals {
		if onceReason[sig] && r.signals.has(sig) {
			reason = ""
		}
		r.signals.add(sig)
	}
	if r.isBurst && inc != r {
		reason = ""
	}
	if reason != "" && !slices.Contains(r.reasons, reason) && len(r.reasons) < 64 {
		r.reasons = append(r.reasons, reason)
	}
	e.addEvidence(r, ev, sig)
}

// onceReason marks signals whose later occurrences add evidence only.
var onceReason = [numSignals]bool{
	RapidExecution: true, TransientService: true, PsexecFamily: true,
	ServiceNetwork: true, RemoteOrigin: true, ServiceInstalled: true,
}

const noSignal = numSignals

// evRec is an evidence record as an incident keeps it: 32 bytes, since every
// relevant event adds one to some incident and most incidents never alert.
type evRec struct {
	rec  uint64
	t    int64 // UnixNano
	id   uint32
	ch   uint8 // index into evChannels
	sig  Signal
	host uint8 // index into incident.hosts
}

var evChannels = []string{telemetry.ChannelSecurity, telemetry.ChannelSystem,
	telemetry.ChannelSysmon}

func channelIndex(ch string) uint8 {
	for i, c := range evChannels {
		if c == ch {
			return uint8(i)
		}
	}
	return 0
}

// hostIndex returns the index of a recorded host name in r.hosts.
func (r *incident) hostIndex(name string) uint8 {
	for i, h := range r.hosts {
		if h == name {
			return uint8(i)
		}
	}
	if len(r.hosts) >= 255 {
		return 0
	}
	r.hosts = append(r.hosts, strings.Clone(name))
	return uint8(len(r.hosts) - 1)
}

func (r *incident) addTimes(t time.Time) {
	if t.IsZero() {
		return
	}
	if t.Before(r.first) || r.first.IsZero() {
		r.first = t
	}
	if t.After(r.last) {
		r.last = t
	}
}

func (e *Engine) addEvidence(r *incident, ev Evidence, sig Signal) {
	r.addTimes(ev.Time)
	rec := evRec{rec: ev.RecordID, t: ev.Time.UnixNano(), id: ev.EventID,
		ch: channelIndex(ev.Channel), sig: sig, host: r.hostIndex(ev.Host)}
	for i := len(r.evidence) - 1; i >= 0 && i >= len(r.evidence)-16; i-- {
		if o := &r.evidence[i]; o.rec == rec.rec && o.id == rec.id && o.ch == rec.ch && o.t == rec.t {
			if o.sig == noSignal {
				o.sig = sig
			}
			return
		}
	}
	if len(r.evidence) >= e.opts.MaxEvidencePerAlert {
		r.dropped++
		e.stats.Evicted.Evidence++
		return
	}
	r.evidence = append(r.evidence, rec)
}

// evidenceOf returns an incident's evidence for its alert.
func (r *incident) evidenceOf() []Evidence {
	out := make([]Evidence, len(r.evidence))
	for i, x := range r.evidence {
		out[i] = Evidence{Host: r.hosts[x.host], Channel: evChannels[x.ch], EventID: x.id,
			RecordID: x.rec, Time: time.Unix(0, x.t).UTC()}
		if x.sig < numSignals {
			out[i].Signal = x.sig.String()
		}
	}
	return out
}

// maxBurstNames bounds the service names a burst lists.
const maxBurstNames = 256

// merge folds a suspicious install into its burst.
func (e *Engine) merge(b, inc *incident) {
	if inc == b || inc.burst != nil {
		return
	}
	inc.burst = b
	b.signals |= inc.signals
	b.oneLiner = b.oneLiner || inc.oneLiner
	if b.burstInstalls == 0 {
		b.reasons = append(b.reasons, inc.reasons...) // the first member speaks for all
	}
	for _, x := range inc.evidence {
		ev := Evidence{Host: inc.hosts[x.host], Channel: evChannels[x.ch], EventID: x.id,
			RecordID: x.rec, Time: time.Unix(0, x.t).UTC()}
		e.addEvidence(b, ev, x.sig)
	}
	inc.evidence, inc.reasons = nil, nil
	b.burstInstalls++
	if len(b.parts) < maxBurstNames {
		b.parts = append(b.parts, inc) // for approvals, which must cover each
	}
	if n := inc.name(); !slices.Contains(b.members, n) && len(b.members) < maxBurstNames {
		b.members = append(b.members, n) // smbexec re-creates one name per command
	}
	if b.creator == "" {
		b.creator = inc.creator
	}
	if b.user == "" {
		b.user = inc.user
	}
	if b.sourceHost == "" && b.sourceIP == "" {
		b.sourceHost, b.sourceIP = inc.sourceHost, inc.sourceIP
	}
}
