package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/telemetry"
)

// installEvent returns a System 7045 as svcharness events NDJSON, the format
// "svcharness events --format json" writes and every command reads back.
func installEvent(record uint64, name, image string) string {
	ev := telemetry.Event{
		Time: time.Date(2026, 1, 5, 10, 0, int(record), 0, time.UTC), TimeSource: telemetry.TimeUTC,
		Host: "WS01.lab.local", HostKey: "ws01", Channel: telemetry.ChannelSystem,
		Provider: "Service Control Manager", EventID: 7045, RecordID: record,
		Fields: []telemetry.Field{{Name: "ServiceName", Value: name}, {Name: "ImagePath", Value: image},
			{Name: "ServiceType", Value: "user mode service"}, {Name: "StartType", Value: "demand start"},
			{Name: "AccountName", Value: "LocalSystem"}},
	}
	return string(telemetry.AppendEventJSON(nil, &ev))
}

var (
	installSmbexec = installEvent(11, "BTOBTO",
		`%COMSPEC% /Q /c echo cd ^> \\127.0.0.1\C$\__output 2^>^&1 > %TEMP%\execute.bat`)
	installVendor = installEvent(12, "Vendor Agent", `"C:\Program Files\Vendor\agent.exe"`)
)

func writeInput(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func correlateCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCorrelateExitCodes(t *testing.T) {
	attack := writeInput(t, "attack.ndjson", installSmbexec+"\n")
	benign := writeInput(t, "benign.ndjson", installVendor+"\n")
	approve := writeInput(t, "policy.yaml", `approvals:
  - id: lab-smbexec-drill
    reason: purple-team drill
    owner: blue
    match: {service: BTOBTO}
`)
	bad := writeInput(t, "bad.yaml", "window: soon\napprovals:\n  - id: x\n")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"attack alerts", []string{"correlate", attack}, exitFindings},
		{"benign is silent", []string{"correlate", benign}, exitOK},
		{"approved attack is suppressed", []string{"correlate", "--policy", approve, attack}, exitOK},
		{"missing file", []string{"correlate", filepath.Join(t.TempDir(), "nope.evtx")}, exitUsage},
		{"bad policy", []string{"correlate", "--policy", bad, attack}, exitUsage},
		{"bad format", []string{"correlate", "--format", "xml", attack}, exitUsage},
		{"signals that make the alert disabled", []string{"correlate",
			"--disable-signal", "nonstandard_binary,service_installed", attack}, exitOK},
		{"another signal disabled", []string{"correlate", "--disable-signal", "psexec_family",
			attack}, exitFindings},
		{"unknown signal", []string{"correlate", "--disable-signal", "psexec", attack}, exitUsage},
		{"no files", []string{"correlate"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := correlateCLI(t, tt.args...)
			if code != tt.want {
				t.Errorf("got exit %d; want %d (stderr %q)", code, tt.want, stderr)
			}
		})
	}
}

func TestCorrelateBadPolicyListsEveryProblem(t *testing.T) {
	bad := writeInput(t, "bad.yaml", "window: soon\napprovals:\n  - id: x\n")
	attack := writeInput(t, "attack.ndjson", installSmbexec+"\n")
	_, _, stderr := correlateCLI(t, "correlate", "--policy", bad, attack)
	for _, want := range []string{"line 1:", "line 3:", "needs reason", "needs a match"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("got stderr %q; want it to contain %q", stderr, want)
		}
	}
}

func TestCorrelateJSON(t *testing.T) {
	attack := writeInput(t, "attack.ndjson", installSmbexec+"\n"+installVendor+"\n")
	code, stdout, stderr := correlateCLI(t, "correlate", "--format", "json", attack)
	if code != exitFindings {
		t.Fatalf("got exit %d; want %d (stderr %q)", code, exitFindings, stderr)
	}
	var doc struct {
		Schema int               `json:"schema"`
		Alerts []correlate.Alert `json:"alerts"`
		Stats  map[string]any    `json:"stats"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("got invalid JSON: %v\n%s", err, stdout)
	}
	if doc.Schema != 1 || len(doc.Alerts) != 1 {
		t.Fatalf("got schema %d with %d alerts; want schema 1 with 1", doc.Schema, len(doc.Alerts))
	}
	a := doc.Alerts[0]
	if a.Service != "BTOBTO" || !a.HasSignal("nonstandard_binary") || a.SuppressedBy != "" {
		t.Errorf("got alert %+v; want BTOBTO with nonstandard_binary, unsuppressed", a)
	}
	if doc.Stats["events"] != float64(2) {
		t.Errorf("got stats %v; want events 2", doc.Stats)
	}
	for _, key := range []string{`"suppressed_by": ""`, `"first_seen"`, `"record_id": 11`} {
		if !strings.Contains(stdout, key) {
			t.Errorf("got JSON without %s", key)
		}
	}
}

func TestCorrelateNDJSONFromStdin(t *testing.T) {
	// run reads os.Stdin for "-": swap it for a pipe holding the input.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = old })
	go func() {
		w.WriteString(installSmbexec + "\n")
		w.Close()
	}()
	code, stdout, stderr := correlateCLI(t, "correlate", "--format", "ndjson", "-")
	if code != exitFindings {
		t.Fatalf("got exit %d; want %d (stderr %q)", code, exitFindings, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"service":"BTOBTO"`) {
		t.Errorf("got %q; want one NDJSON alert for BTOBTO", stdout)
	}
}

func TestBaselineProposesLoadablePolicy(t *testing.T) {
	attack := writeInput(t, "noise.ndjson", installSmbexec+"\n"+installVendor+"\n")
	code, stdout, stderr := correlateCLI(t, "baseline", attack)
	if code != exitOK {
		t.Fatalf("got exit %d; want 0 (stderr %q)", code, stderr)
	}
	_, snippet, ok := strings.Cut(stdout, "# Proposed policy (review every entry; fill in owner):\n")
	if !ok {
		t.Fatalf("got no proposed policy in %q", stdout)
	}
	snippet, _, _ = strings.Cut(snippet, "\nAlert rate before")
	pol, err := correlate.LoadPolicy("proposal", []byte(snippet))
	if err != nil {
		t.Fatalf("proposed policy does not load: %v\n%s", err, snippet)
	}
	if len(pol.Approvals) != 1 || pol.Approvals[0].Match.Service != "BTOBTO" {
		t.Errorf("got approvals %+v; want one for BTOBTO", pol.Approvals)
	}
	if !strings.Contains(stdout, "before the proposal: 1 alert(s)") ||
		!strings.Contains(stdout, "after the proposal:  0 alert(s)") {
		t.Errorf("got rates %q; want 1 before and 0 after", stdout)
	}
	// The proposal, used as the policy, silences the same input.
	policy := writeInput(t, "proposal.yaml", snippet)
	if code, _, stderr := correlateCLI(t, "correlate", "--policy", policy, attack); code != exitOK {
		t.Errorf("correlate with the proposal: got exit %d; want 0 (stderr %q)", code, stderr)
	}
}
