package telemetry_test

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
	"github.com/svcharness/svcharness/telemetry/synth"
)

// readAll decodes every event of an XML stream, failing t on any error.
func readAll(t *testing.T, data []byte) []*telemetry.Event {
	t.Helper()
	r := telemetry.NewXMLReader("test.xml", bytes.NewReader(data))
	var out []*telemetry.Event
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("XMLReader.Next() error = %v; want nil", err)
		}
		out = append(out, e)
	}
}

func TestAppendEventXMLRoundTrip(t *testing.T) {
	g, err := synth.New(synth.Config{Hosts: 8, AttackEvery: 100, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	events := make([]telemetry.Event, 5000)
	g.Fill(events, nil)
	var buf []byte
	for i := range events {
		buf = telemetry.AppendEventXML(buf, &events[i])
	}
	if lines := bytes.Count(buf, []byte("\n")); lines != len(events) {
		t.Fatalf("AppendEventXML wrote %d lines for %d events; want one per event", lines,
			len(events))
	}
	got := readAll(t, buf)
	if len(got) != len(events) {
		t.Fatalf("read back %d events; want %d", len(got), len(events))
	}
	for i := range events {
		if !reflect.DeepEqual(*got[i], events[i]) {
			t.Fatalf("event %d read back as\n%+v\nwant\n%+v", i, *got[i], events[i])
		}
	}
}

func TestAppendEventXMLEscapes(t *testing.T) {
	e := telemetry.Event{
		Time:       time.Date(2021, 12, 13, 12, 55, 45, 250084500, time.UTC),
		TimeSource: telemetry.TimeUTC,
		Host:       "rootdc1.offsec.lan", HostKey: "rootdc1",
		Channel: telemetry.ChannelSystem, Provider: "Service Control Manager",
		EventID: 7045, RecordID: 1467331, UserID: "S-1-5-21-4230534742-2542757381-3142984815-1111",
		ProcessID: 580, ThreadID: 4544,
		Fields: []telemetry.Field{
			{Name: "ServiceName", Value: "BTOBTO"},
			// EVTX-to-MITRE-Attack "ID7045-4697-SMBexec service registration".
			{Name: "ImagePath", Value: `%COMSPEC% /Q /c echo cd  ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat`},
			{Name: "AccessList", Value: "%%1538\r\n\t\t\t\t%%1541\r\n\t\t\t\t"},
			{Name: "Quotes", Value: `it's "quoted"`},
			{Name: "NonASCII", Value: `C:\Users\Public\virusé.exe`},
			{Name: "AccountName", Value: ""},
		},
	}
	line := telemetry.AppendEventXML(nil, &e)
	want := "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>" +
		"<Provider Name='Service Control Manager' Guid='{555908d1-a6d7-4695-8e1e-26931d2012f4}' " +
		"EventSourceName='Service Control Manager'/><EventID Qualifiers='16384'>7045</EventID>" +
		"<Version>0</Version><Level>4</Level><Task>0</Task><Opcode>0</Opcode>" +
		"<Keywords>0x8080000000000000</Keywords>" +
		"<TimeCreated SystemTime='2021-12-13T12:55:45.2500845Z'/><EventRecordID>1467331</EventRecordID>" +
		"<Correlation/><Execution ProcessID='580' ThreadID='4544'/><Channel>System</Channel>" +
		"<Computer>rootdc1.offsec.lan</Computer>" +
		"<Security UserID='S-1-5-21-4230534742-2542757381-3142984815-1111'/></System><EventData>" +
		"<Data Name='ServiceName'>BTOBTO</Data>" +
		"<Data Name='ImagePath'>%COMSPEC% /Q /c echo cd  ^&gt; \\\\127.0.0.1\\C$\\__output 2^&gt;^&amp;1 &gt; %TEMP%\\execute.bat</Data>" +
		"<Data Name='AccessList'>%%1538&#13;&#10;&#9;&#9;&#9;&#9;%%1541&#13;&#10;&#9;&#9;&#9;&#9;</Data>" +
		"<Data Name='Quotes'>it&apos;s &quot;quoted&quot;</Data>" +
		"<Data Name='NonASCII'>C:\\Users\\Public\\virusé.exe</Data>" +
		"<Data Name='AccountName'></Data></EventData></Event>\n"
	if string(line) != want {
		t.Errorf("AppendEventXML() =\n%s\nwant\n%s", line, want)
	}
	got := readAll(t, line)
	if len(got) != 1 || !reflect.DeepEqual(*got[0], e) {
		t.Errorf("read back %+v; want %+v", got, e)
	}
}

func TestAppendEventXMLReplacesInvalidCharacters(t *testing.T) {
	e := telemetry.Event{Channel: "Application", Provider: "Odd Source",
		Fields: []telemetry.Field{{Name: "x", Value: "a\x00b\x1fc\xffd"}}}
	line := string(telemetry.AppendEventXML(nil, &e))
	if !strings.Contains(line, "<Data Name='x'>a\uFFFDb\uFFFDc\uFFFDd</Data>") {
		t.Errorf("AppendEventXML() = %s; want controls and invalid UTF-8 as U+FFFD", line)
	}
	if strings.Contains(line, "<Level>") {
		t.Errorf("AppendEventXML() = %s; want no Level for an unknown provider", line)
	}
	if got := readAll(t, []byte(line)); len(got) != 1 {
		t.Errorf("read back %d events; want 1", len(got))
	}
}

func BenchmarkAppendEventXML(b *testing.B) {
	g, err := synth.New(synth.Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	events := make([]telemetry.Event, 4096)
	g.Fill(events, nil)
	var buf []byte
	var n int64
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = telemetry.AppendEventXML(buf[:0], &events[i%len(events)])
		n += int64(len(buf))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(n)/1e6/b.Elapsed().Seconds(), "MB/s")
}
