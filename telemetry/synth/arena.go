package synth

import (
	"strconv"
	"time"
	"unsafe"

	"github.com/svcharness/svcharness/telemetry"
)

// The generator hands out events, field slices and strings carved from large
// chunks, so that a stream of millions of events costs a few allocations per
// thousand events rather than several per event. Chunks are append-only:
// nothing handed out is ever written again, so callers may keep what they get,
// and a chunk is garbage once nothing references it.

const (
	textChunkSize  = 256 << 10
	fieldChunkSize = 8192
	eventChunkSize = 512
)

// arena carves strings, field slices and events from chunks.
type arena struct {
	text   []byte
	fields []telemetry.Field
	events []telemetry.Event
}

// str returns b as a string stored in the arena. b must not alias the arena.
func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	a.reserve(len(b))
	start := len(a.text)
	a.text = append(a.text, b...)
	return unsafe.String(&a.text[start], len(b))
}

// reserve makes room for n more bytes in the current text chunk, starting a
// new chunk (and leaving the old one to its strings) when it is full.
func (a *arena) reserve(n int) {
	if cap(a.text)-len(a.text) >= n {
		return
	}
	a.text = make([]byte, 0, max(textChunkSize, n))
}

// builder starts a string of at most max bytes in the arena; the caller
// appends to the returned slice and passes it to done.
func (a *arena) builder(max int) []byte {
	a.reserve(max)
	return a.text[len(a.text):len(a.text):cap(a.text)]
}

// done commits a string built from builder. If b outgrew the space builder
// reserved, append moved it elsewhere and it is copied in.
func (a *arena) done(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	free := a.text[len(a.text):cap(a.text)]
	if len(free) >= len(b) && unsafe.SliceData(b) == unsafe.SliceData(free) {
		a.text = a.text[:len(a.text)+len(b)]
		return unsafe.String(unsafe.SliceData(free), len(b))
	}
	return a.str(b)
}

// concat joins parts into one arena string.
func (a *arena) concat(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := a.builder(n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return a.done(b)
}

// decimal formats v in decimal.
func (a *arena) decimal(v uint64) string {
	return a.done(strconv.AppendUint(a.builder(20), v, 10))
}

// hex formats v as telemetry.HexText does, without allocating per call.
func (a *arena) hex(v uint64, width int) string {
	const digits = "0123456789abcdef"
	var tmp [18]byte
	i := len(tmp)
	for n := 0; v != 0 || n < width || n == 0; n++ {
		i--
		tmp[i] = digits[v&0xf]
		v >>= 4
	}
	i -= 2
	tmp[i], tmp[i+1] = '0', 'x'
	return a.str(tmp[i:])
}

// sysmonTime formats t as Sysmon's UtcTime ("2020-09-22 03:29:32.872").
func (a *arena) sysmonTime(t time.Time) string {
	return a.done(t.AppendFormat(a.builder(32), "2006-01-02 15:04:05.000"))
}

// fieldSlice returns an empty field slice with room for n fields.
func (a *arena) fieldSlice(n int) []telemetry.Field {
	if cap(a.fields)-len(a.fields) < n {
		a.fields = make([]telemetry.Field, 0, max(fieldChunkSize, n))
	}
	start := len(a.fields)
	a.fields = a.fields[:start+n]
	return a.fields[start : start : start+n]
}

// event returns a zeroed event from the current event chunk.
func (a *arena) event() *telemetry.Event {
	if len(a.events) == cap(a.events) {
		a.events = make([]telemetry.Event, 0, eventChunkSize)
	}
	a.events = a.events[:len(a.events)+1]
	return &a.events[len(a.events)-1]
}
