package correlate

import (
	"hash/maphash"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// hostState is everything the engine remembers about one host. Every table
// expires with the correlation window (logons with Options.LogonTTL) and has
// a cap.
type hostState struct {
	key, name string

	watermark time.Time // newest event time seen on this host (UTC)
	lastSweep time.Time
	lastUTC   time.Time // newest event carrying a UTC timestamp
	offset    time.Duration
	offsetSet bool

	open    []*incident          // open incidents, oldest first
	byName  map[string]*incident // lower-case key and display names
	byImage map[string]*incident // lower-case full ImagePath (arguments kept)

	procs    map[string]*proc          // processes tied to incidents, and services.exe
	byPID    map[uint64]*proc          // newest process per PID (4688, 4697 client)
	pending  map[string][]pendingChild // unexplained services.exe children by binary
	nPending int
	byBinary map[string][]*incident // open incidents by canonical binary
	states   map[string]*svcState
	logons   map[uint64]logon
	awaiting map[uint64][]*incident // 4697 installs whose 4624 has not arrived
	bursts   map[string]*burstTracker
	groups   map[string]bool // svchost groups defined on this host
	svcctl   shareOpen       // the last remote opening of the SCM pipe
	seen     dedup
	netSeen  uint32 // Sysmon 3 events, for learnOwnAddress
}

func newHostState(key, name string) *hostState {
	return &hostState{
		key: key, name: name,
		byName:   map[string]*incident{},
		byImage:  map[string]*incident{},
		procs:    map[string]*proc{},
		pending:  map[string][]pendingChild{},
		byBinary: map[string][]*incident{},
		byPID:    map[uint64]*proc{},
		states:   map[string]*svcState{},
		logons:   map[uint64]logon{},
		awaiting: map[uint64][]*incident{},
		bursts:   map[string]*burstTracker{},
		groups:   map[string]bool{},
		seen:     newDedup(),
	}
}

// proc is a process the engine follows: a service's process tree, services.exe
// itself, or a service-control command.
type proc struct {
	key     string // process GUID, or "pid:<pid>" for 4688
	pid     uint64
	image   string // canonical
	cmdline string
	start   time.Time
	inc     *incident // the service this process belongs to, or nil
	scm     bool      // services.exe
	kept    bool      // strings copied (see keep)
}

// pendingChild is a services.exe child seen before the install it belongs to.
type pendingChild struct {
	p  *proc
	ev Evidence
}

// svcState is the last start and stop of a service by name, kept so that an
// install arriving after its 7036 still finds them.
type svcState struct {
	started, stopped time.Time
	startEv, stopEv  Evidence
}

// logon is a network logon (4624 type 3).
type logon struct {
	at          time.Time
	ip, station string
	claimed     string // a WorkstationName its address's own host contradicts
	user        string
	ev          Evidence
}

// shareOpen is a Security 5145 opening of \\*\IPC$\svcctl: a remote client
// about to talk to the Service Control Manager.
type shareOpen struct {
	at       time.Time
	ip, user string
	ev       Evidence
}

// burstTracker holds the recent suspicious installs of one origin.
type burstTracker struct {
	members []*incident
	times   []time.Time
	burst   *incident
}

// fromLocal converts a host-local time to UTC. The offset is learned once,
// from the gap to the host's newest UTC timestamp rounded to 15 minutes, when
// that gap is within 5 minutes of a whole zone offset; until then local time
// is taken as UTC.
func (h *hostState) fromLocal(t time.Time) time.Time {
	if !h.offsetSet && !h.lastUTC.IsZero() {
		d := t.Sub(h.lastUTC)
		r := d.Round(15 * time.Minute)
		if r.Abs() <= 14*time.Hour && (d-r).Abs() <= 5*time.Minute {
			h.offset, h.offsetSet = r, true
		}
	}
	return t.Add(-h.offset)
}

// dedup remembers recent records in two generations, so that memory stays
// bounded while every record is remembered for at least one generation.
type dedup struct {
	cur, prev map[uint64]struct{}
	since     time.Time
}

var dedupSeed = maphash.MakeSeed()

func newDedup() dedup {
	return dedup{cur: map[uint64]struct{}{}}
}

// dup reports whether the record was seen before, and remembers it.
func (d *dedup) dup(ev *telemetry.Event, st *Stats) bool {
	k := recordHash(ev)
	if _, ok := d.cur[k]; ok {
		return true
	}
	if _, ok := d.prev[k]; ok {
		return true
	}
	if len(d.cur) >= defaultMaxDedupPerHost {
		st.Evicted.Dedup += uint64(len(d.prev))
		d.rotate(d.since)
	}
	d.cur[k] = struct{}{}
	return false
}

func (d *dedup) rotate(now time.Time) {
	d.prev, d.cur, d.since = d.cur, make(map[uint64]struct{}, len(d.cur)/2), now
}

// recordHash identifies a record: channel, event ID and record ID when the
// format has one, else the time and every field value.
func recordHash(ev *telemetry.Event) uint64 {
	var h maphash.Hash
	h.SetSeed(dedupSeed)
	h.WriteString(ev.Channel)
	var b [16]byte
	putU64(b[:8], uint64(ev.EventID))
	putU64(b[8:], ev.RecordID)
	h.Write(b[:])
	if ev.RecordID == 0 {
		putU64(b[:8], uint64(ev.Time.UnixNano()))
		h.Write(b[:8])
		for _, f := range ev.Fields {
			h.WriteString(f.Name)
			h.WriteByte(0)
			h.WriteString(f.Value)
			h.WriteByte(0)
		}
	}
	return h.Sum64()
}

func putU64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}
