package telemetry

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func decodeJSONFixture(t *testing.T, name string) []*Event {
	t.Helper()
	evs, skips, end := decodeAll(t, NewJSONReader(name, bytes.NewReader(readFixture(t, name))))
	if len(skips) > 0 || end != nil {
		t.Fatalf("%s: got skips %v and end %v; want none", name, skips, end)
	}
	return evs
}

func TestJSONReaderECS(t *testing.T) {
	evs := decodeJSONFixture(t, "ecs.ndjson")
	if len(evs) != 3 {
		t.Fatalf("got %d events; want 3", len(evs))
	}
	got := *evs[0]
	got.Fields = nil
	want := Event{
		Time:       time.Date(2019, 3, 18, 16, 57, 37, 949000000, time.UTC),
		TimeSource: TimeUTC, Host: "vagrant-2012-r2", HostKey: "vagrant-2012-r2",
		Channel: ChannelSysmon, Provider: "Microsoft-Windows-Sysmon", EventID: 1, Version: 5,
		RecordID: 3, UserID: "S-1-5-18", ProcessID: 1892, ThreadID: 1900,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got envelope %+v; want %+v", got, want)
	}
	names := fieldNames(evs[0])
	wantNames := "RuleName UtcTime ProcessGuid ProcessId Image CommandLine User ParentImage " +
		"ParentCommandLine"
	if names != wantNames {
		t.Errorf("got fields %q; want %q in record order", names, wantNames)
	}
	if ev := evs[1]; ev.Key() != "System:7045" || ev.RecordID != 91823 ||
		ev.Value("ImagePath") != `%SystemRoot%\PSEXESVC.exe` {
		t.Errorf("got %s record %d ImagePath %q; want string-typed IDs read",
			ev.Key(), ev.RecordID, ev.Value("ImagePath"))
	}
	if ev := evs[2]; ev.Key() != "Security:1102" || fieldNames(ev) !=
		"SubjectUserName SubjectDomainName" {
		t.Errorf("got %s fields %q; want dotted keys read like nested ones",
			ev.Key(), fieldNames(ev))
	}
}

func fieldNames(ev *Event) string {
	var names []string
	for _, f := range ev.Fields {
		names = append(names, f.Name)
	}
	return strings.Join(names, " ")
}

func TestJSONReaderWinlogbeat6(t *testing.T) {
	ev := decodeJSONFixture(t, "beat6.ndjson")[0]
	if ev.Key() != "Sysmon:1" || ev.Host != "IT001.shire.com" || ev.HostKey != "it001" ||
		ev.RecordID != 1067413 || ev.ProcessID != 2044 || ev.ThreadID != 3292 ||
		ev.UserID != "S-1-5-18" || ev.Version != 5 || ev.TimeSource != TimeUTC {
		t.Errorf("got envelope %+v; want the winlogbeat 6 keys mapped", *ev)
	}
	want := `"C:\Windows\system32\sc.exe" \\HR001 start IKEEXT`
	if got := ev.Value("CommandLine"); got != want {
		t.Errorf("got CommandLine %q; want %q", got, want)
	}
}

func TestJSONReaderNXLog(t *testing.T) {
	evs := decodeJSONFixture(t, "nxlog.ndjson")
	if len(evs) != 4 {
		t.Fatalf("got %d events; want 4", len(evs))
	}
	svc := evs[0]
	if got, want := fieldNames(svc), "ServiceName ServiceType ImagePath StartType"; got != want {
		t.Errorf("got 7045 fields %q; want %q (NXLog metadata and its AccountName dropped)",
			got, want)
	}
	if svc.ProcessID != 704 || svc.ThreadID != 10092 || svc.RecordID != 1075 ||
		svc.UserID != "S-1-5-21-4228717743-1032521047-1810997296-1104" {
		t.Errorf("got envelope %+v; want NXLog's System keys mapped", *svc)
	}
	// @timestamp is UTC: prefer it over the host-local EventTime.
	if want := time.Date(2020, 9, 20, 16, 16, 58, 233e6, time.UTC); !svc.Time.Equal(want) ||
		svc.TimeSource != TimeUTC {
		t.Errorf("got time %v %v; want %v utc", svc.Time, svc.TimeSource, want)
	}
	reg := evs[1]
	if got := reg.Value("EventType"); got != "SetValue" {
		t.Errorf("got Sysmon EventType %q; want SetValue (NXLog's renamed away)", got)
	}
	if want := time.Date(2020, 9, 20, 16, 16, 56, 365e6, time.UTC); !reg.Time.Equal(want) {
		t.Errorf("got time %v; want Sysmon UtcTime %v", reg.Time, want)
	}
	if evs[2].Channel != ChannelSystem || fieldNames(evs[2]) != "param1 param2" {
		t.Errorf("got channel %q fields %q; want System and param1 param2",
			evs[2].Channel, fieldNames(evs[2]))
	}
	local := evs[3]
	if want := time.Date(2020, 10, 19, 3, 30, 46, 420e6, time.UTC); !local.Time.Equal(want) ||
		local.TimeSource != TimeLocal {
		t.Errorf("got time %v %v; want %v labelled local", local.Time, local.TimeSource, want)
	}
}

func TestJSONReaderArrayOfPrettyObjects(t *testing.T) {
	evs := decodeJSONFixture(t, "ecs-array.json")
	if len(evs) != 2 || evs[0].Key() != "Sysmon:1" || evs[1].Key() != "System:7036" {
		t.Fatalf("got %d events; want Sysmon:1 and System:7036", len(evs))
	}
	if got := evs[0].Value("ParentImage"); got != `C:\Windows\System32\services.exe` {
		t.Errorf("got ParentImage %q", got)
	}
}

// TestEnvelopeRoundTrip writes every fixture event as events NDJSON and
// reads it back: the events must be equal.
func TestEnvelopeRoundTrip(t *testing.T) {
	var all []*Event
	for _, name := range []string{"toxml-oneline.xml", "wevtutil-rendered.xml",
		"pretty-events.xml"} {
		all = append(all, decodeXMLFixture(t, name)...)
	}
	for _, name := range []string{"ecs.ndjson", "beat6.ndjson", "nxlog.ndjson"} {
		all = append(all, decodeJSONFixture(t, name)...)
	}
	all = append(all, &Event{Host: "h", Fields: []Field{{"a\"\\\n\t\x01", "\u2028x"},
		{"dup", "1"}, {"dup", ""}}}) // no time, odd characters, duplicates
	var buf []byte
	for _, ev := range all {
		buf = AppendEventJSON(buf, ev)
	}
	if n := bytes.Count(buf, []byte("\n")); n != len(all) {
		t.Fatalf("got %d lines; want one per event (%d)", n, len(all))
	}
	back, skips, end := decodeAll(t, NewJSONReader("rt.ndjson", bytes.NewReader(buf)))
	if len(skips) > 0 || end != nil || len(back) != len(all) {
		t.Fatalf("got %d events, skips %v, end %v; want %d", len(back), skips, end, len(all))
	}
	for i := range all {
		want := *all[i]
		if want.HostKey == "" {
			want.HostKey = CanonicalHost(want.Host)
		}
		if !reflect.DeepEqual(*back[i], want) || !back[i].Time.Equal(want.Time) {
			t.Errorf("event %d: got %+v; want %+v", i, *back[i], want)
		}
	}
}

func TestJSONReaderBadInput(t *testing.T) {
	good := `{"EventID":7045,"Channel":"System","Hostname":"WS01","ServiceName":"ok"}` + "\n"
	deep := strings.Repeat(`{"a":`, 10000)
	tests := []struct {
		name      string
		in        string
		events    int
		skips     int
		errSubstr string
	}{
		{"malformed line between good ones", good + `{"EventID":1,"Channel":}` + "\n" + good,
			2, 1, "invalid JSON"},
		{"truncated last line", good + good[:30], 1, 1, "invalid JSON"},
		{"unknown layout", `{"foo":1}` + "\n" + good, 1, 1, "unknown JSON event layout"},
		{"absurd nesting", `{"EventID":1,"x":` + deep + "\n" + good, 1, 1, "depth"},
		{"multi-megabyte field", `{"EventID":1,"x":"` + strings.Repeat("A", 2<<20) + `"}` +
			"\n" + good, 1, 1, "size limit"},
		{"event ID out of range", `{"EventID":99999999999}` + "\n" + good, 1, 1, "range"},
		{"bad timestamp", `{"EventID":1,"@timestamp":"yesterday"}` + "\n" + good, 1, 1,
			"time"},
		{"control character in string", "{\"EventID\":1,\"x\":\"a\x01\"}\n" + good, 1, 1,
			"control"},
		{"unknown event ID passes through", `{"EventID":64999,"Foo":"bar"}` + "\n", 1, 0, ""},
		{"blank lines are not records", "\n\r\n" + good + "\n\n", 1, 0, ""},
		{"crlf line ends", strings.ReplaceAll(good+good, "\n", "\r\n"), 2, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, skips, end := decodeAll(t, NewJSONReader("in.json", strings.NewReader(tc.in)))
			if end != nil {
				t.Fatalf("got end error %v; want io.EOF", end)
			}
			if len(evs) != tc.events || len(skips) != tc.skips {
				t.Fatalf("got %d events, %d skips (%v); want %d, %d",
					len(evs), len(skips), skips, tc.events, tc.skips)
			}
			for _, s := range skips {
				if s.File != "in.json" || !strings.HasPrefix(s.Pos, "line ") {
					t.Errorf("got skip at %q %q; want file in.json and a line", s.File, s.Pos)
				}
			}
			if tc.errSubstr != "" && !strings.Contains(skips[0].Error(), tc.errSubstr) {
				t.Errorf("got error %q; want it to mention %q", skips[0], tc.errSubstr)
			}
		})
	}
}

func TestJSONReaderLineTooLong(t *testing.T) {
	good := `{"EventID":4697,"Channel":"Security"}` + "\n"
	// Just over the limit, and far over it (the line is never held whole).
	for _, size := range []int{MaxRecordSize + 10, MaxRecordSize + 1<<20} {
		long := `{"EventID":1,"x":"` + strings.Repeat("A", size) + `"}` + "\n"
		r := NewJSONReader("long.json", iotest.HalfReader(strings.NewReader(good+long+good)))
		evs, skips, end := decodeAll(t, r)
		if end != nil || len(evs) != 2 || len(skips) != 1 {
			t.Fatalf("size %d: got %d events, skips %v, end %v; want 2 and 1 skip", size,
				len(evs), skips, end)
		}
		if !errors.Is(skips[0], ErrRecordTooLarge) || skips[0].Pos != "line 2 (offset 38)" {
			t.Errorf("size %d: got %v at %q; want ErrRecordTooLarge at line 2 (offset 38)",
				size, skips[0], skips[0].Pos)
		}
	}
}

func TestJSONReaderInvalidUTF8IsReplaced(t *testing.T) {
	in := "{\"EventID\":1,\"x\":\"bad\xffend\",\"y\":\"\\ud800\"}\n"
	evs, skips, _ := decodeAll(t, NewJSONReader("u.json", strings.NewReader(in)))
	if len(evs) != 1 || len(skips) != 0 {
		t.Fatalf("got %d events, skips %v; want 1 event", len(evs), skips)
	}
	if got := evs[0].Value("x"); got != "bad\uFFFDend" {
		t.Errorf("got %q; want invalid byte replaced", got)
	}
	if got := evs[0].Value("y"); got != "\uFFFD" {
		t.Errorf("got %q; want lone surrogate replaced", got)
	}
}

// Two invalid values whose bytes together form a valid rune (found by
// FuzzDecodeJSON): each is replaced on its own.
func TestInvalidUTF8AcrossAdjacentFields(t *testing.T) {
	inputs := map[string]Reader{
		"json": NewJSONReader("u.json", strings.NewReader(
			"{\"EventID\":1,\"a\":\"\xcd\",\"b\":\"\x8c\",\"c\":\"ok\u034c\"}\n")),
		"xml": NewXMLReader("u.xml", strings.NewReader("<Event><System><EventID>1</EventID>"+
			"</System><EventData><Data Name='a'>\xcd</Data><Data Name='b'>\x8c</Data>"+
			"<Data Name='c'>ok\u034c</Data></EventData></Event>")),
	}
	for name, r := range inputs {
		evs, skips, _ := decodeAll(t, r)
		if len(evs) != 1 || len(skips) != 0 {
			t.Fatalf("%s: got %d events, skips %v; want 1 event", name, len(evs), skips)
		}
		for field, want := range map[string]string{"a": "\uFFFD", "b": "\uFFFD", "c": "ok\u034c"} {
			if got := evs[0].Value(field); got != want {
				t.Errorf("%s: field %s is %q; want %q", name, field, got, want)
			}
		}
	}
}

func TestJSONReaderTruncatedArray(t *testing.T) {
	in := "[\n{\"EventID\":1,\"x\":\"" + strings.Repeat("[}{", 1<<20)
	evs, skips, end := decodeAll(t, NewJSONReader("t.json", strings.NewReader(in)))
	if len(evs) != 0 || len(skips) != 1 || end != nil {
		t.Errorf("got %d events, %d skips, end %v; want one skip for the truncated rest",
			len(evs), len(skips), end)
	}
}

func TestJSONReaderElasticsearchExport(t *testing.T) {
	evs := decodeJSONFixture(t, "es-export.ndjson")
	if len(evs) != 2 {
		t.Fatalf("got %d events; want 2", len(evs))
	}
	if ev := evs[0]; ev.Key() != "Security:4697" || ev.RecordID != 500124 ||
		fieldNames(ev) != "SubjectUserName ServiceName ServiceFileName ServiceType "+
			"ServiceStartType ServiceAccount" {
		t.Errorf("got %s record %d fields %q; want the _source document mapped", ev.Key(),
			ev.RecordID, fieldNames(ev))
	}
	ev := evs[1]
	if want := time.Date(2024, 5, 2, 10, 14, 7, 5e8, time.UTC); !ev.Time.Equal(want) ||
		ev.Value("UtcTime") != "not a time" || fieldNames(ev) != "UtcTime EventType TargetObject" {
		t.Errorf("got time %v fields %q; want @timestamp used past a bad UtcTime, which "+
			"stays a field", ev.Time, fieldNames(ev))
	}
}

func TestJSONReaderPrettyObjectsWithoutArray(t *testing.T) {
	in := "{\n  \"EventID\": 7045,\n  \"Channel\": \"System\"\n}\n{\n  \"EventID\": 7036,\n" +
		"  \"Channel\": \"System\", \"x\": \"a } { b\"\n}\n"
	evs, skips, end := decodeAll(t, NewJSONReader("p.json", strings.NewReader(in)))
	if len(evs) != 2 || len(skips) != 0 || end != nil || evs[1].Value("x") != "a } { b" {
		t.Fatalf("got %d events, skips %v, end %v; want 2 events framed by braces", len(evs),
			skips, end)
	}
}
