package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// readBytes decodes an in-memory file with the given number of workers.
func readBytes(t testing.TB, b []byte, workers int) decoded {
	t.Helper()
	r, err := OpenOptions("test.evtx", bytes.NewReader(b), int64(len(b)), Options{Workers: workers})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer r.Close()
	var d decoded
	for {
		ev, err := r.Next()
		var re *telemetry.RecordError
		switch {
		case errors.Is(err, io.EOF):
			d.damage = r.Damage()
			return d
		case errors.As(err, &re):
			d.skipped = append(d.skipped, re)
		case err != nil:
			t.Fatalf("next: %v", err)
		default:
			d.events = append(d.events, ev)
		}
	}
}

// serviceChunk writes records 1..n (n ≥ 2) of a 7045-like event; record 2
// has no user (an empty optional attribute) and every record reuses the
// template defined inline by the first.
func serviceChunk(first uint64, n int) *chunkWriter {
	w := newChunkWriter()
	tmpl := eventTemplate("ServiceName", "ImagePath", "AccountName")
	for i := 0; i < n; i++ {
		id := first + uint64(i)
		user := vSID(18)
		if i == 1 {
			user = vNull()
		}
		vals := systemValues("Service Control Manager", 7045, id, "WS01.corp.local", "system", user)
		vals = append(vals, vString("Updater"), vString(`%COMSPEC% /c echo x`), vNull())
		w.record(id, "svc-template", tmpl, vals)
	}
	return w
}

func wantService(id uint64, user string) *telemetry.Event {
	return &telemetry.Event{
		Time:       time.Date(2024, 5, 1, 12, 0, 0, 123456700, time.UTC),
		TimeSource: telemetry.TimeUTC,
		Host:       "WS01.corp.local", HostKey: "ws01",
		Channel: "System", Provider: "Service Control Manager",
		EventID: 7045, Version: 2, RecordID: id, UserID: user, ProcessID: 4, ThreadID: 8,
		Fields: []telemetry.Field{{Name: "ServiceName", Value: "Updater"},
			{Name: "ImagePath", Value: `%COMSPEC% /c echo x`}},
	}
}

func TestTemplatesAndSubstitutions(t *testing.T) {
	file := fileBytes([][]byte{serviceChunk(1, 3).bytes(), serviceChunk(4, 2).bytes()}, 0)
	for _, workers := range []int{1, 4} {
		d := readBytes(t, file, workers)
		if len(d.skipped) != 0 || len(d.damage) != 0 {
			t.Fatalf("got skipped %v, damage %v; want none", d.skipped, d.damage)
		}
		want := []*telemetry.Event{wantService(1, "S-1-5-18"), wantService(2, ""),
			wantService(3, "S-1-5-18"), wantService(4, "S-1-5-18"), wantService(5, "")}
		if !reflect.DeepEqual(d.events, want) {
			t.Errorf("workers %d: got %+v; want %+v", workers, derefs(d.events), derefs(want))
		}
	}
}

func derefs(evs []*telemetry.Event) []telemetry.Event {
	out := make([]telemetry.Event, len(evs))
	for i, e := range evs {
		out[i] = *e
	}
	return out
}

// TestContentForms covers arrays repeating their element, <Binary>, unnamed
// Data, nested BinXml in UserData without dependency identifiers, and
// entity, character and CDATA content.
// contentFormsChunk writes two records: arrays, <Binary> and references in
// EventData, and UserData as a nested BinXml value.
func contentFormsChunk() *chunkWriter {
	w := newChunkWriter()
	sys := eventTemplate().kids[0]
	arrays := tnode{name: "Event", kids: []tnode{sys, {name: "EventData", kids: []tnode{
		{name: "Data", subst: 11}, {name: "Binary", subst: 12, opt: true},
		{name: "Data", attrs: []tattr{{name: "Name", text: "Text"}},
			raw: textTokens},
	}}}}
	vals := systemValues("EventLog", 6009, 1, "HOST", "System", vSID(18))
	vals = append(vals, tvalue{typ: typeArray | typeString, data: vString("a\x00\x00b\x00").data},
		tvalue{typ: typeBinary, data: []byte{0xde, 0xad}})
	w.record(1, "arrays", arrays, vals)

	user := tnode{name: "Event", kids: []tnode{sys, {name: "UserData", subst: 11}}}
	vals = systemValues("Microsoft-Windows-Eventlog", 104, 2, "HOST", "System", vSID(18))
	vals = append(vals, tvalue{typ: typeBinXML, nested: func(w *chunkWriter) {
		w.noDepID = true
		w.data = append(w.data, tokFragment, 1, 1, 0)
		w.element(tnode{name: "LogFileCleared", kids: []tnode{
			{name: "SubjectUserName", text: "bob"}, {name: "Channel", text: "System"}}})
		w.u8(tokEOF)
		w.noDepID = false
	}})
	w.record(2, "userdata", user, vals)

	return w
}

func TestContentForms(t *testing.T) {
	w := contentFormsChunk()
	d := readBytes(t, fileBytes([][]byte{w.bytes()}, 0), 1)
	if len(d.events) != 2 || len(d.skipped) != 0 {
		t.Fatalf("got %d events, skipped %v; want 2, none", len(d.events), d.skipped)
	}
	want := [][]telemetry.Field{
		{{Name: "param1", Value: "a"}, {Name: "param2", Value: ""}, {Name: "param3", Value: "b"},
			{Name: "Binary", Value: "DEAD"}, {Name: "Text", Value: `x&B<c>`}},
		{{Name: "SubjectUserName", Value: "bob"}, {Name: "Channel", Value: "System"}},
	}
	for i, ev := range d.events {
		if !reflect.DeepEqual(ev.Fields, want[i]) {
			t.Errorf("record %d: got fields %q; want %q", i+1, ev.Fields, want[i])
		}
	}
}

// textTokens writes content tokens "x", &amp; (its name inline, as on
// first use), &#66; and CDATA "<c>".
func textTokens(w *chunkWriter) {
	w.data = append(w.data, tokValue|tokMore, typeString, 1, 0, 'x', 0)
	w.u8(tokEntityRef | tokMore)
	w.name("amp")
	w.data = append(w.data, tokCharRef|tokMore, 66, 0)
	w.data = append(w.data, tokCDATA, 3, 0, '<', 0, 'c', 0, '>', 0)
}

func TestValueRendering(t *testing.T) {
	le16 := func(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	le64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	guid := []byte{0x25, 0x96, 0x84, 0x54, 0x78, 0x54, 0x94, 0x49,
		0xa5, 0xba, 0x3e, 0x3b, 0x03, 0x28, 0xc3, 0x0d}
	systime := append(append(append(le16(2021), le16(4)...), le16(3)...), le16(21)...)
	systime = append(append(append(append(systime, le16(9)...), le16(40)...), le16(32)...),
		le16(363)...)
	tests := []struct {
		name string
		typ  byte
		data []byte
		want string
	}{
		{"null", typeNull, nil, ""},
		{"utf16 with NUL", typeString, vString("virusé.exe\x00").data, "virusé.exe"},
		{"ansi latin1", typeANSI, []byte{'c', 0xe9, 0}, "cé"},
		{"int8", typeInt8, []byte{0xff}, "-1"},
		{"uint8", typeUint8, []byte{0xff}, "255"},
		{"int16", typeInt16, le16(0xfffe), "-2"},
		{"uint16", typeUint16, le16(7045), "7045"},
		{"int32", typeInt32, le32(0xfffffffd), "-3"},
		{"uint32", typeUint32, le32(4294967295), "4294967295"},
		{"int64", typeInt64, le64(^uint64(3)), "-4"},
		{"uint64", typeUint64, le64(1 << 63), "9223372036854775808"},
		{"float32", typeFloat32, le32(0x3fc00000), "1.5"},
		{"float64", typeFloat64, le64(0x4004000000000000), "2.5"},
		{"bool", typeBool, le32(1), "true"},
		{"binary", typeBinary, []byte{0x0a, 0xbc}, "0ABC"},
		{"guid", typeGUID, guid, "{54849625-5478-4994-A5BA-3E3B0328C30D}"},
		{"size_t", typeSizeT, le64(0x1a4), "0x1a4"},
		{"filetime", typeFileTime,
			le64(toFiletime(time.Date(2021, 4, 21, 9, 40, 32, 363393900, time.UTC))),
			"2021-04-21T09:40:32.3633939Z"},
		{"systemtime", typeSysTime, systime, "2021-04-21T09:40:32.3630000Z"},
		{"sid", typeSID, vSID(21, 1, 2, 3, 500).data, "S-1-5-21-1-2-3-500"},
		{"hex32", typeHex32, le32(0x10), "0x10"},
		{"hex64", typeHex64, le64(0x3e7), "0x3e7"},
		{"array utf16", typeArray | typeString, vString("a\x00b\x00").data, "a, b"},
		{"array uint16", typeArray | typeUint16, append(le16(1), le16(2)...), "1, 2"},
		{"array sid", typeArray | typeSID, append(vSID(18).data, vSID(19).data...),
			"S-1-5-18, S-1-5-19"},
		{"short guid as hex", typeGUID, []byte{1, 2}, "0102"},
		{"bad sid as hex", typeSID, []byte{2, 0}, "0200"},
	}
	for _, tt := range tests {
		if got := render(tt.typ, tt.data); got != tt.want {
			t.Errorf("%s: got %q; want %q", tt.name, got, tt.want)
		}
	}
}

func TestDamage(t *testing.T) {
	good := func() [][]byte {
		return [][]byte{serviceChunk(1, 3).bytes(), serviceChunk(4, 3).bytes(),
			serviceChunk(7, 3).bytes()}
	}
	tests := []struct {
		name    string
		file    func() []byte
		records int
		skipped []string
		damage  error
	}{{
		name: "wiped chunk signature is reported and salvaged",
		file: func() []byte {
			c := good()
			copy(c[1], make([]byte, 8))
			return fileBytes(c, 0)
		},
		records: 9, skipped: []string{"chunk 1"}, damage: nil,
	}, {
		name: "checksum mismatch still decodes",
		file: func() []byte {
			c := good()
			c[0][1000] ^= 0xff // inside a value of the template's first record
			return fileBytes(c, 0)
		},
		records: 9, damage: ErrChecksum,
	}, {
		name: "zero record size is recovered by the next signature",
		file: func() []byte {
			c := good()
			binary.LittleEndian.PutUint32(c[2][chunkHeaderSize+4:], 0)
			return fileBytes(c, 0)
		},
		records: 9, damage: ErrCorrupt,
	}, {
		name: "dirty header with a stale chunk count",
		file: func() []byte {
			f := fileBytes(good(), 1)
			binary.LittleEndian.PutUint16(f[42:], 1)
			return f
		},
		records: 9, damage: ErrDirty,
	}, {
		name: "file cut inside the last chunk",
		file: func() []byte {
			f := fileBytes(good(), 0)
			last := fileHeaderSize + 2*chunkSize
			first := int(binary.LittleEndian.Uint32(f[last+chunkHeaderSize+4:]))
			return f[:last+chunkHeaderSize+first+10]
		},
		records: 7, skipped: []string{"chunk 2 record 8"}, damage: ErrCorrupt,
	}, {
		name: "garbage slots after the last chunk are preallocated space",
		file: func() []byte {
			f := fileBytes(append(good(), bytes.Repeat([]byte{0x5a}, chunkSize)), 0)
			binary.LittleEndian.PutUint16(f[42:], 3)
			binary.LittleEndian.PutUint32(f[124:], crc32.ChecksumIEEE(f[:120]))
			return f
		},
		records: 9,
	}, {
		name: "records past a stale free space offset are recovered",
		file: func() []byte {
			c := good()
			size := binary.LittleEndian.Uint32(c[1][chunkHeaderSize+4:])
			binary.LittleEndian.PutUint32(c[1][48:], chunkHeaderSize+size)
			return fileBytes(c, 0)
		},
		records: 9, damage: ErrBeyondFreeSpace,
	}, {
		name: "record with a wrong copy of its size is skipped",
		file: func() []byte {
			c := good()
			size := binary.LittleEndian.Uint32(c[0][chunkHeaderSize+4:])
			binary.LittleEndian.PutUint32(c[0][chunkHeaderSize+int(size)-4:], 0)
			return fileBytes(c, 0)
		},
		records: 8, skipped: []string{"chunk 0 record 1"}, damage: ErrChecksum,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := readBytes(t, tt.file(), 2)
			if len(d.events) != tt.records {
				t.Errorf("got %d records; want %d", len(d.events), tt.records)
			}
			var pos []string
			for _, s := range d.skipped {
				pos = append(pos, s.Pos)
			}
			if strings.Join(pos, "|") != strings.Join(tt.skipped, "|") {
				t.Errorf("got skipped %q; want %q", pos, tt.skipped)
			}
			if tt.damage != nil && !anyWraps(d.damage, tt.damage) {
				t.Errorf("got damage %v; want one wrapping %v", d.damage, tt.damage)
			}
		})
	}
}

func TestOpenRejectsOtherFormats(t *testing.T) {
	for _, in := range []string{"", "<Event/>", "ElfFil"} {
		_, err := Open("x", strings.NewReader(in), int64(len(in)))
		if !errors.Is(err, ErrNotEVTX) {
			t.Errorf("Open(%q): got %v; want ErrNotEVTX", in, err)
		}
	}
	if IsEVTX([]byte("<Event")) || !IsEVTX(fileMagic) {
		t.Errorf("IsEVTX does not tell the signature apart")
	}
}

// TestDeepNestingIsAnError checks that elements nested past the limit cost
// the record, not the stack.
func TestDeepNestingIsAnError(t *testing.T) {
	root := tnode{name: "Event"}
	for i := 0; i < 2*maxNesting; i++ {
		root = tnode{name: "Event", kids: []tnode{root}}
	}
	w := newChunkWriter()
	w.record(1, "deep", root, nil)
	d := readBytes(t, fileBytes([][]byte{w.bytes()}, 0), 1)
	if len(d.events) != 0 || len(d.skipped) != 1 || !errors.Is(d.skipped[0], errMalformed) {
		t.Errorf("got %d events, skipped %v; want 0 and one malformed record",
			len(d.events), d.skipped)
	}
}

// fuzzSeeds are small files the writer makes: a clean file, one cut short,
// and one with content forms, all under 8 KiB so mutation stays fast (a
// file cut inside a chunk is read as far as it goes).
func fuzzSeeds() [][]byte {
	clean := fileBytes([][]byte{serviceChunk(1, 2).bytes()}, 0)
	w := newChunkWriter()
	tmpl := tnode{name: "Event", kids: []tnode{eventTemplate().kids[0],
		{name: "EventData", kids: []tnode{{name: "Data", subst: 11}}}}}
	vals := systemValues("P", 1, 1, "H", "Security", vSID(18))
	vals = append(vals, tvalue{typ: typeArray | typeHex64, data: make([]byte, 16)})
	w.record(1, "arr", tmpl, vals)
	arrays := fileBytes([][]byte{w.bytes()}, 1)
	forms := fileBytes([][]byte{contentFormsChunk().bytes()}, 0)
	return [][]byte{clean[:fileHeaderSize+3000], arrays[:fileHeaderSize+2000],
		forms[:fileHeaderSize+2500]}
}

func FuzzReadEVTX(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := OpenOptions("fuzz", bytes.NewReader(b), int64(len(b)), Options{Workers: 1})
		if err != nil {
			return
		}
		defer r.Close()
		for i := 0; i < 1<<16; i++ {
			if _, err := r.Next(); err != nil && !telemetry.IsRecordError(err) {
				return
			}
		}
		t.Fatalf("reader did not end")
	})
}

// TestWriteFuzzSeeds refreshes testdata/fuzz/FuzzReadEVTX from the writer
// when run with EVTX_WRITE_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("EVTX_WRITE_SEEDS") == "" {
		t.Skip("set EVTX_WRITE_SEEDS=1 to rewrite the fuzz seeds")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzReadEVTX")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range fuzzSeeds() {
		body := "go test fuzz v1\n[]byte(" + strconvQuote(s) + ")\n"
		name := filepath.Join(dir, "writer-"+string(rune('a'+i)))
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFormatTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2021, 4, 21, 9, 40, 32, 363393900, time.UTC), "2021-04-21T09:40:32.3633939Z"},
		{time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC), "1601-01-01T00:00:00.0000000Z"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), "9999-12-31T23:59:59.9999999Z"},
	}
	for _, tt := range tests {
		if got := formatTime(tt.in); got != tt.want {
			t.Errorf("formatTime(%v) = %q; want %q", tt.in, got, tt.want)
		}
		if got, want := formatTime(tt.in), tt.in.Format("2006-01-02T15:04:05.0000000Z"); got != want {
			t.Errorf("formatTime(%v) = %q; time.Format gives %q", tt.in, got, want)
		}
	}
}

// TestSelfNestingIsBounded builds a record whose template substitutes one
// nested BinXml value four times, the value instantiating the same template
// again, 12 levels deep (within the nesting limit): 4^12 elements if
// expanded. It must end as a skipped record, quickly.
func TestSelfNestingIsBounded(t *testing.T) {
	w := newChunkWriter()
	tmpl := tnode{name: "Event", kids: []tnode{{name: "A", subst: 1}, {name: "B", subst: 1},
		{name: "C", subst: 1}, {name: "D", subst: 1}}}
	// Define the template with a first, flat record.
	w.record(1, "self", tmpl, []tvalue{vString("leaf")})
	off := w.templates["self"]
	var nest func(level int) tvalue
	nest = func(level int) tvalue {
		if level == 0 {
			return vNull() // no text, so only the work budget stops it
		}
		inner := nest(level - 1)
		return tvalue{typ: typeBinXML, nested: func(w *chunkWriter) {
			w.data = append(w.data, tokFragment, 1, 1, 0, tokTemplate, 1, 0, 0, 0, 0)
			w.u32(off)
			w.u32(1)
			desc := len(w.data)
			w.u16(0)
			w.u8(inner.typ)
			w.u8(0)
			start := len(w.data)
			if inner.nested != nil {
				inner.nested(w)
			} else {
				w.data = append(w.data, inner.data...)
			}
			binary.LittleEndian.PutUint16(w.data[desc:], uint16(len(w.data)-start))
			w.u8(tokEOF)
		}}
	}
	w.record(2, "self", tmpl, []tvalue{nest(12)})
	d := readBytes(t, fileBytes([][]byte{w.bytes()}, 0), 1)
	if len(d.events) != 1 || len(d.skipped) != 1 || !strings.Contains(d.skipped[0].Error(), "work") {
		t.Errorf("got %d events, skipped %v; want 1 and record 2 over the work limit",
			len(d.events), d.skipped)
	}
}

// TestManyChunksKeepFileOrder decodes more chunks than the worker window
// holds and checks that records come out in file order.
func TestManyChunksKeepFileOrder(t *testing.T) {
	var chunks [][]byte
	for i := 0; i < 25; i++ {
		chunks = append(chunks, serviceChunk(uint64(1+3*i), 3).bytes())
	}
	file := fileBytes(chunks, 0)
	for _, workers := range []int{1, 3, 8} {
		d := readBytes(t, file, workers)
		if len(d.events) != 75 {
			t.Fatalf("workers %d: got %d events; want 75", workers, len(d.events))
		}
		for i, ev := range d.events {
			if ev.RecordID != uint64(i+1) {
				t.Fatalf("workers %d: event %d has record ID %d; want %d",
					workers, i, ev.RecordID, i+1)
			}
		}
	}
}

func TestNextAfterClose(t *testing.T) {
	file := fileBytes([][]byte{serviceChunk(1, 2).bytes()}, 0)
	r, err := Open("x", bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatalf("first Next: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Next after Close: got %v; want an error that is not io.EOF", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
