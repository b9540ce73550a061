package sim

import (
	"context"
	"io"
	"testing"
	"time"
)

// Command lines come from WinRM clients; none may crash the host model.
func FuzzRunCommand(f *testing.F) {
	for _, s := range []string{
		`sc.exe create X binPath= "%COMSPEC% /c echo a > C:\m.txt" start= demand`,
		`echo a ^& b >> C:\x.txt 2>&1 & type C:\x.txt | findstr /i A`,
		`reg add "HKLM\SYSTEM\CurrentControlSet\Services\X" /v Start /t REG_DWORD /d 0x3 /f`,
		`C:\LabTools\PsExec.exe \\WS02 -accepteula -s -r Y cmd /c exit 2`,
		`cmd /S /c ""C:\Program Files\x.exe" -a"`,
		`wevtutil qe System /q:"*[System[(EventID=7045 or EventID=7036)]]" /c:2 /rd:true`,
	} {
		f.Add(s)
	}
	l := testLab(f, "WS01", "WS02")
	h := l.Host("WS01")
	f.Fuzz(func(t *testing.T, line string) {
		// The deadline only guards against a command that waits, as a
		// PsExec of a GUI program does; it asserts nothing.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		h.RunCommand(ctx, adminSession, line, nil, io.Discard, io.Discard)
	})
}

func FuzzPowerShell(f *testing.F) {
	for _, s := range []string{
		"Get-WinEvent -FilterHashtable @{LogName='System'; Id=7045,7036} | % { $_.ToXml() }",
		"$x = \"a$($env:COMPUTERNAME)b`n\"; if ($x -like 'a*') { exit 3 } else { 'no' }",
		"[IO.File]::WriteAllBytes('C:\\p', [Convert]::FromBase64String('QUJD'))",
		"try { Get-Service nope -ErrorAction Stop } catch { $_ }",
		"New-ItemProperty -Path HKLM:\\SOFTWARE\\X -Name V -PropertyType DWord -Value 1",
	} {
		f.Add(s)
	}
	l := testLab(f, "WS01")
	h := l.Host("WS01")
	f.Fuzz(func(t *testing.T, script string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		h.RunCommand(ctx, adminSession, encodedPS(script), nil, io.Discard, io.Discard)
	})
}

func FuzzXPath(f *testing.F) {
	for _, s := range []string{
		"*[System[(EventID=1 or EventID=3) and Provider[@Name='Microsoft-Windows-Sysmon']]]",
		"*[System[TimeCreated[@SystemTime>='2026-01-01T00:00:00Z' or " +
			"timediff(@SystemTime) <= 3600000]]]",
		"*[EventData[Data[@Name='ServiceName']='PSEXESVC']]",
	} {
		f.Add(s)
	}
	rec := &Record{Channel: "System", Provider: providerSCM, EventID: 7045,
		Time: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	rec.Data = fields{{Name: "ServiceName", Value: "PSEXESVC"}}
	f.Fuzz(func(t *testing.T, q string) {
		m, err := compileXPath(q, rec.Time)
		if err == nil {
			m(rec)
		}
	})
}
