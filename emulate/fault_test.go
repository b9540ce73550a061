package emulate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readFault(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "faults", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFault(t *testing.T) {
	for _, tc := range []struct {
		file      string
		code      string
		subcode   string
		wsman     uint32
		machine   string
		message   string
		isAuth    bool
		isTimeout bool
	}{
		{"access-denied.xml", "s:Sender", "w:AccessDenied", CodeAccessDenied,
			"ws01.lab.local", "Access is denied.", true, false},
		{"internal-error.xml", "s:Receiver", "w:InternalError", 2147942606,
			"10.10.0.11", "The filename or extension is too long.", false, false},
		{"timed-out.xml", "s:Receiver", "w:TimedOut", CodeOperationTimedOut,
			"127.0.0.1", "within the time specified in OperationTimeout.", false, true},
		{"shell-not-found.xml", "s:Sender", "w:InvalidSelectors", CodeShellNotFound,
			"ws01.lab.local", "the shell was not found on the server", false, false},
		{"quota.xml", "s:Receiver", "w:QuotaLimit", CodeShellQuota,
			"ws01.lab.local", "maximum number of 30 concurrent shells", false, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := parseFault(readFault(t, tc.file))
			if err != nil {
				t.Fatalf("parseFault: %v", err)
			}
			if f.Code != tc.code || f.Subcode != tc.subcode || f.WSManCode != tc.wsman ||
				f.Machine != tc.machine {
				t.Errorf("got code %q subcode %q wsman %d machine %q; want %q %q %d %q",
					f.Code, f.Subcode, f.WSManCode, f.Machine,
					tc.code, tc.subcode, tc.wsman, tc.machine)
			}
			if !strings.Contains(f.Message, tc.message) {
				t.Errorf("got message %q; want it to contain %q", f.Message, tc.message)
			}
			if f.Reason == "" {
				t.Error("got empty reason")
			}
			if got := errors.Is(f, ErrAuth); got != tc.isAuth {
				t.Errorf("errors.Is(f, ErrAuth) = %v; want %v", got, tc.isAuth)
			}
			if got := errors.Is(f, ErrTimeout); got != tc.isTimeout {
				t.Errorf("errors.Is(f, ErrTimeout) = %v; want %v", got, tc.isTimeout)
			}
			if !errors.Is(f, ErrEmulation) {
				t.Error("a fault does not match ErrEmulation")
			}
		})
	}
}

// TestTimedOutFaultMentionsOperationTimeout guards the word masterzen/winrm
// keys its Receive retry on.
func TestTimedOutFaultMentionsOperationTimeout(t *testing.T) {
	f := &FaultError{Host: "WS01", Op: "Receive", HTTPStatus: 500, Subcode: "w:TimedOut",
		Reason: "server busy"}
	if !strings.Contains(f.Error(), "OperationTimeout") {
		t.Errorf("got %q; want it to mention OperationTimeout", f.Error())
	}
}

func TestParseFaultRefusesHostileBodies(t *testing.T) {
	const env = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">`
	deep := strings.Repeat("<a>", 200) + strings.Repeat("</a>", 200)
	for name, body := range map[string]string{
		"doctype": `<!DOCTYPE x [<!ENTITY e "boom">]><s:Envelope ` +
			`xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault/></s:Body></s:Envelope>`,
		"no fault":  env + `<s:Body/></s:Envelope>`,
		"not xml":   `Internal Server Error`,
		"deep":      env + deep + `</s:Envelope>`,
		"truncated": env + `<s:Body><s:Fault>`,
	} {
		if f, err := parseFault([]byte(body)); err == nil {
			t.Errorf("%s: parseFault accepted it: %+v", name, f)
		}
	}
}

func FuzzParseFault(f *testing.F) {
	for _, name := range []string{"access-denied.xml", "internal-error.xml", "timed-out.xml"} {
		f.Add(readFault(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fe, err := parseFault(body)
		if err != nil {
			return
		}
		for _, s := range []string{fe.Code, fe.Subcode, fe.Reason, fe.Message, fe.Machine} {
			if len(s) > maxFaultText+len("…") {
				t.Fatalf("field of %d bytes exceeds the bound", len(s))
			}
		}
		_ = fe.Error()
	})
}
