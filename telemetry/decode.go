package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Limits every text decoder enforces. Input comes from hosts an attacker may
// control, so no record may make a decoder allocate without bound.
const (
	// MaxRecordSize caps one record: an XML <Event> element or one JSON line.
	// A longer record is skipped with a *RecordError; memory stays near this
	// size whatever the file size.
	MaxRecordSize = 16 << 20
	// MaxFieldSize caps one decoded value. Real fields stay far below it (a
	// command line is at most 32 Ki UTF-16 units); a multi-megabyte field
	// means a hostile or corrupt record, which is skipped.
	MaxFieldSize = 1 << 20
	// MaxFields caps the number of named fields in one record.
	MaxFields = 4096
	// MaxDepth caps element or object nesting inside one record.
	MaxDepth = 64
)

// Errors a decoder wraps in a *RecordError when it skips a record.
var (
	// ErrRecordTooLarge means a record exceeded MaxRecordSize.
	ErrRecordTooLarge = errors.New("record exceeds the size limit")
	// ErrFieldTooLarge means one value exceeded MaxFieldSize.
	ErrFieldTooLarge = errors.New("field exceeds the size limit")
	// ErrTooDeep means nesting exceeded MaxDepth.
	ErrTooDeep = errors.New("nesting exceeds the depth limit")
	// ErrDoctype means the input declared a DOCTYPE or ENTITY, which is
	// rejected and never expanded.
	ErrDoctype = errors.New("DOCTYPE and ENTITY declarations are not allowed")
)

// recordWindow is a bounded read buffer over a stream: buf[start:end] holds the
// bytes not yet consumed. It grows only up to MaxRecordSize plus one read.
type recordWindow struct {
	src        io.Reader
	buf        []byte
	start, end int
	eof        bool
	err        error // first read error other than io.EOF
	line       int   // line number of buf[start], from 1
	offset     int64 // stream offset of buf[start]
}

// windowMax is the largest buffer a recordWindow grows to: one maximal
// record plus the read that proves it is too long.
const windowMax = MaxRecordSize + 64<<10

func newRecordWindow(src io.Reader) *recordWindow {
	return &recordWindow{src: src, buf: make([]byte, 64<<10), line: 1}
}

// data returns the unconsumed bytes.
func (w *recordWindow) data() []byte { return w.buf[w.start:w.end] }

// fill reads more input, compacting or growing the buffer first. It reports
// false when no more input can come (end of stream, read error, or the
// unconsumed bytes already exceed MaxRecordSize).
func (w *recordWindow) fill() bool {
	if w.eof {
		return false
	}
	if w.start > 0 {
		n := copy(w.buf, w.buf[w.start:w.end])
		w.start, w.end = 0, n
	}
	if w.end == len(w.buf) {
		if len(w.buf) >= windowMax {
			return false
		}
		grown := make([]byte, min(2*len(w.buf), windowMax))
		copy(grown, w.buf[:w.end])
		w.buf = grown
	}
	for tries := 0; tries < 100; tries++ {
		n, err := w.src.Read(w.buf[w.end:])
		w.end += n
		if err != nil {
			w.eof = true
			if err != io.EOF {
				w.err = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	w.eof, w.err = true, io.ErrNoProgress
	return false
}

// advance consumes n bytes, keeping the line count and offset.
func (w *recordWindow) advance(n int) {
	w.line += decNewlines(w.buf[w.start : w.start+n])
	w.start += n
	w.offset += int64(n)
}

// full reports whether the unconsumed bytes already reached MaxRecordSize.
func (w *recordWindow) full() bool { return w.end-w.start > MaxRecordSize }

// endErr is the error that ends the stream: the read error or io.EOF.
func (w *recordWindow) endErr() error {
	if w.err != nil {
		return fmt.Errorf("read input: %w", w.err)
	}
	return io.EOF
}

var newline = []byte{'\n'}

func decNewlines(b []byte) int { return bytes.Count(b, newline) }

// interner shares the strings that repeat across records (field names, hosts,
// channels, providers, SIDs) so that each is allocated once. It stops adding
// at a fixed size so a hostile input cannot grow it without bound.
type interner struct {
	m map[string]string
}

const internMax = 8192
const internMaxLen = 256

func (in *interner) bytes(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := decString(b)
	if len(b) > internMaxLen {
		return s
	}
	if in.m == nil {
		in.m = make(map[string]string, 256)
	}
	if len(in.m) < internMax {
		in.m[s] = s
	}
	return s
}

// str returns the shared copy of s.
func (in *interner) str(s string) string {
	if t, ok := in.m[s]; ok {
		return t
	}
	if in.m == nil {
		in.m = make(map[string]string, 256)
	}
	if len(in.m) < internMax && len(s) <= internMaxLen {
		in.m[s] = s
	}
	return s
}

// decString converts b to a string, replacing invalid UTF-8 with U+FFFD.
func decString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(decValidUTF8(nil, b))
}

// decValidUTF8 appends b to dst with each invalid UTF-8 sequence replaced by
// U+FFFD, the choice every decoder here documents.
func decValidUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}

// hostKeys caches CanonicalHost per distinct host name.
type hostKeys struct {
	m map[string]string
}

func (h *hostKeys) key(host string) string {
	if k, ok := h.m[host]; ok {
		return k
	}
	k := CanonicalHost(host)
	if h.m == nil {
		h.m = make(map[string]string, 16)
	}
	if len(h.m) < internMax {
		h.m[host] = k
	}
	return k
}

// channelNames caches CanonicalChannel per distinct channel as recorded.
type channelNames struct {
	m map[string]string
}

func (c *channelNames) canonical(raw []byte) string {
	if s, ok := c.m[string(raw)]; ok {
		return s
	}
	s := CanonicalChannel(decString(raw))
	if c.m == nil {
		c.m = make(map[string]string, 8)
	}
	if len(c.m) < internMax && len(raw) <= internMaxLen {
		c.m[string(raw)] = s
	}
	return s
}

// fieldArena builds an event's fields with one allocation for all values:
// values are appended to one byte slice, converted to one string at the end,
// and sliced. Field names are interned.
type fieldArena struct {
	vals  []byte
	spans []fieldSpan
}

type fieldSpan struct {
	name       string
	start, end int
}

func (a *fieldArena) reset() {
	a.vals = a.vals[:0]
	a.spans = a.spans[:0]
}

// add records a field whose value was appended to a.vals from start on.
func (a *fieldArena) add(name string, start int) error {
	if len(a.vals)-start > MaxFieldSize {
		return fmt.Errorf("field %q: %w", name, ErrFieldTooLarge)
	}
	if len(a.spans) >= MaxFields {
		return fmt.Errorf("more than %d fields", MaxFields)
	}
	a.spans = append(a.spans, fieldSpan{name: name, start: start, end: len(a.vals)})
	return nil
}

// fields returns the built fields, replacing invalid UTF-8 in values. One
// check of the whole arena clears every value that starts and ends on a rune
// boundary; the others are checked on their own, since the bytes of two
// invalid values can join into a valid rune ("\xcd" then "\x8c" is U+034C).
func (a *fieldArena) fields() []Field {
	if len(a.spans) == 0 {
		return nil
	}
	all := string(a.vals)
	valid := utf8.ValidString(all)
	out := make([]Field, len(a.spans))
	for i, s := range a.spans {
		v := all[s.start:s.end]
		whole := valid && runeBoundary(all, s.start) && runeBoundary(all, s.end)
		if !whole && !utf8.ValidString(v) {
			v = string(decValidUTF8(nil, []byte(v)))
		}
		out[i] = Field{Name: s.name, Value: v}
	}
	return out
}

// runeBoundary reports whether a rune of s starts at i (or i is its end).
func runeBoundary(s string, i int) bool {
	return i >= len(s) || utf8.RuneStart(s[i])
}

// decodeTimestamp reads the time forms the decoders meet:
// "2019-03-18T16:57:50.3572387Z" (Windows, ECS), "2021-04-21 09:40:32.363394"
// (python-evtx, Sysmon UtcTime, NXLog EventTime), an optional fraction of up
// to nine digits, and an optional "Z" or ±hh:mm offset. The result is UTC; a
// zoneless time is returned as its wall clock labelled UTC and hasZone false.
func decodeTimestamp(b []byte) (t time.Time, hasZone bool, err error) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') ||
		b[13] != ':' || b[16] != ':' {
		return time.Time{}, false, fmt.Errorf("parse time %q: unknown layout", decClip(b))
	}
	var d [6]int
	for i, at := range [6]int{0, 5, 8, 11, 14, 17} {
		width := 2
		if i == 0 {
			width = 4
		}
		v, ok := decDigits(b[at : at+width])
		if !ok {
			return time.Time{}, false, fmt.Errorf("parse time %q: bad decDigits", decClip(b))
		}
		d[i] = v
	}
	nsec, rest, ok := decFraction(b[19:])
	if !ok || d[1] < 1 || d[1] > 12 || d[2] < 1 || d[2] > 31 || d[3] > 23 || d[4] > 59 ||
		d[5] > 60 {
		return time.Time{}, false, fmt.Errorf("parse time %q: out of range", decClip(b))
	}
	t = time.Date(d[0], time.Month(d[1]), d[2], d[3], d[4], d[5], nsec, time.UTC)
	return decZone(t, rest, b)
}

// decFraction reads an optional ".ddddddddd" and returns nanoseconds.
func decFraction(b []byte) (nsec int, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '.' {
		return 0, b, true
	}
	i, scale := 1, 100000000
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if scale > 0 {
			nsec += int(b[i]-'0') * scale
			scale /= 10
		}
	}
	return nsec, b[i:], i > 1
}

// decZone applies the trailing zone designator of a timestamp.
func decZone(t time.Time, rest, all []byte) (time.Time, bool, error) {
	switch {
	case len(rest) == 0:
		return t, false, nil
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
		return t, true, nil
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, ok1 := decDigits(rest[1:3])
		m, ok2 := decDigits(rest[4:6])
		if ok1 && ok2 && h < 24 && m < 60 {
			off := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
			if rest[0] == '+' {
				off = -off
			}
			return t.Add(off), true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("parse time %q: bad decZone", decClip(all))
}

func decDigits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// decodeUint parses a decimal or 0x-prefixed hex unsigned number that
// must fit in bits. Surrounding spaces are allowed; "" is an error.
func decodeUint(b []byte, bits int) (uint64, error) {
	b = decTrim(b)
	base := uint64(10)
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		base, b = 16, b[2:]
	}
	if len(b) == 0 {
		return 0, fmt.Errorf("parse number %q: empty", decClip(b))
	}
	var v uint64
	limit := uint64(1)<<bits - 1
	if bits == 64 {
		limit = ^uint64(0)
	}
	for _, c := range b {
		d, ok := hexDigit(c)
		if !ok || uint64(d) >= base {
			return 0, fmt.Errorf("parse number %q: bad digit", decClip(b))
		}
		if v > (limit-uint64(d))/base {
			return 0, fmt.Errorf("parse number %q: out of range", decClip(b))
		}
		v = v*base + uint64(d)
	}
	return v, nil
}

func decTrim(b []byte) []byte {
	for len(b) > 0 && decSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && decSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func decSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// decClip shortens a value quoted in an error message.
func decClip(b []byte) string {
	const n = 40
	if len(b) > n {
		return decString(b[:n]) + "…"
	}
	return decString(b)
}
