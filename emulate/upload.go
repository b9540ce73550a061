package emulate

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

// Upload writes data to path on host through r. The bytes travel as base64
// text appended to path + ".b64" one command at a time, are decoded into
// path by a last command, and are verified by their SHA-256, which that
// command prints. A DryRun prints one command per chunk and verifies
// nothing.
func Upload(ctx context.Context, r Runner, host, path string, data []byte) error {
	if len(data) > maxUpload {
		return fmt.Errorf("upload %s to %s: %d bytes exceed %d", path, host, len(data), maxUpload)
	}
	if strings.ContainsAny(path, "'\r\n") || !strings.Contains(path, `\`) {
		return fmt.Errorf("upload to %s: unsafe or relative path %q", host, path)
	}
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
