package wsman

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// faultAction is the Action masterzen/winrm reports when a Command answer is
// a fault: it does not surface HTTP 500 as an error, only the Action it did
// not expect (masterzen/winrm http.go, response.go).
const faultAction = "unsupported action: http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

// TestMasterzenAuthFailures asserts what the client sees when it is refused.
func TestMasterzenAuthFailures(t *testing.T) {
	cases := []struct {
		name     string
		cfg      Config
		tls      bool
		client   clientOpts
		wantFail bool
	}{
		{name: "basic, wrong password", cfg: Config{AllowUnencrypted: true},
			client: clientOpts{password: "wrong"}, wantFail: true},
		{name: "ntlm, wrong password", cfg: Config{AllowUnencrypted: true},
			client: clientOpts{ntlm: true, password: "wrong"}, wantFail: true},
		{name: "ntlm, unknown user", cfg: Config{AllowUnencrypted: true},
			client:   clientOpts{ntlm: true, user: `LAB\mallory`, password: testPassword},
			wantFail: true},
		{name: "basic when only negotiate is enabled",
			cfg:    Config{AllowUnencrypted: true, Auth: AuthNegotiate},
			client: clientOpts{}, wantFail: true},
		{name: "basic over http without AllowUnencrypted", cfg: Config{},
			client: clientOpts{}, wantFail: true},
		{name: "ntlm over http without AllowUnencrypted", cfg: Config{},
			client: clientOpts{ntlm: true}, wantFail: true},
		{name: "ntlm over https without AllowUnencrypted", cfg: Config{}, tls: true,
			client: clientOpts{ntlm: true}},
		{name: "basic over https without AllowUnencrypted", cfg: Config{}, tls: true,
			client: clientOpts{}},
		{name: "injected auth failure", tls: true,
			cfg:    Config{Faults: NewFaults(Rule{Op: OpAny, Kind: KindAuth})},
			client: clientOpts{}, wantFail: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lab := startLab(t, tc.cfg, tc.tls)
			if tc.client.password == "" {
				tc.client.password = testPassword
			}
			c := lab.client(t, tc.client)
			_, _, _, err := c.RunCmdWithContext(ctxFor(t, 10*time.Second), "echo hi")
			if !tc.wantFail {
				if err != nil {
					t.Fatalf("got %v; want success", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "401 - invalid content type") {
				t.Fatalf("got %v; want the client's 401 error", err)
			}
		})
	}
}

// TestMasterzenInjectedFaults asserts the client's outcome for every kind of
// injected fault.
func TestMasterzenInjectedFaults(t *testing.T) {
	cases := []struct {
		name    string
		rule    string
		cmd     string
		stdin   string
		client  clientOpts
		ctx     time.Duration
		check   func(t *testing.T, out string, code int, err error)
		wantHit int
		// shellsLeft is how many shells the server still holds afterwards.
		shellsLeft int
	}{
		{name: "create fault leaves the client with an empty shell id",
			rule: "create:fault=access-denied*1", cmd: "echo hi", wantHit: 1,
			check: wantErrContaining(faultAction)},
		{name: "command fault", rule: "command:fault=internal*1", cmd: "echo hi", wantHit: 1,
			check: wantErrContaining(faultAction)},
		{name: "receive faults are retried by the client",
			rule: "receive:fault=access-denied*3", cmd: "echo hi", wantHit: 3,
			check: wantOutput("hi\r\n", 0)},
		{name: "receive timeouts are retried by the client",
			rule: "receive:timeout*2", cmd: "exit 7", wantHit: 2,
			check: wantOutput("", 7)},
		{name: "slow response beyond the client's header timeout",
			rule: "create:slow=3s*1", cmd: "echo hi", wantHit: 1,
			client: clientOpts{timeout: 300 * time.Millisecond},
			check:  wantTimeout},
		{name: "slow response within the client's timeout",
			rule: "any:slow=50ms*2", cmd: "echo hi", wantHit: 2,
			check: wantOutput("hi\r\n", 0)},
		{name: "connection dropped on create", rule: "create:drop*1", cmd: "echo hi",
			wantHit: 1, check: wantErrContaining("EOF")},
		{name: "connection dropped on receive", rule: "receive:drop*1", cmd: "echo hi",
			wantHit: 1, check: wantExit(16001, "EOF")},
		{name: "command that never finishes", rule: "command:hang*1", cmd: "echo hi",
			client: clientOpts{opTime: "PT1S"}, ctx: 2500 * time.Millisecond, wantHit: 1,
			check: wantErrIs(context.DeadlineExceeded)},
		// The client does not check the status of Send, Signal and Delete:
		// a fault there goes unnoticed, with these consequences.
		{name: "send fault loses the input silently", rule: "send:fault*1", cmd: "upper",
			stdin: "abc\n", wantHit: 1, check: wantOutput("", 0)},
		{name: "signal fault goes unnoticed", rule: "signal:fault", cmd: "echo hi",
			wantHit: 1, check: wantOutput("hi\r\n", 0)},
		{name: "delete fault goes unnoticed", rule: "delete:fault", cmd: "echo hi",
			wantHit: 1, check: wantOutput("hi\r\n", 0), shellsLeft: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rule, err := ParseRule(tc.rule)
			if err != nil {
				t.Fatal(err)
			}
			faults := NewFaults(rule)
			lab := startLab(t, Config{AllowUnencrypted: true, Faults: faults}, false)
			c := lab.client(t, tc.client)
			d := tc.ctx
			if d == 0 {
				d = 10 * time.Second
			}
			var out string
			var code int
			if tc.stdin != "" {
				out, _, code, err = c.RunWithContextWithString(ctxFor(t, d), tc.cmd, tc.stdin)
			} else {
				out, _, code, err = c.RunCmdWithContext(ctxFor(t, d), tc.cmd)
			}
			tc.check(t, out, code, err)
			if got := faults.Fired()[0]; got != tc.wantHit {
				t.Errorf("rule fired %d times; want %d", got, tc.wantHit)
			}
			if got := lab.srv.Shells(); got != tc.shellsLeft {
				t.Errorf("shells left on the server: got %d; want %d", got, tc.shellsLeft)
			}
		})
	}
}

func wantErrContaining(s string) func(*testing.T, string, int, error) {
	return func(t *testing.T, _ string, _ int, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("got error %v; want one containing %q", err, s)
		}
	}
}

func wantErrIs(target error) func(*testing.T, string, int, error) {
	return func(t *testing.T, _ string, _ int, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Errorf("got error %v; want %v", err, target)
		}
	}
}

func wantExit(code int, errPart string) func(*testing.T, string, int, error) {
	return func(t *testing.T, _ string, got int, err error) {
		t.Helper()
		if got != code || err == nil || !strings.Contains(err.Error(), errPart) {
			t.Errorf("got (%d, %v); want (%d, error containing %q)", got, err, code, errPart)
		}
	}
}

func wantOutput(out string, code int) func(*testing.T, string, int, error) {
	return func(t *testing.T, gotOut string, gotCode int, err error) {
		t.Helper()
		if err != nil || gotOut != out || gotCode != code {
			t.Errorf("got (%q, %d, %v); want (%q, %d, nil)", gotOut, gotCode, err, out, code)
		}
	}
}

func wantTimeout(t *testing.T, _ string, _ int, err error) {
	t.Helper()
	var ue *url.Error
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Errorf("got error %v; want an HTTP timeout", err)
	}
}
