package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/report"
	"github.com/svcharness/svcharness/scenarios"
)

func readRunReport(t *testing.T, dir string) *report.Run {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, report.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	var r report.Run
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestRunOnBuiltinLab runs a malicious, an approved and a benign scenario
// on the in-process simulated lab and checks the scorecard, the exit code
// and every file of the report folder.
func TestRunOnBuiltinLab(t *testing.T) {
	dir := t.TempDir()
	ids := []string{"psexec-default", "psexec-from-jump-host", "spooler-restart"}
	args := []string{"run", "--report-dir", dir, "--seed", "3"}
	for _, id := range ids {
		args = append(args, "--scenario", id)
	}
	code, stdout, stderr := runCLI(args...)
	if code != exitOK {
		t.Fatalf("exit %d; want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, id := range ids {
		if !strings.Contains(stdout, id) || !strings.Contains(stderr, "PASS   "+id) {
			t.Errorf("%s: missing from the scorecard or the progress lines", id)
		}
	}
	r := readRunReport(t, dir)
	if r.Totals.Verdicts[report.Pass] != 3 || r.Totals.Recall != 1 {
		t.Errorf("got verdicts %v, recall %v; want 3 passes, recall 1", r.Totals.Verdicts,
			r.Totals.Recall)
	}
	checkJUnitCases(t, filepath.Join(dir, report.FileJUnit), len(ids))
	for _, res := range r.Results {
		if _, err := os.Stat(filepath.Join(dir, res.TelemetryFile)); err != nil ||
			res.TelemetryFile == "" {
			t.Errorf("%s: telemetry file %q: %v", res.ID, res.TelemetryFile, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, report.FileHTML)); err != nil {
		t.Error(err)
	}
	checkReplay(t, dir)
}

// checkReplay feeds psexec-default's telemetry file to "svcharness
// correlate" with the catalog's policy: the alert the run judged must come
// back, unsuppressed.
func checkReplay(t *testing.T, dir string) {
	t.Helper()
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, scenarios.DefaultPolicy(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI("correlate", "--policy", policy,
		filepath.Join(dir, "telemetry", "psexec-default.ndjson"))
	if code != exitFindings || !strings.Contains(stdout, "PSEXESVC") {
		t.Errorf("replay: got exit %d, output %q %q; want 1 and the PSEXESVC alert", code,
			stdout, stderr)
	}
}

func checkJUnitCases(t *testing.T, path string, want int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) != want {
		t.Errorf("got %d JUnit test cases; want %d", len(doc.Cases), want)
	}
}

func TestRunUsageErrors(t *testing.T) {
	badPolicy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(badPolicy, []byte("version: 1\nbogus: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noApprovals := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(noApprovals, []byte("version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--catalog", filepath.Join("..", "..", "scenarios", "testdata", "broken")},
			"a-shape.yaml:"},
		{[]string{"--policy", badPolicy}, "policy.yaml"},
		{[]string{"--policy", noApprovals, "--scenario", "psexec-from-jump-host"},
			`expects approval "approved-jump-psexec"`},
		{[]string{"--scenario", "no-such-scenario"}, "unknown IDs no-such-scenario"},
		{[]string{"--label", "malicious &&"}, "label expression"},
		{[]string{"--label", "no-such-label"}, "no scenario matches"},
		{[]string{"--parallel", "0"}, "--parallel 0"},
		{[]string{"--lab", filepath.Join(t.TempDir(), "missing.yaml")}, "missing.yaml"},
		{[]string{"extra"}, "unexpected arguments"},
	}
	for _, tc := range cases {
		code, _, stderr := runCLI(append([]string{"run", "--report-dir", t.TempDir()},
			tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: got exit %d, stderr %q; want %d and %q", tc.args, code, stderr,
				exitUsage, tc.want)
		}
	}
}

// TestRunDryRunConnectsToNothing prints the commands of a scenario against
// the built-in lab's shape and reports it skipped.
func TestRunDryRunConnectsToNothing(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI("run", "--dry-run", "--report-dir", dir,
		"--scenario", "psexec-default")
	if code != exitOK {
		t.Fatalf("exit %d; want 0\n%s", code, stderr)
	}
	if !strings.Contains(stdout, `C:\LabTools\PsExec.exe \\SRV01`) {
		t.Errorf("the dry run did not print the PsExec command:\n%s", stdout)
	}
	if r := readRunReport(t, dir); r.Results[0].Verdict != report.Skip || !r.DryRun {
		t.Errorf("got %s, dry run %v; want skip, true", r.Results[0].Verdict, r.DryRun)
	}
}

// TestRunUnreachableLab is an emulation error, exit 3, never a missed
// detection.
func TestRunUnreachableLab(t *testing.T) {
	dir := t.TempDir()
	if err := labs.WriteCredentialFile(filepath.Join(dir, "cred.yaml"),
		labs.Credential{User: `LAB\x`, Password: "unused-secret"}); err != nil {
		t.Fatal(err)
	}
	inv := &labs.Inventory{Version: labs.Version, Name: "gone",
		Credentials: map[string]labs.CredentialRef{"c": {File: "cred.yaml"}}}
	for _, h := range []struct{ name, role string }{{"WS01", "attacker"}, {"SRV01", "target"}} {
		inv.Hosts = append(inv.Hosts, labs.Host{Name: h.name, Roles: []string{h.role},
			Endpoint: "http://127.0.0.1:1/wsman", Auth: labs.AuthBasic, Credentials: "c",
			Lab: true})
	}
	invPath := filepath.Join(dir, "inventory.yaml")
	if err := inv.Write(invPath); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("run", "--lab", invPath, "--journal", filepath.Join(dir, "j"),
		"--report-dir", filepath.Join(dir, "r"), "--scenario", "psexec-default",
		"--settle", "0s")
	if code != exitEmulation || strings.Contains(stderr, "unused-secret") {
		t.Fatalf("got exit %d; want 3 without the password\n%s", code, stderr)
	}
	res := readRunReport(t, filepath.Join(dir, "r")).Results[0]
	if res.Class != report.EmulationError || !strings.Contains(res.Reason, "unreachable") {
		t.Errorf("got %s: %s; want emulation-error, lab unreachable", res.Class, res.Reason)
	}
}

// TestHTMLReportRendersInChromium renders a run's HTML report in headless
// Chromium with the script CI uses, when Chromium and jq are installed.
func TestHTMLReportRendersInChromium(t *testing.T) {
	for _, tool := range []string{"bash", "chromium", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s (apt-get install -y chromium jq)", tool)
		}
	}
	if testing.Short() {
		t.Skip("starts a browser; not with -short")
	}
	dir := t.TempDir()
	code, _, stderr := runCLI("run", "--report-dir", dir, "--scenario", "psexec-default",
		"--scenario", "spooler-restart")
	if code != exitOK {
		t.Fatalf("exit %d; want 0\n%s", code, stderr)
	}
	script := filepath.Join("..", "..", "scripts", "check-html-report.sh")
	out, err := exec.Command("bash", script, dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "all 2 scenarios") {
		t.Errorf("check-html-report: %v\n%s", err, out)
	}
}
