package emulate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/scenarios"
)

func readCLIXML(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "clixml", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// removeItemText is what PowerShell prints for the error in
// testdata/clixml/remove-item-not-found.clixml.
const removeItemText = `Remove-Item : Cannot find path 'C:\Windows\Temp\svc_x64.exe' ` +
	"because it does not exist.\n" +
	"At line:1 char:1\n" +
	`+ Remove-Item -LiteralPath 'C:\Windows\Temp\svc_x64.exe' -ErrorAction Stop` + "\n" +
	"+ " + "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~" +
	"\n" +
	`    + CategoryInfo          : ObjectNotFound: (C:\Windows\Temp\svc_x64.exe:String) ` +
	"[Remove-Item], ItemNotFoundException\n" +
	"    + FullyQualifiedErrorId : PathNotFound,Microsoft.PowerShell.Commands." +
	"RemoveItemCommand\n \n"

func TestDecodeCLIXML(t *testing.T) {
	const objs = "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" " +
		"xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">"
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"windows powershell error with progress", readCLIXML(t, "remove-item-not-found.clixml"),
			removeItemText, true},
		{"plain stderr", "Access is denied.\r\n", "Access is denied.\r\n", false},
		{"empty", "", "", false},
		{"entities and escapes", objs + `<S S="Error">a &lt;b&gt; &amp; c_x0009_d_x000A_</S>` +
			`</Objs>`, "a <b> & c\td\n", true},
		{"surrogate pair", objs + `<S S="Error">_xD83D__xDE00_ ok</S></Objs>`, "\U0001F600 ok",
			true},
		{"lone surrogate", objs + `<S S="Error">_xD83D_!</S></Objs>`, "\uFFFD!", true},
		{"underscore kept", objs + `<S S="Error">svc_x005F_x1 and _xZZZZ_ and _x12</S></Objs>`,
			"svc_x1 and _xZZZZ_ and _x12", true},
		{"only errors", objs + `<S S="verbose">v</S><S S="Error">e</S><S S="warning">w</S>` +
			`<Obj S="information" RefId="1"><MS><S S="Error">nested</S></MS></Obj></Objs>`,
			"e", true},
		{"two documents", objs + `<S S="Error">one_x000D__x000A_</S></Objs>` + "\r\n" +
			objs + `<S S="Error">two_x000D__x000A_</S></Objs>`, "one\ntwo\n", true},
		{"text before", "warning from cmd\r\n" + objs + `<S S="Error">e</S></Objs>`,
			"warning from cmd\ne", true},
		{"no errors", objs + `<Obj S="progress" RefId="0"><MS/></Obj></Objs>`, "", true},
		{"truncated", objs + `<S S="Error">half`, objs + `<S S="Error">half`, false},
		{"doctype", "#< CLIXML\r\n<!DOCTYPE Objs [<!ENTITY x \"y\">]><Objs><S S=\"Error\">&x;" +
			"</S></Objs>", "#< CLIXML\r\n<!DOCTYPE Objs [<!ENTITY x \"y\">]><Objs>" +
			"<S S=\"Error\">&x;</S></Objs>", false},
		{"too deep", objs + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + "</Objs>",
			objs + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + "</Objs>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := DecodeCLIXML(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestRunDecodesCLIXMLStderr: a PowerShell error arrives as CLIXML on
// stderr; Result.Stderr holds the text and RawStderr what was sent.
func TestRunDecodesCLIXMLStderr(t *testing.T) {
	f := newFake(t)
	f.stdout, f.exitCode = "", 1
	f.stderr = readCLIXML(t, "remove-item-not-found.clixml")
	c := newTestClient(t, f.target(), nil)
	res, err := c.Run(context.Background(), scenarios.PowerShell, "Remove-Item x")
	if err != nil {
		t.Fatal(err)
	}
	if res.Stderr != removeItemText {
		t.Errorf("got Stderr %q; want %q", res.Stderr, removeItemText)
	}
	if res.RawStderr != f.stderr {
		t.Errorf("got RawStderr %q; want the stream as sent", res.RawStderr)
	}
}

// TestStepErrorsShowCLIXMLAsText: a failed step's error quotes the error
// text, also from a Runner that passes CLIXML on undecoded.
func TestStepErrorsShowCLIXMLAsText(t *testing.T) {
	raw := readCLIXML(t, "remove-item-not-found.clixml")
	r := &scripted{rules: []rule{{contains: "", res: Result{ExitCode: 1, Stderr: raw,
		RawStderr: raw}}}}
	_, err := run(context.Background(), r, "WS01", "read clock", "Get-Date")
	want := `exit 1: Remove-Item : Cannot find path 'C:\Windows\Temp\svc_x64.exe'`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v; want it to contain %q", err, want)
	}
	sr := runCommand(context.Background(), r, scenarios.Command{Host: "WS01",
		Shell: scenarios.PowerShell, Line: "Remove-Item x", ExpectExit: []int{0}})
	if sr.Err == nil || !strings.Contains(sr.Err.Error(), "Remove-Item : Cannot find path") {
		t.Errorf("got %v; want the PowerShell error text", sr.Err)
	}
}

func FuzzDecodeCLIXML(f *testing.F) {
	f.Add(readCLIXML(f, "remove-item-not-found.clixml"))
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := DecodeCLIXML(in)
		if !ok && out != in {
			t.Errorf("got %q for undecodable input; want it unchanged", out)
		}
		if len(out) > len(in) {
			t.Errorf("got %d bytes out of %d in; decoding never grows", len(out), len(in))
		}
	})
}
