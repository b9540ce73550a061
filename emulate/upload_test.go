package emulate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/scenarios"
)

// fileHost is a Runner that interprets exactly the commands Upload sends,
// standing in for a host's disk.
type fileHost struct {
	files   map[string][]byte
	lines   []string
	corrupt bool
}

var (
	appendRe = regexp.MustCompile(`^\[IO\.File\]::AppendAllText\('([^']+)', '([^']*)'\)$`)
	decodeRe = regexp.MustCompile(`^\[IO\.File\]::WriteAllBytes\('([^']+)', ` +
		`\[Convert\]::FromBase64String\(\[IO\.File\]::ReadAllText\('([^']+)'\)\)\)`)
)

func (h *fileHost) Run(_ context.Context, _ string, shell scenarios.Shell,
	line string) (Result, error) {
	h.lines = append(h.lines, line)
	if shell != scenarios.PowerShell {
		return Result{ExitCode: 1}, nil
	}
	switch {
	case strings.HasPrefix(line, "[IO.Directory]::CreateDirectory"):
		return Result{}, nil
	case appendRe.MatchString(line):
		m := appendRe.FindStringSubmatch(line)
		h.files[m[1]] = append(h.files[m[1]], m[2]...)
	case decodeRe.MatchString(line):
		m := decodeRe.FindStringSubmatch(line)
		data, err := base64.StdEncoding.DecodeString(string(h.files[m[2]]))
		if err != nil {
			return Result{ExitCode: 1, Stderr: err.Error()}, nil
		}
		if h.corrupt {
			data[0] ^= 1
		}
		h.files[m[1]] = data
		sum := sha256.Sum256(data)
		return Result{Stdout: strings.ToUpper(hex.EncodeToString(sum[:])) + "\r\n"}, nil
	default:
		return Result{ExitCode: 1, Stderr: "unexpected: " + line}, nil
	}
	return Result{}, nil
}

func TestUploadReassemblesThePayload(t *testing.T) {
	data := bytes.Repeat([]byte("MZ\x90\x00canary"), 3000) // 30 000 bytes, 17 chunks
	h := &fileHost{files: map[string][]byte{}}
	path := `C:\Users\Public\abcdefgh.exe`
	if err := Upload(context.Background(), h, "WS01", path, data); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if !bytes.Equal(h.files[path], data) {
		t.Errorf("got %d bytes on the host; want the %d uploaded", len(h.files[path]), len(data))
	}
	for _, line := range h.lines {
		wire, err := commandLine(scenarios.PowerShell, line)
		if err != nil {
			t.Fatal(err)
		}
		if len(wire) > 8191 {
			t.Errorf("command line of %d characters exceeds cmd.exe's 8191", len(wire))
		}
	}
}

func TestUploadDetectsCorruption(t *testing.T) {
	h := &fileHost{files: map[string][]byte{}, corrupt: true}
	err := Upload(context.Background(), h, "WS01", `C:\x\y.exe`, []byte("payload"))
	if !errors.Is(err, ErrCommandFailed) || !errors.Is(err, ErrEmulation) {
		t.Errorf("got %v; want ErrCommandFailed", err)
	}
}

func TestUploadRefusesUnsafePaths(t *testing.T) {
	for _, p := range []string{`C:\it's.exe`, "relative.exe", "C:\\a\nb.exe"} {
		if err := Upload(context.Background(), &DryRun{}, "WS01", p, []byte("x")); err == nil {
			t.Errorf("Upload(%q) succeeded; want refusal", p)
		}
	}
}

func TestUploadDryRunSendsNothing(t *testing.T) {
	var out bytes.Buffer
	d := &DryRun{Out: &out}
	if err := Upload(context.Background(), d, "WS01", `C:\x\y.exe`, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	if got := len(d.Commands()); got != 1 {
		t.Errorf("got %d dry-run commands; want the one streamed command", got)
	}
	if !strings.Contains(out.String(), "<<< 6 bytes on stdin") {
		t.Errorf("dry run printed %q; want the size of the input it would send", out.String())
	}
}

// streamHost is a fileHost that also takes input: it runs the streamed
// upload command the way a host whose PowerShell reads [Console]::In does,
// or, with ignoreStdin, the way one that never sees the input does.
type streamHost struct {
	fileHost
	ignoreStdin bool
	streamed    int
}

var streamRe = regexp.MustCompile(`\[Console\]::In\.ReadToEnd\(\)\); ` +
	`\[IO\.File\]::WriteAllBytes\('([^']+)', \$b\)`)

func (h *streamHost) RunInput(ctx context.Context, host string, shell scenarios.Shell,
	line string, stdin io.Reader) (Result, error) {
	m := streamRe.FindStringSubmatch(line)
	if m == nil || shell != scenarios.PowerShell {
		return Result{ExitCode: 1, Stderr: "unexpected: " + line}, nil
	}
	h.streamed++
	in, err := io.ReadAll(stdin)
	if err != nil {
		return Result{}, err
	}
	if h.ignoreStdin {
		in = nil
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(in)))
	if err != nil {
		return Result{ExitCode: 1, Stderr: err.Error()}, nil
	}
	h.files[m[1]] = data
	sum := sha256.Sum256(data)
	return Result{Stdout: strings.ToUpper(hex.EncodeToString(sum[:])) + "\r\n"}, nil
}

func TestUploadStreamsThroughAnInputRunner(t *testing.T) {
	data := bytes.Repeat([]byte("MZ\x90\x00canary"), 300000) // 3 MB
	h := &streamHost{fileHost: fileHost{files: map[string][]byte{}}}
	path := `C:\Users\Public\abcdefgh.exe`
	if err := Upload(context.Background(), h, "WS01", path, data); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if h.streamed != 1 || len(h.lines) != 0 {
		t.Errorf("got %d streamed and %d chunk commands; want one streamed command only",
			h.streamed, len(h.lines))
	}
	if !bytes.Equal(h.files[path], data) {
		t.Errorf("got %d bytes on the host; want the %d uploaded", len(h.files[path]), len(data))
	}
}

func TestUploadFallsBackToChunksWhenStdinIsNotRead(t *testing.T) {
	data := bytes.Repeat([]byte("payload "), 1000)
	h := &streamHost{fileHost: fileHost{files: map[string][]byte{}}, ignoreStdin: true}
	path := `C:\x\y.exe`
	if err := Upload(context.Background(), h, "WS01", path, data); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if h.streamed != 1 || len(h.lines) < 3 {
		t.Errorf("got %d streamed and %d chunk commands; want the stream, then chunks",
			h.streamed, len(h.lines))
	}
	if !bytes.Equal(h.files[path], data) {
		t.Errorf("got %d bytes on the host; want the %d uploaded", len(h.files[path]), len(data))
	}
	h.corrupt = true
	err := Upload(context.Background(), h, "WS01", path, data)
	if !errors.Is(err, ErrCommandFailed) || !strings.Contains(err.Error(), "streaming it had failed") {
		t.Errorf("got %v; want the chunk upload's failure and the stream's", err)
	}
}
