package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

func TestPowerShellScripts(t *testing.T) {
	tests := []struct {
		name, script string
		code         int
		stdout       string // exact, "" to skip
		contains     string // in stdout+stderr
	}{
		{"write", "Write-Output 'a'; 'b'", 0, "a\r\nb\r\n", ""},
		{"arith and vars", "$x = 2; $y = $x * 3 + 1; \"x=$x y=$y\"", 0, "x=2 y=7\r\n", ""},
		{"if else", "if (Test-Path 'C:\\nope') { 'yes' } else { 'no' }", 0, "no\r\n", ""},
		{"exit code", "exit 42", 42, "", ""},
		{"not found", "Frob-Thing -X 1", 1, "", "Frob-Thing : The term 'Frob-Thing' is not " +
			"recognized as the name of a cmdlet, function, script file, or operable program."},
		{"not found type", "Frob-Thing", 1, "", "CommandNotFoundException"},
		{"erroraction", "Get-Service nope -ErrorAction SilentlyContinue; 'after'", 0,
			"after\r\n", ""},
		{"try catch stop", "try { Get-Service nope -ErrorAction Stop } catch { 'caught' }", 0,
			"caught\r\n", ""},
		{"where", "Get-Service | ? { $_.Status -eq 'Running' -and $_.Name -like 'Spo*' } |" +
			" Select-Object -ExpandProperty Name", 0, "Spooler\r\n", ""},
		{"native exit", "sc.exe query nope; exit $LASTEXITCODE", 1060, "", "FAILED 1060"},
		{"native fails", "sc.exe query nope", 1, "", "FAILED 1060"},
		{"remove-service", "New-Service -Name T1 -BinaryPathName 'C:\\x.exe' | Out-Null;" +
			" Remove-Service -Name T1; (Get-Service T1 -ErrorAction SilentlyContinue).Count", 0,
			"0\r\n", ""},
		{"wmi delete", "New-Service -Name T2 -BinaryPathName 'C:\\x.exe' | Out-Null; " +
			"(Get-WmiObject -Class Win32_Service -Filter \"Name='T2'\").Delete().ReturnValue",
			0, "0\r\n", ""},
		{"set-service", "Set-Service -Name Fax -StartupType Automatic; " +
			"(Get-Service Fax).StartType", 0, "Automatic\r\n", ""},
		{"utcnow", "[DateTime]::UtcNow.ToString('o')", 0, "", "2026-03-02T09:"},
		{"syntax", "Get-Service (", 1, "", "ParserError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testLab(t, "WS01").Host("WS01")
			code, out, errs := run(h, adminSession, encodedPS(tt.script))
			if code != tt.code {
				t.Errorf("got exit %d; want %d\n%s%s", code, tt.code, out, errs)
			}
			if tt.stdout != "" && out != tt.stdout {
				t.Errorf("got stdout %q; want %q", out, tt.stdout)
			}
			if !strings.Contains(out+errs, tt.contains) {
				t.Errorf("got %q; want it to contain %q", out+errs, tt.contains)
			}
		})
	}
}

// Get-WinEvent -FilterHashtable with every key the harness uses, and the
// time window it derives from Get-Date.
func TestGetWinEventFilterHashtable(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, `sc.exe create Early binPath= C:\x.exe`, 0)
	h.advance(10 * time.Minute)
	start := h.Now()
	mustRun(t, h, `sc.exe create Late binPath= C:\y.exe`, 0)
	script := "$s = [DateTime]::Parse('" + start.Format(time.RFC3339Nano) + "'); " +
		"Get-WinEvent -FilterHashtable @{LogName='System','Security'; Id=7045,4697; " +
		"ProviderName='Service Control Manager'; StartTime=$s; " +
		"EndTime=(Get-Date).AddMinutes(1)} | ForEach-Object { $_.ToXml() }"
	out := mustRun(t, h, encodedPS(script), 0)
	evs := decodeXML(t, "Get-WinEvent", out)
	if len(evs) != 1 || evs[0].Value("ServiceName") != "Late" || evs[0].EventID != 7045 {
		t.Fatalf("got %d events (%v); want the one 7045 for Late", len(evs), evs)
	}
	code, _, errs := run(h, adminSession, encodedPS("Get-WinEvent -FilterHashtable "+
		"@{LogName='System'; Id=7045; StartTime=(Get-Date).AddMinutes(5)}"))
	if code != 1 || !strings.Contains(errs, "No events were found that match the specified "+
		"selection criteria.") {
		t.Errorf("got %d %q; want 1 and NoMatchingEventsFound", code, errs)
	}
}

func TestGetWinEventNewestFirst(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, `sc.exe create A1 binPath= C:\x.exe`, 0)
	mustRun(t, h, `sc.exe create A2 binPath= C:\x.exe`, 0)
	out := mustRun(t, h, encodedPS("Get-WinEvent -LogName System -MaxEvents 1 | "+
		"% { $_.ToXml() }"), 0)
	evs := decodeXML(t, "newest", out)
	if len(evs) != 1 || evs[0].Value("ServiceName") != "A2" {
		t.Errorf("got %v; want the newest record (A2)", evs)
	}
}

func TestWevtutilXPath(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, `sc.exe create Q1 binPath= C:\x.exe`, 0)
	tests := []struct {
		query string
		want  int
	}{
		{"*[System[(EventID=7045)]]", 1},
		{"*[System[(EventID=7036 or EventID=7045)]]", 1},
		{"*[System[Provider[@Name='Service Control Manager'] and EventID=7045]]", 1},
		{"*[System[TimeCreated[timediff(@SystemTime) <= 86400000]]]", 1},
		{"*[System[TimeCreated[@SystemTime>='2030-01-01T00:00:00.000Z']]]", 0},
		{"*[EventData[Data[@Name='ServiceName']='Q1']]", 1},
		{"*[EventData[Data[@Name='ServiceName']='Q2']]", 0},
	}
	for _, tt := range tests {
		out := mustRun(t, h, `wevtutil qe System /q:"`+tt.query+`" /f:xml`, 0)
		if got := len(decodeXML(t, tt.query, out)); got != tt.want {
			t.Errorf("%s: got %d events; want %d", tt.query, got, tt.want)
		}
	}
	code, _, _ := run(h, adminSession, `wevtutil qe System /q:"*[System[(EventID=]]"`)
	if code != 15001 {
		t.Errorf("got exit %d for a bad query; want 15001", code)
	}
}

func TestPowerShellServiceCmdletsLeaveTheirMark(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	mustRun(t, h, encodedPS("New-Service -Name 'AtomicTestService_PowerShell' "+
		"-BinaryPathName 'C:\\Windows\\System32\\calc.exe' -StartupType Manual | Out-Null"), 0)
	mustRun(t, h, encodedPS("Start-Service -Name 'AtomicTestService_PowerShell'"), 1)
	recs := records(h, telemetry.ChannelSystem, 7045)
	if len(recs) != 1 || recs[0].Get("StartType") != "demand start" {
		t.Fatalf("got %v; want one demand-start 7045", recs)
	}
	var fromPS bool
	for _, r := range records(h, telemetry.ChannelSysmon, 1) {
		fromPS = fromPS || (strings.HasSuffix(r.Get("ParentImage"), `\services.exe`) &&
			strings.HasSuffix(r.Get("Image"), `\calc.exe`))
	}
	if !fromPS {
		t.Error("got no services.exe -> calc.exe after Start-Service")
	}
}

// Under WinRS, powershell.exe -EncodedCommand writes its error stream as
// CLIXML, which pywinrm's run_ps unpacks and masterzen/winrm passes on.
func TestEncodedCommandErrorsAreCLIXML(t *testing.T) {
	h := testLab(t, "WS01").Host("WS01")
	code, _, errs := run(h, adminSession, encodedPS("Get-Service nope_x"))
	if code != 1 {
		t.Errorf("got exit %d; want 1", code)
	}
	const head = "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" " +
		"xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S S=\"Error\">" +
		"Get-Service : Cannot find any service with service name 'nope_x005F_x'." +
		"_x000D__x000A_</S><S S=\"Error\">At line:1 char:1_x000D__x000A_</S>"
	if !strings.HasPrefix(errs, head) || !strings.HasSuffix(errs, "</Objs>") {
		t.Errorf("got stderr %q; want CLIXML starting %q", errs, head)
	}
	_, _, plain := run(h, adminSession, `powershell.exe -Command "Get-Service nope"`)
	if !strings.HasPrefix(plain, "Get-Service : Cannot find any service") {
		t.Errorf("got stderr %q; want plain text with -Command", plain)
	}
}
