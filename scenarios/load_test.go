package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestBrokenCatalogReportsEveryProblem loads a directory of broken files and
// expects every problem in every file, each at its file and line.
func TestBrokenCatalogReportsEveryProblem(t *testing.T) {
	_, err := LoadDir(filepath.Join("testdata", "broken"))
	if err == nil {
		t.Fatal("LoadDir(testdata/broken) succeeded; want problems")
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(err, ErrInvalid) = false; want true")
	}
	want := []struct {
		file string
		line int
		text string
	}{
		{"a-shape.yaml", 5, `unknown key "colour"`},
		{"a-shape.yaml", 9, "no step or payload uses {{.RunID}}"},
		{"a-shape.yaml", 12, "may_fail: got a string; want true or false"},
		{"a-shape.yaml", 13, `unknown key "retries"`},
		{"a-shape.yaml", 14, "verify_cleanup: got a string; want a list"},
		{"a-shape.yaml", 17, "expect.signals: got a string; want a list"},
		{"b-semantics.yaml", 1, `"Bad_ID" is not lowercase kebab-case`},
		{"b-semantics.yaml", 2, "name: missing"},
		{"b-semantics.yaml", 3, "techniques[1]: got a number"},
		{"b-semantics.yaml", 4, `"sneaky": want malicious, approved or benign`},
		{"b-semantics.yaml", 6, "no target role"},
		{"b-semantics.yaml", 7, `unknown sensor "etw"`},
		{"b-semantics.yaml", 9, "vars.svc: bad template"},
		{"b-semantics.yaml", 11, `role "target" is not declared`},
		{"b-semantics.yaml", 12, `"bash": want cmd or powershell`},
		{"b-semantics.yaml", 14, `"forever" is not a duration`},
		{"b-semantics.yaml", 18, "a PowerShell step ends with 0 or 1"},
		{"b-semantics.yaml", 20, "want exactly one of alert"},
		{"c-render.yaml", 1, "a malicious scenario must prove its cleanup"},
		{"c-render.yaml", 8, "random name length 99 out of range"},
		{"c-render.yaml", 11, "no var named service"},
		{"c-render.yaml", 14, `unknown signal "made_up_signal"`},
		{"c-render.yaml", 24, `Host "jump": the scenario declares no such role`},
		{"c-render.yaml", 26, "an approved scenario must expect suppressed_by"},
		{"d-syntax.yaml", 2, "']' not found"},
	}
	ps := Problems(err)
	if len(ps) != len(want) {
		t.Errorf("got %d problems; want %d:\n%v", len(ps), len(want), err)
	}
	for _, w := range want {
		if !hasProblem(ps, w.file, w.line, w.text) {
			t.Errorf("missing problem %s:%d %q in:\n%v", w.file, w.line, w.text, err)
		}
	}
}

func hasProblem(ps []*Problem, file string, line int, text string) bool {
	for _, p := range ps {
		if strings.HasSuffix(p.File, "/"+file) && p.Line == line &&
			strings.Contains(p.Error(), text) {
			return true
		}
	}
	return false
}

func TestProblemFormatsAsFileLineCol(t *testing.T) {
	p := &Problem{File: "x.yaml", Line: 3, Col: 7, Path: "steps[0].run", Msg: "missing"}
	if got, want := p.Error(), "x.yaml:3:7: steps[0].run: missing"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestOpenMergesUserCatalog(t *testing.T) {
	builtin, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(filepath.Join("testdata", "extra"))
	if err != nil {
		t.Fatalf("Open(testdata/extra): %v", err)
	}
	if got, want := c.Len(), builtin.Len()+1; got != want {
		t.Errorf("got %d scenarios; want %d", got, want)
	}
	if _, ok := c.Lookup("user-sc-create"); !ok {
		t.Error("user scenario user-sc-create not found after merge")
	}
}

func TestOpenReportsIDClash(t *testing.T) {
	_, err := Open(filepath.Join("testdata", "clash"), filepath.Join("testdata", "extra"),
		filepath.Join("testdata", "extra"))
	if err == nil {
		t.Fatal("Open with clashing IDs succeeded; want an error")
	}
	ps := Problems(err)
	if len(ps) != 2 {
		t.Fatalf("got %d problems; want 2 (one per clash):\n%v", len(ps), err)
	}
	msg := err.Error()
	for _, want := range []string{
		`testdata/clash/dup.yaml:1:1: id: scenario ID "psexec-default" already defined ` +
			`at catalog/psexec-default.yaml:`,
		`scenario ID "user-sc-create" already defined at testdata/extra/user-scenario.yaml:`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

func TestLoadFSRefusesOversizedAndEmptyFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"big.yaml":   {Data: []byte("id: x\n" + strings.Repeat("#", maxFileSize))},
		"empty.yaml": {Data: []byte("# nothing here\n")},
		"notes.txt":  {Data: []byte("not a scenario")},
		PolicyFile:   {Data: []byte("version: 1\n")},
	}
	_, err := LoadFS(fsys, "mem")
	ps := Problems(err)
	if len(ps) != 2 {
		t.Fatalf("got %d problems; want 2:\n%v", len(ps), err)
	}
	if !strings.Contains(ps[0].Error(), "larger than") ||
		!strings.Contains(ps[1].Error(), "no scenario in file") {
		t.Errorf("got %v; want an oversize and an empty-file problem", err)
	}
}

func TestLoadDirRejectsMissingDirectory(t *testing.T) {
	_, err := LoadDir(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v; want a not-exist error", err)
	}
}

func TestParseRejectsAliasesAndTags(t *testing.T) {
	src := "id: &a alias-test\nname: *a\ntechniques: [!!str T1543.003]\n"
	_, ps := Parse("t.yaml", []byte(src))
	var n int
	for _, p := range ps {
		if strings.Contains(p.Msg, "not supported") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("got %d anchor/alias/tag problems; want 3: %v", n, ps)
	}
}
