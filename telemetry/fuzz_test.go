package telemetry

import (
	"bytes"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

// The fuzz targets feed arbitrary bytes to the decoders. Beyond "never
// panic, always end", every decoded event must hold valid UTF-8 and survive
// the events NDJSON round trip unchanged. Seeds: testdata/fuzz/<target>/ and
// the fixtures. Run one with
//
//	go test ./telemetry -run '^$' -fuzz FuzzDecodeXML -fuzztime 20s

func FuzzDecodeXML(f *testing.F) {
	for _, name := range []string{"toxml-oneline.xml", "wevtutil-rendered.xml",
		"pretty-events.xml"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecoder(t, NewXMLReader("fuzz.xml", bytes.NewReader(in)), len(in))
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for _, name := range []string{"ecs.ndjson", "beat6.ndjson", "nxlog.ndjson",
		"ecs-array.json"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecoder(t, NewJSONReader("fuzz.json", bytes.NewReader(in)), len(in))
	})
}

// checkDecoder drains r and checks the properties every decoder keeps.
func checkDecoder(t *testing.T, r Reader, size int) {
	evs, skips, end := decodeAll(t, r)
	if end != nil {
		t.Fatalf("got end error %v from an in-memory input", end)
	}
	if len(evs)+len(skips) > size+1 {
		t.Fatalf("got %d records and skips from %d bytes", len(evs)+len(skips), size)
	}
	for _, s := range skips {
		if s.File == "" || s.Pos == "" || s.Err == nil {
			t.Fatalf("got incomplete record error %#v", s)
		}
	}
	for _, ev := range evs {
		checkEvent(t, ev)
	}
}

func checkEvent(t *testing.T, ev *Event) {
	strs := []string{ev.Host, ev.HostKey, ev.Channel, ev.Provider, ev.UserID}
	for _, f := range ev.Fields {
		strs = append(strs, f.Name, f.Value)
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			t.Fatalf("got invalid UTF-8 %q in %+v", s, ev)
		}
	}
	line := AppendEventJSON(nil, ev)
	back, err := NewJSONReader("rt", bytes.NewReader(line)).Next()
	if err != nil {
		t.Fatalf("read back %s: %v", line, err)
	}
	if !reflect.DeepEqual(back, ev) && !(back.Time.Equal(ev.Time) && sameButTime(back, ev)) {
		t.Fatalf("round trip changed the event:\n got %+v\nwant %+v", back, ev)
	}
}

func sameButTime(a, b *Event) bool {
	x, y := *a, *b
	x.Time, y.Time = time.Time{}, time.Time{}
	return reflect.DeepEqual(x, y)
}
