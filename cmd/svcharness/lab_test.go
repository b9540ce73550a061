package main

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"github.com/svcharness/svcharness/labs"
)

// lineBuffer is a stdout that tests can wait on.
type lineBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan struct{}
}

func newLineBuffer() *lineBuffer { return &lineBuffer{ch: make(chan struct{}, 1)} }

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	select {
	case b.ch <- struct{}{}:
	default:
	}
	return n, err
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the output contains s, or the command has exited.
func (b *lineBuffer) waitFor(t *testing.T, s string, exited <-chan int) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for !strings.Contains(b.String(), s) {
		select {
		case <-b.ch:
		case code := <-exited:
			t.Fatalf("lab serve exited %d before printing %q; output:\n%s", code, s, b.String())
		case <-timeout:
			t.Fatalf("no %q in output:\n%s", s, b.String())
		}
	}
}

// TestLabServe starts a lab through the CLI, reads the inventory it wrote,
// and runs a command on every host with masterzen/winrm using only what the
// inventory and its credential file say.
func TestLabServe(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"http ntlm", nil},
		{"https basic", []string{"--hosts", "1", "--tls", "--auth", "basic"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			invPath := filepath.Join(t.TempDir(), "lab", "inventory.yaml")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stdout, stderr := newLineBuffer(), newLineBuffer()
			exited := make(chan int, 1)
			args := append([]string{"lab", "serve", "--inventory-out", invPath}, tc.args...)
			go func() { exited <- run(ctx, args, stdout, stderr) }()
			stdout.waitFor(t, "serving", exited)

			inv, err := labs.Load(invPath)
			if err != nil {
				t.Fatal(err)
			}
			checkLabHosts(t, inv)
			if tc.args == nil {
				checkDefaultLab(t, inv)
			}
			checkSecretsStayPut(t, inv, stdout.String()+stderr.String())

			cancel()
			if code := <-exited; code != exitOK {
				t.Errorf("exit: got %d; want 0; stderr:\n%s", code, stderr.String())
			}
		})
	}
}

func checkLabHosts(t *testing.T, inv *labs.Inventory) {
	t.Helper()
	for i := range inv.Hosts {
		h := &inv.Hosts[i]
		cred, err := inv.Credential(h)
		if err != nil {
			t.Fatal(err)
		}
		c := inventoryClient(t, inv, h, cred)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, errOut, code, err := c.RunCmdWithContext(ctx, "hostname")
		if err != nil || code != 0 || !strings.EqualFold(strings.TrimSpace(out), h.Name) {
			t.Errorf("%s: hostname got (%q, %q, %d, %v); want the host name", h.Name, out,
				errOut, code, err)
		}
		// Exit codes and PowerShell come from the host model, through the
		// endpoint: 1060 is ERROR_SERVICE_DOES_NOT_EXIST.
		_, _, code, err = c.RunCmdWithContext(ctx, "sc.exe query NoSuchService")
		if err != nil || code != 1060 {
			t.Errorf("%s: sc.exe query of a missing service got (%d, %v); want (1060, nil)",
				h.Name, code, err)
		}
		out, _, code, err = c.RunPSWithContext(ctx,
			`Test-Path -Path 'C:\ProgramData\svcharness\lab.marker'`)
		if err != nil || code != 0 || strings.TrimSpace(out) != "True" {
			t.Errorf("%s: lab marker: got (%q, %d, %v); want True", h.Name, out, code, err)
		}
		out, _, code, err = c.RunPSWithContext(ctx, "Get-Service -Name Spooler")
		if err != nil || code != 0 || !strings.Contains(out, "Print Spooler") {
			t.Errorf("%s: Get-Service got (%q, %d, %v); want the Print Spooler row", h.Name,
				out, code, err)
		}
	}
}

// checkDefaultLab asserts the default lab is the one the catalog and its
// policy are written for: names, roles and the lab flag.
func checkDefaultLab(t *testing.T, inv *labs.Inventory) {
	t.Helper()
	want := map[string]string{"WS01": "attacker,workstation,psexec-source",
		"SRV01": "target,server,psexec-target", "JUMP01": "jump", "MGMT01": "mgmt"}
	if len(inv.Hosts) != len(want) {
		t.Fatalf("got %d hosts; want %d", len(inv.Hosts), len(want))
	}
	for _, h := range inv.Hosts {
		if got := strings.Join(h.Roles, ","); got != want[h.Name] || !h.Lab {
			t.Errorf("%s: got roles %q, lab %v; want %q, true", h.Name, got, h.Lab, want[h.Name])
		}
	}
}

// inventoryClient builds a client the way the harness will: endpoint, auth
// method and CA from the inventory.
func inventoryClient(t *testing.T, inv *labs.Inventory, h *labs.Host,
	cred labs.Credential) *winrm.Client {
	t.Helper()
	u, err := url.Parse(h.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	host, portStr, _ := net.SplitHostPort(u.Host)
	port, _ := strconv.Atoi(portStr)
	var caPEM []byte
	if f := inv.CAFileFor(h); f != "" {
		if caPEM, err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	ep := winrm.NewEndpoint(host, port, u.Scheme == "https", false, caPEM, nil, nil, 0)
	params := *winrm.DefaultParameters
	if h.Auth == labs.AuthNTLM {
		params.TransportDecorator = func() winrm.Transporter { return &winrm.ClientNTLM{} }
	}
	c, err := winrm.NewClientWithParameters(ep, cred.User, cred.Password, &params)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkSecretsStayPut asserts that the password is in the 0600 credential
// file and nowhere in the output or the inventory.
func checkSecretsStayPut(t *testing.T, inv *labs.Inventory, output string) {
	t.Helper()
	ref := inv.Credentials[inv.Hosts[0].Credentials]
	path := inv.Path(ref.File)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("credential file mode: got %#o; want 0600", st.Mode().Perm())
	}
	cred, err := labs.ReadCredentialFile(path)
	if err != nil {
		t.Fatal(err)
	}
	invText, err := os.ReadFile(filepath.Join(filepath.Dir(path), "inventory.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"output": output, "inventory": string(invText)} {
		if strings.Contains(text, cred.Password) {
			t.Errorf("the password appears in the %s", what)
		}
	}
}

func TestLabServeUsage(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"lab"}, "missing subcommand"},
		{[]string{"lab", "frobnicate"}, `unknown subcommand "frobnicate"`},
		{[]string{"lab", "serve", "--hosts", "0"}, "--hosts 0"},
		{[]string{"lab", "serve", "--auth", "kerberos"}, `--auth "kerberos"`},
		{[]string{"lab", "serve", "--fault", "receive:explode"}, "unknown fault kind"},
		{[]string{"lab", "serve", "--user", "admin"}, "want DOMAIN"},
	}
	for _, tc := range cases {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%q: got exit %d, stderr %q; want %d and %q", tc.args, code,
				errb.String(), exitUsage, tc.want)
		}
	}
}
