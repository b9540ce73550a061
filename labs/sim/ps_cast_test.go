package sim

import (
	"strings"
	"testing"
)

// TestPowerShellCasts covers the conversions scripts write as a type
// literal before a value, which PowerShell performs with the invariant
// culture: [DateTime]'…' in a Get-WinEvent filter is the common one.
func TestPowerShellCasts(t *testing.T) {
	tests := []struct {
		name, script string
		code         int
		stdout       string // exact, "" to skip
		contains     string // in stdout+stderr
	}{
		{"datetime utc", "([DateTime]'2026-12-03T10:00:00Z').ToString('o')", 0,
			"2026-12-03T10:00:00.0000000Z\r\n", ""},
		{"datetime lower double quotes", `([datetime]"2026-12-03T10:00:00Z").Year`, 0,
			"2026\r\n", ""},
		{"datetime offset", "([DateTime]'2026-12-03T12:30:00+02:00').ToString('o')", 0,
			"2026-12-03T10:30:00.0000000Z\r\n", ""},
		{"datetime space before operand", "([datetime] '2026-12-03 10:00:00').Hour", 0,
			"10\r\n", ""},
		{"datetime invariant month first", "([datetime]'12/03/2026 10:00').Month", 0,
			"12\r\n", ""},
		{"datetime system prefix", "([System.DateTime]'2026-12-03').Day", 0, "3\r\n", ""},
		{"datetime compares", "[datetime]'2026-12-03' -lt [datetime]'2026-12-04'", 0,
			"True\r\n", ""},
		{"datetime in filter", "$f = @{LogName='System'; StartTime=[datetime]'2026-01-01'};" +
			" $f.StartTime.Year", 0, "2026\r\n", ""},
		{"datetime from variable", "$s = '2026-12-03T10:00:00Z'; ([DateTime]$s).Minute", 0,
			"0\r\n", ""},
		{"datetime invalid", "[DateTime]'not a date'", 1, "",
			`Cannot convert value "not a date" to type "System.DateTime". Error: ` +
				`"String was not recognized as a valid DateTime."`},
		{"int", "[int]'42' + 1", 0, "43\r\n", ""},
		{"int rounds half to even", "[int]2.5; [int]3.5", 0, "2\r\n4\r\n", ""},
		{"int32 hex", "[int32]'0x10'", 0, "16\r\n", ""},
		{"long", "[long]'5000000000'", 0, "5000000000\r\n", ""},
		{"int overflow", "[int]'5000000000'", 1, "", `to type "System.Int32"`},
		{"int invalid", "[int]'abc'", 1, "",
			`Cannot convert value "abc" to type "System.Int32". Error: ` +
				`"Input string was not in a correct format."`},
		{"string", "[string]42 + 'x'", 0, "42x\r\n", ""},
		{"string of array", "[string](1,2,3)", 0, "1 2 3\r\n", ""},
		{"bool", "[bool]'false'; [bool]''; [bool]0", 0, "True\r\nFalse\r\nFalse\r\n", ""},
		{"double", "[double]'1.5' * 2", 0, "3\r\n", ""},
		{"void", "[void](New-Item -ItemType Directory -Path 'C:\\castdir'); 'after'", 0,
			"after\r\n", ""},
		{"nested casts", "[int][string]7", 0, "7\r\n", ""},
		{"unknown type", "[Frobnicator]'x'", 1, "", "Unable to find type [Frobnicator]."},
		{"static call still works", "[DateTime]::Parse('2026-12-03').Day", 0, "3\r\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testLab(t, "WS01").Host("WS01")
			code, out, errs := run(h, adminSession, "powershell.exe -Command \""+
				strings.ReplaceAll(tt.script, `"`, `\"`)+"\"")
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
