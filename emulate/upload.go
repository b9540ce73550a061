package emulate

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/svcharness/svcharness/scenarios"
)

// ErrCommandFailed matches a harness command (an upload, a check) that ran
// but did not do its job; like every emulation failure it matches
// ErrEmulation.
var ErrCommandFailed = emulationKind("harness command failed")

// uploadChunk is the base64 text sent per command. WinRS runs commands
// through cmd.exe, whose line limit is 8191 characters, and
// -EncodedCommand inflates a script about 2.7 times (UTF-16LE, then
// base64): 2400 characters of payload keep each line near 6.7 KB.
const uploadChunk = 2400

// maxUpload bounds a payload; the canary is a few megabytes.
const maxUpload = 64 << 20

// Upload writes data to path on host through r and verifies it by its
// SHA-256, which the host prints. With an InputRunner the bytes travel as
// base64 on the standard input of one PowerShell command that decodes them
// into path: one command, whatever the payload's size. Without one, or when
// that command ran but left a wrong file (a host whose PowerShell does not
// read stdin that way), they travel as base64 text appended to path + ".b64"
// one command line at a time and are decoded by a last command; a payload of
// a few megabytes then takes thousands of commands. A DryRun prints the
// commands and verifies nothing.
func Upload(ctx context.Context, r Runner, host, path string, data []byte) error {
	if len(data) > maxUpload {
		return fmt.Errorf("upload %s to %s: %d bytes exceed %d", path, host, len(data), maxUpload)
	}
	if strings.ContainsAny(path, "'\r\n") || !strings.Contains(path, `\`) {
		return fmt.Errorf("upload to %s: unsafe or relative path %q", host, path)
	}
	ir, ok := r.(InputRunner)
	if !ok {
		return chunkUpload(ctx, r, host, path, data)
	}
	err := streamUpload(ctx, ir, host, path, data)
	if err == nil || !errors.Is(err, ErrCommandFailed) {
		return err
	}
	if err2 := chunkUpload(ctx, r, host, path, data); err2 != nil {
		return fmt.Errorf("%w (streaming it had failed too: %v)", err2, err)
	}
	return nil
}

// streamUpload sends the payload on stdin to one PowerShell command.
func streamUpload(ctx context.Context, r InputRunner, host, path string, data []byte) error {
	dir := path[:strings.LastIndexByte(path, '\\')]
	line := fmt.Sprintf("[IO.Directory]::CreateDirectory('%s') | Out-Null; "+
		"$b = [Convert]::FromBase64String([Console]::In.ReadToEnd()); "+
		"[IO.File]::WriteAllBytes('%s', $b); "+
		"(Get-FileHash -Algorithm SHA256 -Path '%s').Hash", dir, path, path)
	text := base64.StdEncoding.EncodeToString(data) + "\r\n"
	res, err := r.RunInput(ctx, host, scenarios.PowerShell, line, strings.NewReader(text))
	if err != nil {
		return fmt.Errorf("stream upload of %s on %s: %w", path, host, err)
	}
	if res.DryRun {
		return nil
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("stream upload of %s on %s: exit %d: %s: %w", path, host,
			res.ExitCode, firstLine(stderrText(res.Stderr)), ErrCommandFailed)
	}
	return checkHash(res, host, path, data)
}

// chunkUpload appends the payload's base64 to a file one command at a time.
func chunkUpload(ctx context.Context, r Runner, host, path string, data []byte) error {
	tmp := path + ".b64"
	dir := path[:strings.LastIndexByte(path, '\\')]
	first := fmt.Sprintf("[IO.Directory]::CreateDirectory('%s') | Out-Null; "+
		"[IO.File]::WriteAllText('%s', '')", dir, tmp)
	if _, err := run(ctx, r, host, "prepare upload of "+path, first); err != nil {
		return err
	}
	text := base64.StdEncoding.EncodeToString(data)
	for off := 0; off < len(text); off += uploadChunk {
		chunk := text[off:min(off+uploadChunk, len(text))]
		line := fmt.Sprintf("[IO.File]::AppendAllText('%s', '%s')", tmp, chunk)
		if _, err := run(ctx, r, host, "upload "+path, line); err != nil {
			return err
		}
	}
	return finishUpload(ctx, r, host, path, tmp, data)
}

func finishUpload(ctx context.Context, r Runner, host, path, tmp string, data []byte) error {
	last := fmt.Sprintf("[IO.File]::WriteAllBytes('%s', [Convert]::FromBase64String("+
		"[IO.File]::ReadAllText('%s'))); Remove-Item -Path '%s' -Force; "+
		"(Get-FileHash -Algorithm SHA256 -Path '%s').Hash", path, tmp, tmp, path)
	res, err := run(ctx, r, host, "decode upload of "+path, last)
	if err != nil || res.DryRun {
		return err
	}
	return checkHash(res, host, path, data)
}

// checkHash compares the SHA-256 a host printed with the payload's.
func checkHash(res Result, host, path string, data []byte) error {
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	if got := strings.ToLower(strings.TrimSpace(res.Stdout)); got != want {
		return fmt.Errorf("upload %s to %s: SHA-256 on the host is %q, want %s: %w",
			path, host, got, want, ErrCommandFailed)
	}
	return nil
}

// run runs one harness PowerShell command and treats a non-zero exit as a
// failure of the emulation.
func run(ctx context.Context, r Runner, host, what, line string) (Result, error) {
	res, err := r.Run(ctx, host, scenarios.PowerShell, line)
	if err != nil {
		return res, fmt.Errorf("%s on %s: %w", what, host, err)
	}
	if !res.DryRun && res.ExitCode != 0 {
		return res, fmt.Errorf("%s on %s: exit %d: %s: %w", what, host, res.ExitCode,
			firstLine(stderrText(res.Stderr)), ErrCommandFailed)
	}
	return res, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return clip(s)
}
