package wsman

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"
)

const (
	testUser     = `LAB\labadmin`
	testPassword = "S1mulated!pass"
)

// testLab is one endpoint under test.
type testLab struct {
	srv  *Server
	host *fakeHost
	url  string
	ca   *CA
}

// startLab starts an endpoint with cfg's zero fields filled for tests.
func startLab(t testing.TB, cfg Config, useTLS bool) *testLab {
	t.Helper()
	lab := &testLab{host: &fakeHost{}}
	if cfg.Commander == nil {
		cfg.Commander = lab.host
	}
	if cfg.User == "" {
		cfg.User, cfg.Password = testUser, testPassword
	}
	if useTLS {
		ca, err := NewCA("svcharness test CA")
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLS, err = ca.ServerTLS("127.0.0.1", "localhost")
		if err != nil {
			t.Fatal(err)
		}
		lab.ca = ca
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lab.url, err = srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	lab.srv = srv
	return lab
}

type clientOpts struct {
	ntlm     bool
	seal     bool // NTLM with MS-WSMV message encryption (winrm.NewEncryption)
	user     string
	password string
	timeout  time.Duration // HTTP response-header timeout; 0 = 60s
	opTime   string        // OperationTimeout; "" = PT60S
}

// client returns a masterzen/winrm client for the lab.
func (l *testLab) client(t testing.TB, o clientOpts) *winrm.Client {
	t.Helper()
	u, err := url.Parse(l.url)
	if err != nil {
		t.Fatal(err)
	}
	host, portStr, _ := net.SplitHostPort(u.Host)
	port, _ := strconv.Atoi(portStr)
	var caPEM []byte
	if l.ca != nil {
		caPEM = l.ca.PEM()
	}
	ep := winrm.NewEndpoint(host, port, u.Scheme == "https", false, caPEM, nil, nil, o.timeout)
	params := *winrm.DefaultParameters
	if o.opTime != "" {
		params.Timeout = o.opTime
	}
	switch {
	case o.seal:
		params.TransportDecorator = func() winrm.Transporter {
			enc, err := winrm.NewEncryption("ntlm")
			if err != nil {
				t.Fatal(err)
			}
			return enc
		}
	case o.ntlm:
		params.TransportDecorator = func() winrm.Transporter { return &winrm.ClientNTLM{} }
	}
	user, pass := o.user, o.password
	if user == "" {
		user = testUser
	}
	if pass == "" {
		pass = testPassword
	}
	c, err := winrm.NewClientWithParameters(ep, user, pass, &params)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestMasterzenTransports runs commands over every transport masterzen/winrm
// offers that the simulator supports.
func TestMasterzenTransports(t *testing.T) {
	cases := []struct {
		name string
		tls  bool
		ntlm bool
		seal bool // sealed messages; the endpoint refuses plaintext over HTTP
		user string
		auth AuthMethod
	}{
		{name: "basic over http", auth: AuthBasic},
		{name: "ntlm over http", ntlm: true},
		{name: "ntlm over http, bare user name", ntlm: true, user: "labadmin"},
		{name: "ntlm only over http", ntlm: true, auth: AuthNegotiate},
		{name: "basic over https", tls: true, auth: AuthBasic},
		{name: "ntlm over https", tls: true, ntlm: true},
		{name: "sealed ntlm over http without AllowUnencrypted", seal: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lab := startLab(t, Config{Auth: tc.auth, AllowUnencrypted: !tc.tls && !tc.seal},
				tc.tls)
			c := lab.client(t, clientOpts{ntlm: tc.ntlm, seal: tc.seal, user: tc.user})
			ctx := ctxFor(t, 20*time.Second)

			out, errOut, code, err := c.RunCmdWithContext(ctx, "echo hello world")
			if err != nil || code != 0 || out != "hello world\r\n" || errOut != "" {
				t.Fatalf("echo: got (%q, %q, %d, %v); want (\"hello world\\r\\n\", \"\", 0, nil)",
					out, errOut, code, err)
			}
			sess := lab.host.lastSession()
			if sess.User != `LAB\labadmin` || sess.RemoteAddr != "127.0.0.1" || sess.ShellID == "" {
				t.Errorf("session: got %+v; want LAB\\labadmin from 127.0.0.1 with a shell id",
					sess)
			}
			if got := lab.srv.Shells(); got != 0 {
				t.Errorf("open shells after the run: got %d; want 0", got)
			}
		})
	}
}

// TestMasterzenRefusesBadCertificates checks that certificate verification
// is real: a CA the client does not trust, or a name the certificate does
// not carry, fails the TLS handshake.
func TestMasterzenRefusesBadCertificates(t *testing.T) {
	other, err := NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		names []string // the certificate's names
		ca    *CA      // the CA the client trusts; nil means the issuing one
		want  string
	}{
		{name: "untrusted CA", names: []string{"127.0.0.1"}, ca: other,
			want: "certificate signed by unknown authority"},
		{name: "wrong name", names: []string{"ws01.lab.local"},
			want: "doesn't contain any IP SANs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ca, err := NewCA("svcharness test CA")
			if err != nil {
				t.Fatal(err)
			}
			tlsCfg, err := ca.ServerTLS(tc.names...)
			if err != nil {
				t.Fatal(err)
			}
			lab := startLab(t, Config{TLS: tlsCfg}, false)
			lab.ca = ca
			if tc.ca != nil {
				lab.ca = tc.ca
			}
			_, _, _, err = lab.client(t, clientOpts{}).RunCmdWithContext(
				ctxFor(t, 10*time.Second), "echo hi")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestMasterzenCommands(t *testing.T) {
	lab := startLab(t, Config{AllowUnencrypted: true}, false)
	c := lab.client(t, clientOpts{})
	ctx := ctxFor(t, 30*time.Second)

	t.Run("exit codes", func(t *testing.T) {
		for _, want := range []int{0, 1, 5, 1060, -1073741510} {
			_, _, got, err := c.RunCmdWithContext(ctx, "exit "+strconv.Itoa(want))
			if err != nil || got != want {
				t.Errorf("exit %d: got (%d, %v); want (%d, nil)", want, got, err, want)
			}
		}
	})
	t.Run("stderr", func(t *testing.T) {
		out, errOut, code, err := c.RunCmdWithContext(ctx, "warn access denied")
		if err != nil || code != 1 || out != "" || errOut != "access denied\r\n" {
			t.Errorf("got (%q, %q, %d, %v); want (\"\", \"access denied\\r\\n\", 1, nil)",
				out, errOut, code, err)
		}
	})
	t.Run("powershell", func(t *testing.T) {
		script := "Get-Service -Name 'Spooler' | Select-Object Status"
		out, _, code, err := c.RunPSWithContext(ctx, script)
		want := "$ProgressPreference = 'SilentlyContinue';" + script + "\r\n"
		if err != nil || code != 0 || out != want {
			t.Errorf("got (%q, %d, %v); want (%q, 0, nil)", out, code, err, want)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		out, _, code, err := c.RunWithContextWithString(ctx, "upper", "one\ntwo\n")
		if err != nil || code != 0 || out != "ONE\r\nTWO\r\n" {
			t.Errorf("got (%q, %d, %v); want (\"ONE\\r\\nTWO\\r\\n\", 0, nil)", out, code, err)
		}
	})
	t.Run("stdin larger than one envelope", func(t *testing.T) {
		const n = 3 << 20 // a payload upload: about twenty Send requests
		out, _, code, err := c.RunWithContextWithString(ctx, "count", strings.Repeat("x", n))
		if err != nil || code != 0 || out != strconv.Itoa(n)+"\r\n" {
			t.Errorf("got (%q, %d, %v); want (\"%d\\r\\n\", 0, nil)", out, code, err, n)
		}
	})
	t.Run("output larger than one envelope", func(t *testing.T) {
		const n = 3<<20 + 17 // 3 MiB: about thirty Receive responses
		out, _, code, err := c.RunCmdWithContext(ctx, "big "+strconv.Itoa(n))
		if err != nil || code != 0 || len(out) != n {
			t.Fatalf("got (%d bytes, %d, %v); want (%d bytes, 0, nil)", len(out), code, err, n)
		}
		if !strings.HasPrefix(out, "0123456789abcdef") {
			t.Errorf("output starts %q; want the pattern", out[:16])
		}
	})
	t.Run("unknown command", func(t *testing.T) {
		_, errOut, code, err := c.RunCmdWithContext(ctx, "frobnicate")
		if err != nil || code != 1 || !strings.Contains(errOut, "is not recognized") {
			t.Errorf("got (%q, %d, %v); want a not-recognized error, exit 1", errOut, code, err)
		}
	})
}
