package evtx

import (
	"encoding/binary"
	"hash/crc32"
	"strconv"
	"time"
	"unicode/utf16"
)

// This file is a small EVTX writer for tests: it lays out a file header,
// chunks, records and BinXml with templates the way Windows does, so tests
// and fuzz seeds never need copies of real recordings.

// tnode describes an element of a test template.
type tnode struct {
	name  string
	attrs []tattr
	kids  []tnode
	text  string               // literal text content
	subst int                  // 1-based substitution index into the values, 0 for none
	opt   bool                 // optional substitution
	raw   func(w *chunkWriter) // writes raw BinXml content tokens
}

type tattr struct {
	name  string
	text  string
	subst int
	opt   bool
}

// tvalue is one substitution value. A nested BinXml value is written by
// nested in place, since its names carry chunk offsets.
type tvalue struct {
	typ    byte
	data   []byte
	nested func(w *chunkWriter)
}

// chunkWriter builds one chunk. Offsets are chunk offsets.
type chunkWriter struct {
	data      []byte
	names     map[string]uint32
	templates map[string]uint32
	first     uint64
	last      uint64
	lastOff   int
	noDepID   bool // write element starts as nested BinXml values do
}

func newChunkWriter() *chunkWriter {
	return &chunkWriter{data: make([]byte, chunkHeaderSize),
		names: map[string]uint32{}, templates: map[string]uint32{}}
}

func (w *chunkWriter) u8(v byte)    { w.data = append(w.data, v) }
func (w *chunkWriter) u16(v uint16) { w.data = binary.LittleEndian.AppendUint16(w.data, v) }
func (w *chunkWriter) u32(v uint32) { w.data = binary.LittleEndian.AppendUint32(w.data, v) }
func (w *chunkWriter) u64(v uint64) { w.data = binary.LittleEndian.AppendUint64(w.data, v) }
func (w *chunkWriter) patch32(at int, v uint32) {
	binary.LittleEndian.PutUint32(w.data[at:], v)
}

// name writes a name reference, inline on the name's first use.
func (w *chunkWriter) name(s string) {
	if off, ok := w.names[s]; ok {
		w.u32(off)
		return
	}
	off := uint32(len(w.data) + 4)
	w.names[s] = off
	w.u32(off)
	w.u32(0) // next name in the hash bucket
	w.u16(0) // hash (not checked by readers)
	u := utf16.Encode([]rune(s))
	w.u16(uint16(len(u)))
	for _, c := range u {
		w.u16(c)
	}
	w.u16(0)
}

func (w *chunkWriter) text(s string) {
	u := utf16.Encode([]rune(s))
	w.u16(uint16(len(u)))
	for _, c := range u {
		w.u16(c)
	}
}

// element writes an element of a template body.
func (w *chunkWriter) element(n tnode) {
	tok := byte(tokOpenStart)
	if len(n.attrs) > 0 {
		tok |= tokMore
	}
	w.u8(tok)
	if !w.noDepID {
		w.u16(0xffff) // dependency identifier
	}
	sizeAt := len(w.data)
	w.u32(0)
	w.name(n.name)
	if len(n.attrs) > 0 {
		listAt := len(w.data)
		w.u32(0)
		for i, a := range n.attrs {
			tok := byte(tokAttribute)
			if i < len(n.attrs)-1 {
				tok |= tokMore
			}
			w.u8(tok)
			w.name(a.name)
			w.content(a.text, a.subst, a.opt)
		}
		w.patch32(listAt, uint32(len(w.data)-listAt-4))
	}
	if n.text == "" && n.subst == 0 && len(n.kids) == 0 && n.raw == nil {
		w.u8(tokCloseEmpty)
	} else {
		w.u8(tokCloseStart)
		w.content(n.text, n.subst, n.opt)
		if n.raw != nil {
			n.raw(w)
		}
		for _, k := range n.kids {
			w.element(k)
		}
		w.u8(tokEndElement)
	}
	w.patch32(sizeAt, uint32(len(w.data)-sizeAt-4))
}

func (w *chunkWriter) content(text string, subst int, opt bool) {
	switch {
	case subst > 0:
		tok := byte(tokNormalSubst)
		if opt {
			tok = tokOptionalSubs
		}
		w.u8(tok)
		w.u16(uint16(subst - 1))
		w.u8(typeString)
	case text != "":
		w.u8(tokValue)
		w.u8(typeString)
		w.text(text)
	}
}

// instance writes a template instance: the definition inline on first use
// in the chunk (keyed by key), a back reference after that, then the values.
func (w *chunkWriter) instance(key string, root tnode, values []tvalue) {
	w.u8(tokTemplate)
	w.u8(1)
	w.u32(0) // template identifier
	if off, ok := w.templates[key]; ok {
		w.u32(off)
	} else {
		off := uint32(len(w.data) + 4)
		w.templates[key] = off
		w.u32(off)
		w.u32(0)                        // next template
		w.data = append(w.data, key...) // a 16-byte GUID
		w.data = append(w.data, make([]byte, 16-len(key))...)
		sizeAt := len(w.data)
		w.u32(0)
		w.data = append(w.data, tokFragment, 1, 1, 0)
		w.element(root)
		w.u8(tokEOF)
		w.patch32(sizeAt, uint32(len(w.data)-sizeAt-4))
	}
	w.u32(uint32(len(values)))
	desc := len(w.data)
	for _, v := range values {
		w.u16(uint16(len(v.data)))
		w.u8(v.typ)
		w.u8(0)
	}
	for i, v := range values {
		start := len(w.data)
		if v.nested != nil {
			v.nested(w)
		} else {
			w.data = append(w.data, v.data...)
		}
		binary.LittleEndian.PutUint16(w.data[desc+4*i:], uint16(len(w.data)-start))
	}
}

// record writes one event record whose BinXml instantiates root.
func (w *chunkWriter) record(id uint64, key string, root tnode, values []tvalue) {
	start := len(w.data)
	w.data = append(w.data, recordMagic...)
	w.u32(0)
	w.u64(id)
	w.u64(toFiletime(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)))
	w.data = append(w.data, tokFragment, 1, 1, 0)
	w.instance(key, root, values)
	w.u8(tokEOF)
	for (len(w.data)+4)%8 != 0 {
		w.u8(0)
	}
	w.u32(uint32(len(w.data) - start + 4))
	w.patch32(start+4, uint32(len(w.data)-start))
	if w.first == 0 {
		w.first = id
	}
	w.last, w.lastOff = id, start
}

// bytes finishes the chunk: header fields and both checksums.
func (w *chunkWriter) bytes() []byte {
	free := len(w.data)
	c := make([]byte, chunkSize)
	copy(c, w.data)
	copy(c, chunkMagic)
	binary.LittleEndian.PutUint64(c[8:], w.first)
	binary.LittleEndian.PutUint64(c[16:], w.last)
	binary.LittleEndian.PutUint64(c[24:], w.first)
	binary.LittleEndian.PutUint64(c[32:], w.last)
	binary.LittleEndian.PutUint32(c[40:], 128)
	binary.LittleEndian.PutUint32(c[44:], uint32(w.lastOff))
	binary.LittleEndian.PutUint32(c[48:], uint32(free))
	binary.LittleEndian.PutUint32(c[52:], crc32.ChecksumIEEE(c[chunkHeaderSize:free]))
	h := crc32.NewIEEE()
	h.Write(c[:120])
	h.Write(c[128:chunkHeaderSize])
	binary.LittleEndian.PutUint32(c[124:], h.Sum32())
	return c
}

// fileBytes lays out a file header and the chunks; flags 1 marks it dirty.
func fileBytes(chunks [][]byte, flags uint32) []byte {
	f := make([]byte, fileHeaderSize)
	copy(f, fileMagic)
	binary.LittleEndian.PutUint64(f[16:], uint64(max(len(chunks)-1, 0)))
	binary.LittleEndian.PutUint32(f[32:], 128)
	binary.LittleEndian.PutUint16(f[36:], 1)
	binary.LittleEndian.PutUint16(f[38:], 3)
	binary.LittleEndian.PutUint16(f[40:], fileHeaderSize)
	binary.LittleEndian.PutUint16(f[42:], uint16(len(chunks)))
	binary.LittleEndian.PutUint32(f[120:], flags)
	binary.LittleEndian.PutUint32(f[124:], crc32.ChecksumIEEE(f[:120]))
	for _, c := range chunks {
		f = append(f, c...)
	}
	return f
}

func toFiletime(t time.Time) uint64 {
	return uint64(t.Unix()-filetimeEpoch)*10_000_000 + uint64(t.Nanosecond()/100)
}

// Value encoders.

func vString(s string) tvalue {
	var b []byte
	for _, c := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return tvalue{typ: typeString, data: b}
}

func vU16(v uint16) tvalue {
	return tvalue{typ: typeUint16, data: binary.LittleEndian.AppendUint16(nil, v)}
}
func vU32(v uint32) tvalue {
	return tvalue{typ: typeUint32, data: binary.LittleEndian.AppendUint32(nil, v)}
}
func vU64(v uint64) tvalue {
	return tvalue{typ: typeUint64, data: binary.LittleEndian.AppendUint64(nil, v)}
}
func vTime(t time.Time) tvalue {
	return tvalue{typ: typeFileTime, data: binary.LittleEndian.AppendUint64(nil, toFiletime(t))}
}
func vNull() tvalue { return tvalue{typ: typeNull} }

// vSID encodes S-1-5-<subs...>.
func vSID(subs ...uint32) tvalue {
	b := []byte{1, byte(len(subs)), 0, 0, 0, 0, 0, 5}
	for _, s := range subs {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return tvalue{typ: typeSID, data: b}
}

// eventTemplate is the System section Windows writes, followed by an
// EventData section with the given Data names (values 11 on).
func eventTemplate(data ...string) tnode {
	sys := tnode{name: "System", kids: []tnode{
		{name: "Provider", attrs: []tattr{{name: "Name", subst: 1}}},
		{name: "EventID", subst: 2},
		{name: "Version", subst: 3},
		{name: "TimeCreated", attrs: []tattr{{name: "SystemTime", subst: 4}}},
		{name: "EventRecordID", subst: 5},
		{name: "Execution", attrs: []tattr{{name: "ProcessID", subst: 6},
			{name: "ThreadID", subst: 7}}},
		{name: "Channel", subst: 8},
		{name: "Computer", subst: 9},
		{name: "Security", attrs: []tattr{{name: "UserID", subst: 10, opt: true}}},
	}}
	ed := tnode{name: "EventData"}
	for i, d := range data {
		ed.kids = append(ed.kids, tnode{name: "Data",
			attrs: []tattr{{name: "Name", text: d}}, subst: 11 + i, opt: true})
	}
	return tnode{name: "Event", kids: []tnode{sys, ed}}
}

// systemValues are the first ten values of eventTemplate.
func systemValues(provider string, id uint16, rec uint64, host, channel string,
	user tvalue) []tvalue {
	return []tvalue{
		vString(provider), vU16(id), {typ: typeUint8, data: []byte{2}},
		vTime(time.Date(2024, 5, 1, 12, 0, 0, 123456700, time.UTC)), vU64(rec),
		vU32(4), vU32(8), vString(channel), vString(host), user,
	}
}

// strconvQuote quotes b as a Go string literal for a fuzz corpus file.
func strconvQuote(b []byte) string { return strconv.Quote(string(b)) }
