package telemetry

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// decodeAll drains r and returns the events, the skipped records and the
// error that ended the input (nil for io.EOF).
func decodeAll(t testing.TB, r Reader) (evs []*Event, skips []*RecordError, end error) {
	t.Helper()
	for i := 0; ; i++ {
		if i > 1e6 {
			t.Fatal("reader never ended")
		}
		ev, err := r.Next()
		var re *RecordError
		switch {
		case err == io.EOF:
			return evs, skips, nil
		case errors.As(err, &re):
			skips = append(skips, re)
		case err != nil:
			return evs, skips, err
		default:
			evs = append(evs, ev)
		}
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeXMLFixture(t *testing.T, name string) []*Event {
	t.Helper()
	evs, skips, end := decodeAll(t, NewXMLReader(name, bytes.NewReader(readFixture(t, name))))
	if len(skips) > 0 || end != nil {
		t.Fatalf("%s: got skips %v and end %v; want none", name, skips, end)
	}
	return evs
}

func TestXMLReaderGetWinEventToXML(t *testing.T) {
	evs := decodeXMLFixture(t, "toxml-oneline.xml")
	if len(evs) != 5 {
		t.Fatalf("got %d events; want 5", len(evs))
	}
	got := *evs[0]
	got.Fields = nil
	want := Event{
		Time:       time.Date(2019, 3, 18, 16, 57, 50, 357238700, time.UTC),
		TimeSource: TimeUTC, Host: "vagrant-2012-r2", HostKey: "vagrant-2012-r2",
		Channel: ChannelSysmon, Provider: "Microsoft-Windows-Sysmon", EventID: 3, Version: 5,
		RecordID: 23, UserID: "S-1-5-18", ProcessID: 4860, ThreadID: 4492,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got envelope %+v; want %+v", got, want)
	}
	if n := len(evs[0].Fields); n != 18 {
		t.Errorf("got %d fields; want 18", n)
	}
	if f := evs[0].Fields[0]; f != (Field{"RuleName", ""}) {
		t.Errorf("got first field %+v; want empty RuleName", f)
	}
	if got := evs[1].Key(); got != "System:7045" {
		t.Errorf("got key %q; want System:7045 (EventID with Qualifiers)", got)
	}
	if got, want := evs[1].HostKey, "ws01"; got != want {
		t.Errorf("got host key %q; want %q", got, want)
	}
	wantCmd := `C:\Windows\PSEXESVC.exe -p "x&y" <in> ☺ é`
	if got := evs[2].Value("CommandLine"); got != wantCmd {
		t.Errorf("got CommandLine %q; want references decoded to %q", got, wantCmd)
	}
	if got := evs[2].UserID; got != "" {
		t.Errorf("got UserID %q for <Security/>; want empty", got)
	}
}

func TestXMLReaderUserDataIsFlattened(t *testing.T) {
	ev := decodeXMLFixture(t, "toxml-oneline.xml")[3]
	want := []Field{
		{"SubjectUserSid", "S-1-5-21-1111111111-2222222222-3333333333-500"},
		{"SubjectUserName", "Administrator"}, {"SubjectDomainName", "CORP"},
		{"SubjectLogonId", "0x5a3f1"},
	}
	if !reflect.DeepEqual(ev.Fields, want) {
		t.Errorf("got fields %+v; want %+v", ev.Fields, want)
	}
}

func TestXMLReaderWevtutilRendered(t *testing.T) {
	evs := decodeXMLFixture(t, "wevtutil-rendered.xml")
	if len(evs) != 2 {
		t.Fatalf("got %d events; want 2", len(evs))
	}
	want := []Field{{"param1", "PSEXESVC"}, {"param2", "running"},
		{"Binary", "500053004500580045005300560043002F0034000000"}}
	if !reflect.DeepEqual(evs[0].Fields, want) {
		t.Errorf("got fields %+v; want %+v (RenderingInfo ignored)", evs[0].Fields, want)
	}
	if got := evs[1].Value("param4"); got != "BITS" {
		t.Errorf("got param4 %q; want BITS", got)
	}

	// Without /e:Events, wevtutil writes the events back to back.
	bare := bytes.TrimSuffix(bytes.TrimPrefix(readFixture(t, "wevtutil-rendered.xml"),
		[]byte("<Events>")), []byte("</Events>"))
	got, skips, _ := decodeAll(t, NewXMLReader("bare.xml", bytes.NewReader(bare)))
	if len(got) != 2 || len(skips) != 0 || !reflect.DeepEqual(got, evs) {
		t.Errorf("got %d events and skips %v without the root; want the same 2 events",
			len(got), skips)
	}
}

func TestXMLReaderPrettyForm(t *testing.T) {
	evs := decodeXMLFixture(t, "pretty-events.xml")
	if len(evs) != 2 {
		t.Fatalf("got %d events; want 2", len(evs))
	}
	if got := evs[0].Value("ServiceFileName"); got != `%SystemRoot%\PSEXESVC.exe` {
		t.Errorf("got CDATA value %q; want %%SystemRoot%%\\PSEXESVC.exe", got)
	}
	old := evs[1]
	wantTime := time.Date(2017, 7, 12, 17, 16, 28, 214162000, time.UTC)
	if !old.Time.Equal(wantTime) || old.TimeSource != TimeUTC {
		t.Errorf("got time %v (%v); want %v utc for a zoneless SystemTime",
			old.Time, old.TimeSource, wantTime)
	}
	want := []Field{{"param1", "10:15:02"}, {"param2", "\u200e7/\u200e12/\u200e2017"},
		{"param3", ""}, {"Binary", "E107070003000C00"}}
	if !reflect.DeepEqual(old.Fields, want) {
		t.Errorf("got fields %+v; want %+v", old.Fields, want)
	}
}

// TestXMLReaderOneByteReads checks that refilling the buffer at every byte
// gives the same events as reading the file whole.
func TestXMLReaderOneByteReads(t *testing.T) {
	for _, name := range []string{"toxml-oneline.xml", "wevtutil-rendered.xml",
		"pretty-events.xml"} {
		whole := decodeXMLFixture(t, name)
		r := NewXMLReader(name, iotest.OneByteReader(bytes.NewReader(readFixture(t, name))))
		evs, skips, end := decodeAll(t, r)
		if len(skips) > 0 || end != nil || !reflect.DeepEqual(evs, whole) {
			t.Errorf("%s: one-byte reads gave %d events, skips %v, end %v; want %d events",
				name, len(evs), skips, end, len(whole))
		}
	}
}

const goodXML = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>" +
	"<System><Provider Name='P'/><EventID>7045</EventID>" +
	"<TimeCreated SystemTime='2024-05-02T10:14:07Z'/><Channel>System</Channel>" +
	"<Computer>WS01</Computer></System>" +
	"<EventData><Data Name='ServiceName'>ok</Data></EventData></Event>\n"

func TestXMLReaderBadInput(t *testing.T) {
	deep := strings.Repeat("<a>", 100000)
	big := strings.Repeat("A", 2<<20)
	tests := []struct {
		name      string
		in        string
		events    int
		skips     int
		errSubstr string
	}{
		{"malformed record between good ones", goodXML +
			"<Event><System><EventID>1</EventID></System><EventData><Data Name='a'>x</Dat>" +
			"</EventData></Event>\n" + goodXML, 2, 1, "end tag </Dat>"},
		{"truncated last record", goodXML + goodXML[:100], 1, 1, "unexpected EOF"},
		{"truncated in the Event tag", goodXML + "<Event", 1, 1, "unexpected EOF"},
		{"doctype with entity is rejected, never expanded",
			`<!DOCTYPE x [<!ENTITY a "AAAA">]>` + "\n" +
				strings.Replace(goodXML, ">ok<", ">&a;<", 1) + goodXML,
			1, 2, "DOCTYPE"},
		{"entity declaration inside a record", strings.Replace(goodXML, "<System>",
			`<!ENTITY b "x"><System>`, 1) + goodXML, 1, 1, "DOCTYPE"},
		{"absurd nesting", strings.Replace(goodXML, "<EventData>", "<EventData>"+deep, 1) +
			goodXML, 1, 1, "depth"},
		{"multi-megabyte field", strings.Replace(goodXML, ">ok<", ">"+big+"<", 1) + goodXML,
			1, 1, "field"},
		{"unknown event ID passes through", strings.Replace(goodXML, "7045", "64999", 1),
			1, 0, ""},
		{"missing System", "<Event><EventData/></Event>" + goodXML, 1, 1, "no System"},
		{"event ID not a number", strings.Replace(goodXML, "7045", "7o45", 1) + goodXML,
			1, 1, "EventID"},
		{"bad time", strings.Replace(goodXML, "2024-05-02T", "2024-13-02T", 1), 0, 1,
			"TimeCreated"},
		{"unterminated attribute", "<Event><System><Provider Name='x/></System>" + goodXML,
			1, 1, "attribute"},
		{"not XML events at all", "hello <b>world</b>", 0, 0, ""},
		{"namespace prefixes", "<e:Events xmlns:e='x'>" + strings.NewReplacer("<Event ",
			"<e:Event ", "</Event>", "</e:Event>", "<System>", "<e:System>", "</System>",
			"</e:System>").Replace(goodXML) + "</e:Events>", 1, 0, ""},
		{"empty input", "", 0, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, skips, end := decodeAll(t, NewXMLReader("in.xml", strings.NewReader(tc.in)))
			if end != nil {
				t.Fatalf("got end error %v; want io.EOF", end)
			}
			if len(evs) != tc.events || len(skips) != tc.skips {
				t.Fatalf("got %d events, %d skips (%v); want %d, %d",
					len(evs), len(skips), skips, tc.events, tc.skips)
			}
			for _, s := range skips {
				if s.File != "in.xml" || !strings.HasPrefix(s.Pos, "line ") {
					t.Errorf("got skip at %q %q; want file in.xml and a line", s.File, s.Pos)
				}
			}
			if tc.errSubstr != "" && !strings.Contains(skips[0].Error(), tc.errSubstr) {
				t.Errorf("got error %q; want it to mention %q", skips[0], tc.errSubstr)
			}
		})
	}
}

func TestXMLReaderRecordTooLarge(t *testing.T) {
	// Many fields below MaxFieldSize that together exceed MaxRecordSize.
	field := "<Data Name='x'>" + strings.Repeat("B", 512<<10) + "</Data>"
	huge := strings.Replace(goodXML, "<EventData>",
		"<EventData>"+strings.Repeat(field, MaxRecordSize/(512<<10)+2), 1)
	evs, skips, end := decodeAll(t, NewXMLReader("big.xml", strings.NewReader(huge+goodXML)))
	if end != nil || len(evs) != 1 || len(skips) != 1 {
		t.Fatalf("got %d events, skips %v, end %v; want 1 event and 1 skip", len(evs), skips,
			end)
	}
	if !errors.Is(skips[0], ErrRecordTooLarge) {
		t.Errorf("got %v; want ErrRecordTooLarge", skips[0])
	}
}

func TestXMLReaderInvalidUTF8IsReplaced(t *testing.T) {
	in := strings.Replace(goodXML, ">ok<", ">bad\xff\xfeend<", 1)
	evs, skips, _ := decodeAll(t, NewXMLReader("u.xml", strings.NewReader(in)))
	if len(evs) != 1 || len(skips) != 0 {
		t.Fatalf("got %d events, skips %v; want 1 event", len(evs), skips)
	}
	if got, want := evs[0].Value("ServiceName"), "bad\uFFFD\uFFFDend"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestXMLReaderLinePositions(t *testing.T) {
	in := goodXML + goodXML + "<Event><System></Oops></Event>\n" + goodXML
	_, skips, _ := decodeAll(t, NewXMLReader("p.xml", strings.NewReader(in)))
	if len(skips) != 1 || !strings.HasPrefix(skips[0].Pos, "line 3 ") {
		t.Errorf("got skips %v; want one at line 3", skips)
	}
}

// TestXMLReaderPathologicalResync feeds inputs where every resync point
// starts an unterminated construct. Each must be skipped in one pass over
// the input (a quadratic rescan makes this test take minutes).
func TestXMLReaderPathologicalResync(t *testing.T) {
	for _, unit := range []string{"<Event><![CDATA[", "<Event><!--", "<Event><?pi ",
		"<!--<Event>", "<Event><a/><a/><a/>", `<Event a="`} {
		in := strings.Repeat(unit, (4<<20)/len(unit))
		evs, skips, end := decodeAll(t, NewXMLReader("q.xml", strings.NewReader(in)))
		if len(evs) != 0 || end != nil || len(skips) == 0 {
			t.Errorf("%q: got %d events, %d skips, end %v; want only skips", unit, len(evs),
				len(skips), end)
		}
	}
}
