package emulate

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/scenarios"
)

// eventLog is a Runner holding one channel of n System 7036 records with
// IDs 1..n, answering wevtutil qe the way Windows does.
type eventLog struct {
	n       int
	calls   int
	noSysmo bool
}

var afterRe = regexp.MustCompile(`EventRecordID>(\d+)`)

func (l *eventLog) Run(_ context.Context, _ string, _ scenarios.Shell,
	line string) (Result, error) {
	l.calls++
	if strings.Contains(line, "Sysmon") && l.noSysmo {
		return Result{ExitCode: wevtutilNoLog,
			Stderr: "Failed to read events. The specified channel could not be found."}, nil
	}
	if !strings.Contains(line, `"System"`) {
		return Result{}, nil // other channels: empty
	}
	after, _ := strconv.Atoi(afterRe.FindStringSubmatch(line)[1])
	var b strings.Builder
	for id := after + 1; id <= l.n && id <= after+collectPage; id++ {
		fmt.Fprintf(&b, "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"+
			"<System><Provider Name='Service Control Manager' "+
			"Guid='{555908d1-a6d7-4695-8e1e-26931d2012f4}' EventSourceName='Service Control Manager'/>"+
			"<EventID Qualifiers='16384'>7036</EventID><Version>0</Version><Level>4</Level>"+
			"<Task>0</Task><Opcode>0</Opcode><Keywords>0x8080000000000000</Keywords>"+
			"<TimeCreated SystemTime='2026-12-03T19:56:29.%07dZ'/><EventRecordID>%d</EventRecordID>"+
			"<Correlation/><Execution ProcessID='640' ThreadID='700'/><Channel>System</Channel>"+
			"<Computer>WS01.lab.local</Computer><Security/></System><EventData>"+
			"<Data Name='param1'>Print Spooler</Data><Data Name='param2'>running</Data>"+
			"</EventData></Event>\r\n", id, id)
	}
	return Result{Stdout: b.String()}, nil
}

func TestCollectPagesThroughEveryRecord(t *testing.T) {
	l := &eventLog{n: 1234, noSysmo: true}
	since := time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC)
	c, err := Collect(context.Background(), l, "WS01", since, Channels)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(c.Events) != 1234 || len(c.Skipped) != 0 {
		t.Fatalf("got %d events, %d skipped; want 1234, 0", len(c.Events), len(c.Skipped))
	}
	for i, ev := range c.Events {
		if ev.RecordID != uint64(i+1) || ev.EventID != 7036 {
			t.Fatalf("event %d: got record %d id %d; want record %d id 7036",
				i, ev.RecordID, ev.EventID, i+1)
		}
	}
	if len(c.Missing) != 1 || c.Missing[0] != "Microsoft-Windows-Sysmon/Operational" {
		t.Errorf("got missing channels %v; want the Sysmon channel", c.Missing)
	}
	if l.calls != 1+3+1 { // Security, System in three pages, Sysmon
		t.Errorf("got %d wevtutil calls; want 5", l.calls)
	}
}

func TestCollectFailsOnWevtutilError(t *testing.T) {
	r := &scripted{rules: []rule{{contains: "wevtutil",
		res: Result{ExitCode: 15001, Stderr: "The specified query is invalid."}}}}
	_, err := Collect(context.Background(), r, "WS01", time.Now(), Channels)
	if !errors.Is(err, ErrCommandFailed) {
		t.Errorf("got %v; want ErrCommandFailed", err)
	}
}

func TestHostClock(t *testing.T) {
	r := &scripted{rules: []rule{{contains: "UtcNow",
		res: Result{Stdout: "2026-12-03T19:56:29.3214674Z\r\n"}}}}
	got, err := HostClock(context.Background(), r, "WS01")
	want := time.Date(2026, 12, 3, 19, 56, 29, 321467400, time.UTC)
	if err != nil || !got.Equal(want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	r.rules[0].res.Stdout = "Tuesday"
	if _, err := HostClock(context.Background(), r, "WS01"); !errors.Is(err, ErrCommandFailed) {
		t.Errorf("bad clock output: got %v; want ErrCommandFailed", err)
	}
}
