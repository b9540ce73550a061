package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/telemetry"
)

// genCLI runs the whole CLI in-process and returns its exit code and output.
func genCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// decodeStream reads every event of a JSON or XML stream.
func decodeStream(t *testing.T, format, data string) []*telemetry.Event {
	t.Helper()
	var r telemetry.Reader
	if format == "xml" {
		r = telemetry.NewXMLReader("stdout", strings.NewReader(data))
	} else {
		r = telemetry.NewJSONReader("stdout", strings.NewReader(data))
	}
	var events []*telemetry.Event
	for {
		e, err := r.Next()
		if err == io.EOF {
			return events
		}
		if err != nil {
			t.Fatalf("decode %s output: %v", format, err)
		}
		events = append(events, e)
	}
}

func TestGenerateFormatsDecodeToTheSameEvents(t *testing.T) {
	args := []string{"generate", "--hosts", "6", "--count", "3000", "--attacks-every", "300",
		"--seed", "8"}
	code, jsonOut, stderr := genCLI(t, append(args, "--format", "json")...)
	if code != exitOK {
		t.Fatalf("generate --format json: exit %d; want 0 (stderr %q)", code, stderr)
	}
	code, xmlOut, stderr := genCLI(t, append(args, "--format", "xml")...)
	if code != exitOK {
		t.Fatalf("generate --format xml: exit %d; want 0 (stderr %q)", code, stderr)
	}
	fromJSON, fromXML := decodeStream(t, "json", jsonOut), decodeStream(t, "xml", xmlOut)
	if len(fromJSON) != 3000 || len(fromXML) != 3000 {
		t.Fatalf("decoded %d JSON and %d XML events; want 3000 each", len(fromJSON), len(fromXML))
	}
	for i := range fromJSON {
		if !reflect.DeepEqual(fromJSON[i], fromXML[i]) {
			t.Fatalf("event %d differs:\nJSON %+v\nXML  %+v", i, fromJSON[i], fromXML[i])
		}
	}
	if strings.Count(xmlOut, "\n") != 3000 {
		t.Errorf("XML output has %d lines; want one per event", strings.Count(xmlOut, "\n"))
	}
}

func TestGenerateIsReproducible(t *testing.T) {
	args := []string{"generate", "--count", "2000", "--attacks-every", "100", "--seed", "3"}
	_, a, _ := genCLI(t, args...)
	_, b, _ := genCLI(t, args...)
	if a != b {
		t.Error("two runs with the same flags wrote different bytes; want identical")
	}
	_, c, _ := genCLI(t, "generate", "--count", "2000", "--attacks-every", "100", "--seed", "4")
	if a == c {
		t.Error("seeds 3 and 4 wrote identical bytes; want different")
	}
}

func TestGenerateDurationAndRate(t *testing.T) {
	code, out, stderr := genCLI(t, "generate", "--rate", "50", "--duration", "2s",
		"--start", "2026-02-01T10:00:00Z")
	if code != exitOK {
		t.Fatalf("exit %d; want 0 (stderr %q)", code, stderr)
	}
	events := decodeStream(t, "json", out)
	if len(events) != 100 {
		t.Fatalf("decoded %d events for 2s at 50/s; want 100", len(events))
	}
	first, last := events[0].Time.Format("15:04:05.000"), events[99].Time.Format("15:04:05.000")
	if first != "10:00:00.000" || last != "10:00:01.980" {
		t.Errorf("times run %s to %s; want 10:00:00.000 to 10:00:01.980", first, last)
	}
}

func TestGenerateLabels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "labels.ndjson")
	code, out, stderr := genCLI(t, "generate", "--count", "5000", "--attacks-every", "500",
		"--attacks", "psexec,smbexec", "--labels", path)
	if code != exitOK {
		t.Fatalf("exit %d; want 0 (stderr %q)", code, stderr)
	}
	events := decodeStream(t, "json", out)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, malicious := 0, map[string]bool{}
	for ; sc.Scan(); n++ {
		var l labelLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("label line %d: %v", n+1, err)
		}
		e := events[n]
		if l.Host != e.HostKey || l.RecordID != e.RecordID || l.Channel != e.Channel {
			t.Fatalf("label %d = %+v; want host %s record %d on %s", n, l, e.HostKey,
				e.RecordID, e.Channel)
		}
		if l.Malicious {
			malicious[l.Scenario] = true
		}
	}
	if n != len(events) {
		t.Errorf("%d labels for %d events; want one per event", n, len(events))
	}
	if len(malicious) != 2 || !malicious["psexec"] || !malicious["smbexec"] {
		t.Errorf("malicious scenarios %v; want psexec and smbexec only", malicious)
	}
}

func TestGenerateUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--count", "10", "--duration", "1s"},
		{"--format", "csv"},
		{"--rate", "0"},
		{"--rate", "-3"},
		{"--hosts", "1"},
		{"--attacks", "teleport"},
		{"--start", "yesterday"},
		{"--count", "-1"},
		{"--late-every", "10"},
		{"--omit", "Sysmon,Security,System"},
		{"--omit", "Application"},
		{"--duplicate-every", "-2"},
		{"extra"},
	} {
		code, out, stderr := genCLI(t, append([]string{"generate"}, args...)...)
		if code != exitUsage || out != "" || stderr == "" {
			t.Errorf("generate %v: exit %d, stdout %d bytes, stderr %q; want exit 2, no output, "+
				"a message", args, code, len(out), stderr)
		}
	}
}

func TestGenerateImperfectStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "labels.ndjson")
	code, out, stderr := genCLI(t, "generate", "--count", "4000", "--duplicate-every", "40",
		"--late-every", "40", "--max-lateness", "3s", "--labels", path)
	if code != exitOK {
		t.Fatalf("exit %d; want 0 (stderr %q)", code, stderr)
	}
	if n := len(decodeStream(t, "json", out)); n != 4000 {
		t.Fatalf("decoded %d events; want 4000", n)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"duplicate":true`)) || !bytes.Contains(data, []byte(`"late":true`)) {
		t.Error("labels mark no duplicate or no late event; want both")
	}
}

func TestGenerateOmitWithProcessAudit(t *testing.T) {
	code, out, stderr := genCLI(t, "generate", "--count", "3000", "--attacks-every", "300",
		"--omit", "Sysmon,Security:4697", "--process-audit")
	if code != exitOK {
		t.Fatalf("exit %d; want 0 (stderr %q)", code, stderr)
	}
	audits := 0
	for _, e := range decodeStream(t, "json", out) {
		switch e.Key() {
		case "Security:4697":
			t.Fatal("a 4697 event with Security:4697 omitted; want none")
		case "Security:4688":
			audits++
		}
		if e.Channel == telemetry.ChannelSysmon {
			t.Fatal("a Sysmon event with Sysmon omitted; want none")
		}
	}
	if audits == 0 {
		t.Error("no 4688 with --process-audit; want process creation from Security")
	}
}
