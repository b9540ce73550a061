package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestScenariosList(t *testing.T) {
	code, out, errs := runCLI("scenarios", "list")
	if code != exitOK {
		t.Fatalf("got exit %d; want 0 (stderr %q)", code, errs)
	}
	for _, want := range []string{"ID", "psexec-default", "suppressed by approved-jump-psexec",
		"smbexec-comspec-burst", "silent"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q", want)
		}
	}
}

func TestScenariosListJSONWithUserCatalog(t *testing.T) {
	dir := filepath.Join("..", "..", "scenarios", "testdata", "extra")
	code, out, errs := runCLI("scenarios", "list", "--format", "json", "--catalog", dir)
	if code != exitOK {
		t.Fatalf("got exit %d; want 0 (stderr %q)", code, errs)
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var s scenarioSummary
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		found = found || s.ID == "user-sc-create"
	}
	if !found {
		t.Error("user-sc-create from --catalog missing in JSON list")
	}
}

func TestScenariosShowRendersCommands(t *testing.T) {
	code, out, errs := runCLI("scenarios", "show", "psexec-renamed", "--seed", "3")
	if code != exitOK {
		t.Fatalf("got exit %d; want 0 (stderr %q)", code, errs)
	}
	for _, want := range []string{
		"psexec-renamed: PsExec -r",
		`C:\LabTools\PsExec.exe \\TARGET -accepteula -nobanner -s -r `,
		"cmd.exe /c echo 000000000000",
		"service_absent on TARGET",
		"expect:      alert with at least service_installed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show output lacks %q:\n%s", want, out)
		}
	}
}

func TestScenariosErrors(t *testing.T) {
	broken := filepath.Join("..", "..", "scenarios", "testdata", "broken")
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no action", []string{"scenarios"}, "needs an action"},
		{"unknown action", []string{"scenarios", "run"}, `unknown scenarios action "run"`},
		{"show without ID", []string{"scenarios", "show"}, "exactly one scenario ID"},
		{"unknown ID", []string{"scenarios", "show", "nope"}, `no scenario "nope"`},
		{"bad format", []string{"scenarios", "list", "--format", "xml"}, "--format"},
		{"broken catalog", []string{"scenarios", "list", "--catalog", broken},
			"a-shape.yaml:5:1: colour: unknown key"},
		{"missing catalog", []string{"scenarios", "list", "--catalog", "/nonexistent"},
			"open catalog directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(tc.args...)
			if code != exitUsage {
				t.Errorf("got exit %d; want %d", code, exitUsage)
			}
			if !strings.Contains(errs, tc.stderr) {
				t.Errorf("got stderr %q; want it to contain %q", errs, tc.stderr)
			}
		})
	}
}
