package wsman

import (
	"encoding/base64"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
	"github.com/masterzen/winrm"
)

// conn is one client TCP connection: an HTTP client whose transport keeps
// exactly one connection alive.
func conn() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}}
}

// send posts a Create with the given Authorization header (none if empty)
// and returns the status and the WWW-Authenticate headers.
func send(t *testing.T, c *http.Client, url, auth string) (int, []string) {
	t.Helper()
	body := winrm.NewOpenShellRequest(url, winrm.DefaultParameters).String()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentTypeSOAP)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	drain(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Values("WWW-Authenticate")
}

// handshake runs NTLM's first two legs on c and returns the AUTHENTICATE
// token for password.
func handshake(t *testing.T, c *http.Client, url, password string) string {
	t.Helper()
	neg, err := ntlmssp.NewNegotiateMessage("LAB", "")
	if err != nil {
		t.Fatal(err)
	}
	status, hdr := send(t, c, url, "Negotiate "+base64.StdEncoding.EncodeToString(neg))
	if status != 401 || len(hdr) != 1 || !strings.HasPrefix(hdr[0], "Negotiate ") {
		t.Fatalf("negotiate: got %d %q; want 401 with a challenge", status, hdr)
	}
	challenge, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(hdr[0], "Negotiate "))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := ntlmssp.ProcessChallenge(challenge, "labadmin", password, true)
	if err != nil {
		t.Fatal(err)
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(auth)
}

// TestNTLMStateIsPerConnection checks what HTTP.sys does: the challenge
// belongs to the connection that asked for it, and so does the
// authentication that answers it.
func TestNTLMStateIsPerConnection(t *testing.T) {
	lab := startLab(t, Config{AllowUnencrypted: true}, false)
	a, b := conn(), conn()

	token := handshake(t, a, lab.url, testPassword)
	if status, _ := send(t, b, lab.url, token); status != 401 {
		t.Errorf("authenticate on another connection: got %d; want 401", status)
	}

	token = handshake(t, a, lab.url, testPassword)
	if status, _ := send(t, a, lab.url, token); status != 200 {
		t.Fatalf("authenticate on the same connection: got %d; want 200", status)
	}
	if status, _ := send(t, a, lab.url, ""); status != 200 {
		t.Errorf("later request on the authenticated connection: got %d; want 200", status)
	}
	if status, _ := send(t, b, lab.url, ""); status != 401 {
		t.Errorf("request without credentials on another connection: got %d; want 401", status)
	}
	if status, _ := send(t, a, lab.url, token); status != 401 {
		t.Errorf("replayed authenticate: got %d; want 401", status)
	}
}

func TestAuthRejections(t *testing.T) {
	lab := startLab(t, Config{AllowUnencrypted: true}, false)
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	cases := []struct{ name, auth string }{
		{"no credentials", ""},
		{"basic, bad base64", "Basic !!!"},
		{"basic, no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("labadmin"))},
		{"basic, other domain", basic(`EVIL\labadmin`, testPassword)},
		{"negotiate, kerberos token", "Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEF"},
		{"negotiate, authenticate without challenge", "Negotiate " +
			base64.StdEncoding.EncodeToString(append([]byte("NTLMSSP\x00\x03\x00\x00\x00"),
				make([]byte, 60)...))},
		{"unknown scheme", "Digest username=labadmin"},
	}
	for _, tc := range cases {
		status, hdr := send(t, conn(), lab.url, tc.auth)
		want := []string{"Negotiate", `Basic realm="WSMAN"`}
		if status != 401 || strings.Join(hdr, "|") != strings.Join(want, "|") {
			t.Errorf("%s: got %d %q; want 401 %q", tc.name, status, hdr, want)
		}
	}
	for _, user := range []string{"labadmin", `LAB\labadmin`, `.\labadmin`, "LABADMIN@lab.local",
		`WIN-SIM\LabAdmin`} {
		if status, _ := send(t, conn(), lab.url, basic(user, testPassword)); status != 200 {
			t.Errorf("basic as %q: got %d; want 200", user, status)
		}
	}
}

// TestIdleShellsAreReaped checks IdleTimeout with the server's clock moved
// forward.
func TestIdleShellsAreReaped(t *testing.T) {
	var skew atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	lab := startLab(t, Config{AllowUnencrypted: true, IdleTimeout: time.Minute, Clock: clock},
		false)
	p := winrm.DefaultParameters
	first := post(t, lab.url, winrm.NewOpenShellRequest(lab.url, p).String()).Body.ShellID

	skew.Store(int64(2 * time.Minute))

	post(t, lab.url, winrm.NewOpenShellRequest(lab.url, p).String())
	if n := lab.srv.Shells(); n != 1 {
		t.Errorf("shells: got %d; want 1", n)
	}
	r := post(t, lab.url, winrm.NewDeleteShellRequest(lab.url, first, p).String())
	if r.Body.Fault.Subcode != "w:InvalidSelectors" {
		t.Errorf("delete of the reaped shell: got %q; want w:InvalidSelectors", r.Body.Fault.Subcode)
	}
}
