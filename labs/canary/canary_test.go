package main

import (
	"bufio"
	"context"
	"debug/pe"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want config
		err  bool
	}{
		{nil, config{}, false},
		{[]string{"--run", "0123456789ab", "--sink", "10.10.0.250:8443"},
			config{RunID: "0123456789ab", Sink: "10.10.0.250:8443"}, false},
		{[]string{"--sink", "10.10.0.250"}, config{}, true},
		{[]string{"--run", "x", "extra"}, config{}, true},
		{[]string{"--bogus"}, config{}, true},
	} {
		got, err := parseArgs(tc.args, io.Discard)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("parseArgs(%q) = %+v, %v; want %+v, error %v", tc.args, got, err, tc.want,
				tc.err)
		}
	}
}

func TestReportLineStaysOneBoundedLine(t *testing.T) {
	got := reportLine(config{RunID: "ab cd\r\nEVIL", Service: strings.Repeat("s", 500)},
		"WS01", 42)
	if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
		t.Errorf("got %q; want exactly one line", got)
	}
	if !strings.Contains(got, "run=ab_cd__EVIL ") || len(got) > 4*maxField+64 {
		t.Errorf("got %q (%d bytes); want sanitised, bounded fields", got, len(got))
	}
	if want := "svcharness-canary run=- host=WS01 service=- pid=42\n"; reportLine(config{},
		"WS01", 42) != want {
		t.Errorf("empty config: got %q; want %q", reportLine(config{}, "WS01", 42), want)
	}
}

// sink listens on loopback and returns its address and the first line it
// receives.
func sink(t *testing.T) (string, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	lines := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			close(lines)
			return
		}
		defer conn.Close()
		line, _ := bufio.NewReader(conn).ReadString('\n')
		lines <- line
	}()
	return ln.Addr().String(), lines
}

func TestReportWritesTheRunIDToTheSink(t *testing.T) {
	addr, lines := sink(t)
	if err := report(context.Background(), config{RunID: "0123456789ab", Sink: addr,
		Service: "qzxv"}); err != nil {
		t.Fatal(err)
	}
	got := <-lines
	if !strings.HasPrefix(got, "svcharness-canary run=0123456789ab host=") ||
		!strings.Contains(got, " service=qzxv pid=") {
		t.Errorf("sink got %q; want the run ID and service", got)
	}
	if err := report(context.Background(), config{RunID: "x"}); err != nil {
		t.Errorf("no sink: got %v; want nothing reported and no error", err)
	}
}

// TestConsoleProgramReports builds the canary for this machine and runs it
// as a process, as a console start on Windows would.
func TestConsoleProgramReports(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := build(t, runtime.GOOS, runtime.GOARCH)
	addr, lines := sink(t)
	out, err := exec.Command(bin, "--run", "0123456789ab", "--sink", addr).CombinedOutput()
	if err != nil {
		t.Fatalf("canary: %v: %s", err, out)
	}
	if got := <-lines; !strings.Contains(got, "run=0123456789ab") {
		t.Errorf("sink got %q; want the run ID", got)
	}
	cmd := exec.Command(bin, "--sink", "127.0.0.1:1")
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("unreachable sink: got %v; want exit 1", err)
	}
}

// TestCrossCompilesToAWindowsService builds the canary for windows/amd64 and
// checks that the result is an amd64 PE console program with the service
// glue linked in.
func TestCrossCompilesToAWindowsService(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles")
	}
	f, err := pe.Open(build(t, "windows", "amd64"))
	if err != nil {
		t.Fatalf("not a PE file: %v", err)
	}
	defer f.Close()
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Errorf("machine %#x; want amd64 (%#x)", f.Machine, pe.IMAGE_FILE_MACHINE_AMD64)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok || oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_CUI {
		t.Errorf("optional header %T; want a 64-bit console (CUI) image", f.OptionalHeader)
	}
	var syms []string
	for _, s := range f.Symbols {
		syms = append(syms, s.Name)
	}
	for _, want := range []string{"golang.org/x/sys/windows/svc.Run", "main.(*handler).Execute"} {
		if !slices.Contains(syms, want) {
			t.Errorf("symbol %s not linked in", want)
		}
	}
}

func build(t *testing.T, goos, goarch string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "canary")
	if goos == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build for %s/%s: %v\n%s", goos, goarch, err, out)
	}
	return bin
}
