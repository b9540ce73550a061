package main

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../../telemetry/testdata/"

// runEventsCLI runs the whole CLI in-process with in as standard input.
func runEventsCLI(t *testing.T, in []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	old := stdin
	stdin = bytes.NewReader(in)
	defer func() { stdin = old }()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestEventsCount(t *testing.T) {
	xmlPath, jsonPath := fixtures+"toxml-oneline.xml", fixtures+"nxlog.ndjson"
	code, out, errs := runEventsCLI(t, nil, "events", "--count", xmlPath, jsonPath)
	want := "5\t" + xmlPath + "\n4\t" + jsonPath + "\n"
	if code != 0 || out != want {
		t.Errorf("got exit %d, stdout %q (stderr %q); want 0, %q", code, out, errs, want)
	}
}

func TestEventsCountStdinAndArchive(t *testing.T) {
	xmlFix, _ := os.ReadFile(fixtures + "toxml-oneline.xml")
	jsonFix, _ := os.ReadFile(fixtures + "ecs.ndjson")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range map[string][]byte{"a.xml": xmlFix, "b/c.json": jsonFix} {
		w, _ := zw.Create(name)
		w.Write(data)
	}
	zw.Close()
	zipPath := filepath.Join(t.TempDir(), "logs.zip")
	os.WriteFile(zipPath, buf.Bytes(), 0o644)

	code, out, errs := runEventsCLI(t, xmlFix, "events", "-", "--count", zipPath)
	want := "5\t-\n8\t" + zipPath + "\n"
	if code != 0 || out != want {
		t.Errorf("got exit %d, stdout %q (stderr %q); want 0, %q", code, out, errs, want)
	}
}

// TestEventsJSONRoundTrip writes events NDJSON, reads it back through the
// command (from a file and from stdin), and expects the same NDJSON.
func TestEventsJSONRoundTrip(t *testing.T) {
	args := []string{"events", "--format", "json"}
	for _, f := range []string{"toxml-oneline.xml", "wevtutil-rendered.xml", "pretty-events.xml",
		"ecs.ndjson", "beat6.ndjson", "nxlog.ndjson", "ecs-array.json"} {
		args = append(args, fixtures+f)
	}
	code, first, errs := runEventsCLI(t, nil, args...)
	if code != 0 || strings.Count(first, "\n") != 19 {
		t.Fatalf("got exit %d, %d lines (stderr %q); want 0 and 19 events", code,
			strings.Count(first, "\n"), errs)
	}
	path := filepath.Join(t.TempDir(), "events.ndjson")
	os.WriteFile(path, []byte(first), 0o644)
	_, fromFile, _ := runEventsCLI(t, nil, "events", "--format", "json", path)
	_, fromStdin, _ := runEventsCLI(t, []byte(first), "events", "--format=json", "-")
	if fromFile != first || fromStdin != first {
		t.Errorf("round trip changed the NDJSON:\nfirst:\n%s\nfile:\n%s\nstdin:\n%s", first,
			fromFile, fromStdin)
	}
}

func TestEventsTable(t *testing.T) {
	code, out, _ := runEventsCLI(t, nil, "events", fixtures+"nxlog.ndjson")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 5 {
		t.Fatalf("got exit %d and %d lines; want 0 and a header plus 4 rows:\n%s", code,
			len(lines), out)
	}
	for _, want := range []string{"TIME", "HOST", "CHANNEL", "ID", "RECORD", "SUMMARY"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("got header %q; want column %s", lines[0], want)
		}
	}
	row := lines[1]
	for _, want := range []string{"2020-09-20T16:16:58.233Z", "workstation6", "System", "7045",
		"1075", "ServiceName=Updater"} {
		if !strings.Contains(row, want) {
			t.Errorf("got row %q; want it to show %q", row, want)
		}
	}
	if !strings.Contains(lines[4], "2020-10-19T03:30:46 local") {
		t.Errorf("got row %q; want its host-local time marked local", lines[4])
	}
}

func TestEventsReportsSkips(t *testing.T) {
	in := `{"EventID":7045,"Channel":"System"}` + "\n" + `{"EventID":` + "\n" +
		`{"EventID":7036,"Channel":"System"}` + "\n"
	code, out, errs := runEventsCLI(t, []byte(in), "events", "--count", "-")
	if code != 0 || out != "2\t-\n" {
		t.Errorf("got exit %d, stdout %q; want 0 and 2 records", code, out)
	}
	for _, want := range []string{"-: line 2", "svcharness: -: 1 records skipped"} {
		if !strings.Contains(errs, want) {
			t.Errorf("got stderr %q; want it to contain %q", errs, want)
		}
	}
}

func TestEventsExitCodes(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not telemetry"), 0o644)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\"x\":\n{\"y\":1}\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"help", []string{"events", "--help"}, 0, ""},
		{"no file", []string{"events"}, 2, "at least one FILE"},
		{"bad format", []string{"events", "--format", "yaml", text}, 2, "table or json"},
		{"unknown flag", []string{"events", "--frob", text}, 2, "frob"},
		{"missing file", []string{"events", filepath.Join(dir, "nope.xml")}, 2, "no such file"},
		{"unrecognised content", []string{"events", text}, 2, "unrecognised input format"},
		{"only bad records", []string{"events", bad}, 2, "no records could be read"},
		{"one good file is enough", []string{"events", "--count", text,
			fixtures + "beat6.ndjson"}, 0, "unrecognised input format"},
		{"flags after --", []string{"events", "--", "--count"}, 2, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runEventsCLI(t, nil, tc.args...)
			if code != tc.want || !strings.Contains(errs, tc.msg) {
				t.Errorf("got exit %d, stderr %q; want %d and %q", code, errs, tc.want, tc.msg)
			}
		})
	}
}
