package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// The harness streams a payload as base64 on the standard input of one
// PowerShell process, which decodes it into the file and prints its hash.
func TestStdinUpload(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	payload := bytes.Repeat([]byte("MZ\x90\x00 canary "), 50000)
	script := "$b = [Convert]::FromBase64String([Console]::In.ReadToEnd()); " +
		"[IO.File]::WriteAllBytes('C:\\ProgramData\\up\\p.exe', $b); " +
		"(Get-FileHash -Algorithm SHA256 -Path 'C:\\ProgramData\\up\\p.exe').Hash"
	in := base64.StdEncoding.EncodeToString(payload) + "\r\n"
	var out, errs strings.Builder
	mkdir := encodedPS("[IO.Directory]::CreateDirectory('C:\\ProgramData\\up') | Out-Null")
	if code, o, e := run(h, adminSession, mkdir); code != 0 {
		t.Fatalf("mkdir: exit %d: %s%s", code, o, e)
	}
	code := h.RunCommand(context.Background(), adminSession, encodedPS(script),
		strings.NewReader(in), &out, &errs)
	sum := sha256.Sum256(payload)
	if code != 0 || strings.TrimSpace(strings.ToLower(out.String())) != hex.EncodeToString(sum[:]) {
		t.Fatalf("got exit %d, stdout %q, stderr %q; want exit 0 and the SHA-256", code,
			out.String(), errs.String())
	}
	if f := h.file(`C:\ProgramData\up\p.exe`); f == nil || !bytes.Equal(f.Data, payload) {
		t.Fatal("the file on the host does not hold the payload")
	}
}

func TestStdinReadLineAndEmpty(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	var out, errs strings.Builder
	script := "$a = [Console]::In.ReadLine(); $b = [Console]::In.ReadLine(); " +
		"$c = [Console]::In.ReadLine(); \"$a|$b|$($c -eq $null)\""
	code := h.RunCommand(context.Background(), adminSession, encodedPS(script),
		strings.NewReader("one\r\ntwo"), &out, &errs)
	if code != 0 || out.String() != "one|two|True\r\n" {
		t.Errorf("got exit %d, %q %q; want one|two|True", code, out.String(), errs.String())
	}
	// No stdin at all (a plain command): ReadToEnd returns the empty string.
	code, o, e := run(h, adminSession, encodedPS("'[' + [Console]::In.ReadToEnd() + ']'"))
	if code != 0 || o != "[]\r\n" {
		t.Errorf("got exit %d, %q %q; want []", code, o, e)
	}
	code, _, e = run(h, adminSession, encodedPS("[Console]::In.Peek()"))
	if code != 1 || !strings.Contains(e, "does not contain a method named") {
		t.Errorf("got exit %d, %q; want a method error", code, e)
	}
}
