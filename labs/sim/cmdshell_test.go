package sim

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{`binPath= "C:\Program Files\x.exe -k"`, []string{"binPath=", `C:\Program Files\x.exe -k`}},
		{`"a\"b" c`, []string{`a"b`, "c"}},
		{`a\\\\"b c"`, []string{`a\\b c`}},
		{`a\\\"b`, []string{`a\"b`}},
		{`"" x`, []string{"", "x"}},
		{`"a""b"`, []string{`a"b`}},
		{`C:\dir\ x`, []string{`C:\dir\`, "x"}},
	}
	for _, tt := range tests {
		if got := splitArgs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitArgs(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestCmdSwitchesQuoteRule(t *testing.T) {
	tests := []struct{ in, want string }{
		{`/c whoami`, "whoami"},
		{`/Q /c echo a`, "echo a"},
		{`/c "C:\x.exe"`, `"C:\x.exe"`},
		{`/c ""C:\Program Files\x.exe" -a"`, `"C:\Program Files\x.exe" -a`},
		{`/S /c "echo a"`, "echo a"},
	}
	for _, tt := range tests {
		got, ok := cmdSwitches(tt.in)
		if !ok || got != tt.want {
			t.Errorf("cmdSwitches(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestCmdOutputAndErrors(t *testing.T) {
	tests := []struct {
		line   string
		code   int
		stdout string
		stderr string
	}{
		{"hostname", 0, "WS01\r\n", ""},
		{"whoami", 0, "lab\\labadmin\r\n", ""},
		{"frobnicate /x", 1, "", "'frobnicate' is not recognized as an internal or external " +
			"command,\r\noperable program or batch file.\r\n"},
		{"echo a & echo b", 0, "a \r\nb\r\n", ""},
		{"hostname && frob || echo recovered", 0, "WS01\r\nrecovered\r\n",
			"'frob' is not recognized"},
		{"exit /b 7", 7, "", ""},
		{"echo x ^& y", 0, "x & y\r\n", ""},
		{"cmd /c " + strings.Repeat("a", maxCmdLine+1), 1, "", "The command line is too long."},
		{`type C:\nope.txt`, 1, "", "The system cannot find the file specified."},
	}
	for _, tt := range tests {
		h := testLab(t, "WS01").Host("WS01")
		code, out, errs := run(h, adminSession, tt.line)
		if code != tt.code || out != tt.stdout || !strings.Contains(errs, tt.stderr) {
			t.Errorf("%.40s: got %d %q %q; want %d %q %q", tt.line, code, out, errs,
				tt.code, tt.stdout, tt.stderr)
		}
	}
}

// Commands arriving over WinRM run as winrshost.exe -> cmd.exe /c, after a
// network logon.
func TestWinRSLineage(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, "whoami", 0)
	mustRun(t, h, "hostname", 0)
	logons := records(h, telemetry.ChannelSecurity, 4624)
	if len(logons) != 1 || logons[0].Get("LogonType") != "3" ||
		logons[0].Get("IpAddress") != "10.10.0.5" {
		t.Fatalf("got %d logons; want one type 3 from 10.10.0.5 for the shell", len(logons))
	}
	var chain []string
	for _, r := range records(h, telemetry.ChannelSysmon, 1) {
		chain = append(chain, baseName(r.Get("ParentImage"))+">"+baseName(r.Get("Image")))
	}
	want := []string{"svchost.exe>winrshost.exe", "winrshost.exe>cmd.exe",
		"cmd.exe>conhost.exe", "cmd.exe>whoami.exe", "winrshost.exe>cmd.exe",
		"cmd.exe>conhost.exe", "cmd.exe>HOSTNAME.EXE"}
	if !slices.Equal(chain, want) {
		t.Errorf("got process chain %q; want %q", chain, want)
	}
}

// A payload of a few MB goes up in base64 chunks appended with echo, each
// command line under cmd.exe's limit, then certutil -decode writes it.
func TestChunkedUploadWithEchoAndCertutil(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	payload := make([]byte, 3<<20)
	if _, err := rand.Read(payload); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(payload)
	const chunk = 8000
	mustRun(t, h, `mkdir C:\LabStage\run1`, 0)
	for i := 0; i < len(b64); i += chunk {
		line := "echo " + b64[i:min(i+chunk, len(b64))] + `>> C:\LabStage\run1\p.b64`
		if len(line) > maxCmdLine {
			t.Fatalf("chunk line of %d bytes exceeds cmd.exe's limit", len(line))
		}
		mustRun(t, h, line, 0)
	}
	out := mustRun(t, h, `certutil -decode C:\LabStage\run1\p.b64 C:\LabStage\run1\p.exe`, 0)
	if !strings.Contains(out, "CertUtil: -decode command completed successfully.") {
		t.Errorf("got %q", out)
	}
	got, _ := h.ReadFile(`C:\LabStage\run1\p.exe`)
	if !bytes.Equal(got, payload) {
		t.Fatalf("got %d bytes back; want the %d-byte payload", len(got), len(payload))
	}
	mustRun(t, h, `certutil -decode C:\LabStage\run1\p.b64 C:\LabStage\run1\p.exe`,
		-2147024816)
}

// The PowerShell form: WriteAllBytes for the first chunk, Add-Content
// -Encoding Byte for the rest, each script sent as -EncodedCommand.
func TestChunkedUploadWithPowerShell(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	payload := make([]byte, 200_000)
	if _, err := rand.Read(payload); err != nil {
		t.Fatal(err)
	}
	const chunk = 2000 // bytes per script, so that the encoded line fits 8191
	for i := 0; i < len(payload); i += chunk {
		part := base64.StdEncoding.EncodeToString(payload[i:min(i+chunk, len(payload))])
		script := "$b = [Convert]::FromBase64String('" + part + "'); " +
			`Add-Content -Path 'C:\Users\Public\p.exe' -Value $b -Encoding Byte`
		if i == 0 {
			script = "[IO.File]::WriteAllBytes('C:\\Users\\Public\\p.exe', " +
				"[Convert]::FromBase64String('" + part + "'))"
		}
		line := encodedPS(script)
		if len(line) > maxCmdLine {
			t.Fatalf("script line of %d bytes exceeds cmd.exe's limit", len(line))
		}
		mustRun(t, h, line, 0)
	}
	got, _ := h.ReadFile(`C:\Users\Public\p.exe`)
	if !bytes.Equal(got, payload) {
		t.Fatalf("got %d bytes back; want the %d-byte payload", len(got), len(payload))
	}
	out := mustRun(t, h, encodedPS(`(Get-FileHash C:\Users\Public\p.exe).Hash`), 0)
	if len(strings.TrimSpace(out)) != 64 {
		t.Errorf("got hash %q; want a SHA256", out)
	}
	out = mustRun(t, h, encodedPS(`Test-Path C:\Users\Public\p.exe`), 0)
	if strings.TrimSpace(out) != "True" {
		t.Errorf("got Test-Path %q; want True", out)
	}
}

// The smbexec ImagePath: the service's cmd.exe writes a batch file that a
// second cmd.exe runs, redirecting output to the host's own C$ share.
func TestSmbexecBatchAndOutputShare(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, `sc.exe create BTOBTO binPath= "%COMSPEC% /Q /c echo whoami ^> `+
		`\\%COMPUTERNAME%\C$\__output 2^>^&1 > %SYSTEMROOT%\x.bat & %COMSPEC% /Q /c `+
		`%SYSTEMROOT%\x.bat & del %SYSTEMROOT%\x.bat"`, 0)
	mustRun(t, h, "sc.exe start BTOBTO", 1053)
	out, ok := h.ReadFile(`C:\__output`)
	if !ok || strings.TrimSpace(string(out)) != `nt authority\system` {
		t.Errorf("got output file %q, %v; want whoami's SYSTEM", out, ok)
	}
	if _, ok := h.ReadFile(`C:\Windows\x.bat`); ok {
		t.Error("got the batch file left; want it deleted by the service command")
	}
}

func TestWaitAndInventoryTools(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	before := h.Now()
	out := mustRun(t, h, "ping -n 3 127.0.0.1 > nul & wmic csproduct get UUID", 0)
	if d := h.Now().Sub(before); d < 2*time.Second {
		t.Errorf("got %v after ping -n 3; want at least 2s of host time", d)
	}
	if !strings.HasPrefix(out, "UUID") {
		t.Errorf("got %q; want wmic's UUID table", out)
	}
	mustRun(t, h, "fsutil behavior set SymlinkEvaluation R2L:1", 0)
	mustRun(t, h, "timeout /t 5 /nobreak", 1)
	mustRun(t, h, "ping -n 1 nowhere.example", 1)
}

func TestEventLogWrapsKeepingRecordIDs(t *testing.T) {
	var log eventLog
	for range maxRecordsPerChannel + 5 {
		log.append(&Record{})
	}
	if n := len(log.records); n > maxRecordsPerChannel || n < maxRecordsPerChannel*9/10 {
		t.Fatalf("got %d records; want the newest, at most %d", n, maxRecordsPerChannel)
	}
	if last := log.records[len(log.records)-1].RecordID; last != maxRecordsPerChannel+5 {
		t.Errorf("got last record ID %d; want %d", last, maxRecordsPerChannel+5)
	}
}

func TestParseRedirects(t *testing.T) {
	tests := []struct {
		in, text string
		reds     []redirect
	}{
		{`echo a > C:\x.txt`, "echo a ", []redirect{{fd: 1, path: `C:\x.txt`}}},
		{`echo a>> "C:\my dir\x.txt" 2>&1`, "echo a ",
			[]redirect{{fd: 1, path: `C:\my dir\x.txt`, appends: true}, {fd: 2, toOut: true}}},
		{`whoami 2>nul`, "whoami ", []redirect{{fd: 2, path: "nul"}}},
		{`echo 2^>^&1 "a > b"`, `echo 2>&1 "a > b"`, nil},
		{`sort < in.txt`, "sort ", []redirect{{fd: 0, path: "in.txt"}}},
	}
	for _, tt := range tests {
		text, reds := parseRedirects(tt.in)
		if text != tt.text || !slices.Equal(reds, tt.reds) {
			t.Errorf("parseRedirects(%q) = %q, %+v; want %q, %+v", tt.in, text, reds,
				tt.text, tt.reds)
		}
	}
}

func TestDiskIsBounded(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	big := strings.Repeat("A", 4000)
	mustRun(t, h, `mkdir C:\LabStage`, 0)
	h.diskUsed = maxDiskBytes - 1000 // as if the disk were nearly full
	code, _, errs := run(h, adminSession, "echo "+big+`> C:\LabStage\x.txt`)
	if code != 1 || !strings.Contains(errs, "There is not enough space on the disk.") {
		t.Errorf("got %d %q; want a full disk", code, errs)
	}
}
