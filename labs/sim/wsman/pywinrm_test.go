package wsman

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pywinrmPython is Debian's interpreter: a python3 earlier on PATH (pyenv,
// say) cannot see python3-winrm in /usr/lib/python3/dist-packages.
const pywinrmPython = "/usr/bin/python3"

type pyRun struct {
	Kind    string   `json:"kind"`
	Command string   `json:"command"`
	Args    []string `json:"args,omitempty"`
}

type pyResult struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
	Error  string `json:"error"`
}

// requirePywinrm skips the test unless Debian's python3-winrm is installed.
func requirePywinrm(t *testing.T) {
	t.Helper()
	cmd := exec.Command(pywinrmPython, "-c", "import winrm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("python3-winrm is not installed (apt-get install -y python3-winrm): "+
			"%s %v: %s", pywinrmPython, err, bytes.TrimSpace(out))
	}
}

// runPywinrm runs testdata/pywinrm_client.py with the request on stdin and
// an environment without the CA-bundle variables that override pywinrm's
// certificate settings.
func runPywinrm(t *testing.T, req map[string]any) []pyResult {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := filepath.Abs("testdata/openssl-legacy.cnf")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pywinrmPython, "testdata/pywinrm_client.py")
	cmd.Stdin = bytes.NewReader(body)
	cmd.Env = []string{"OPENSSL_CONF=" + conf, "PATH=/usr/bin:/bin", "NO_PROXY=*"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pywinrm client: %v\n%s", err, stderr.String())
	}
	var resp struct{ Results []pyResult }
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("decode pywinrm output %q: %v", out, err)
	}
	return resp.Results
}

// TestPywinrm drives the endpoint with Debian's pywinrm 0.3: Basic over
// HTTP, NTLM over HTTP with and without message encryption, and both over
// HTTPS trusting the generated CA.
func TestPywinrm(t *testing.T) {
	requirePywinrm(t)
	cases := []struct {
		name, transport, encryption string
		tls                         bool
		sealed                      bool // AllowUnencrypted=false: messages must be sealed
	}{
		{name: "basic over http", transport: "basic", encryption: "never"},
		{name: "ntlm over http", transport: "ntlm", encryption: "never"},
		{name: "ntlm over http, sealed", transport: "ntlm", encryption: "auto", sealed: true},
		{name: "ssl (basic) over https", transport: "ssl", tls: true},
		{name: "ntlm over https", transport: "ntlm", tls: true},
	}
	runs := []pyRun{
		{Kind: "cmd", Command: "echo", Args: []string{"hello", "pywinrm"}},
		{Kind: "cmd", Command: "exit", Args: []string{"5"}},
		{Kind: "ps", Command: "Get-Service Spooler"},
		{Kind: "cmd", Command: "whoami"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lab := startLab(t, Config{AllowUnencrypted: !tc.tls && !tc.sealed}, tc.tls)
			req := map[string]any{"url": lab.url, "user": testUser, "password": testPassword,
				"transport": tc.transport, "encryption": tc.encryption, "runs": runs}
			if tc.tls {
				ca := filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(ca, lab.ca.PEM(), 0o600); err != nil {
					t.Fatal(err)
				}
				req["ca"] = ca
			}
			res := runPywinrm(t, req)
			want := []pyResult{
				{Stdout: "hello pywinrm\r\n"},
				{Code: 5},
				{Stdout: "Get-Service Spooler\r\n"},
				{Stdout: "lab\\labadmin\r\n"},
			}
			if len(res) != len(want) {
				t.Fatalf("got %d results; want %d", len(res), len(want))
			}
			for i := range want {
				if res[i] != want[i] {
					t.Errorf("%s: got %+v; want %+v", runs[i].Command, res[i], want[i])
				}
			}
			if got := lab.srv.Shells(); got != 0 {
				t.Errorf("open shells after the runs: got %d; want 0", got)
			}
		})
	}
}

// TestPywinrmFailures asserts pywinrm's outcome for a refused credential,
// AllowUnencrypted=false, a WS-Man fault, Receive timeouts (retried) and a
// dropped connection.
func TestPywinrmFailures(t *testing.T) {
	requirePywinrm(t)
	cases := []struct {
		name      string
		cfg       Config
		transport string
		password  string
		want      string
	}{
		{name: "wrong password", cfg: Config{AllowUnencrypted: true}, transport: "ntlm",
			password: "nope", want: "InvalidCredentialsError"},
		{name: "plaintext refused", cfg: Config{}, transport: "basic",
			password: testPassword, want: "InvalidCredentialsError"},
		{name: "injected fault", transport: "basic", password: testPassword,
			cfg: Config{AllowUnencrypted: true, Faults: NewFaults(Rule{Op: OpCommand,
				Kind: KindFault})},
			want: "WinRMError: Access is denied."},
		{name: "receive timeouts are retried", transport: "basic", password: testPassword,
			cfg: Config{AllowUnencrypted: true, Faults: NewFaults(Rule{Op: OpReceive,
				Kind: KindTimeout, Times: 2})},
			want: ""},
		{name: "dropped connection", transport: "basic", password: testPassword,
			cfg: Config{AllowUnencrypted: true, Faults: NewFaults(Rule{Op: OpCommand,
				Kind: KindDrop})},
			want: "ConnectionError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lab := startLab(t, tc.cfg, false)
			res := runPywinrm(t, map[string]any{"url": lab.url, "user": testUser,
				"password": tc.password, "transport": tc.transport, "encryption": "never",
				"runs": []pyRun{{Kind: "cmd", Command: "echo", Args: []string{"x"}}}})
			if f := tc.cfg.Faults; f != nil && f.Fired()[0] == 0 {
				t.Errorf("the injected fault never fired")
			}
			if tc.want == "" {
				if len(res) != 1 || res[0] != (pyResult{Stdout: "x\r\n"}) {
					t.Errorf("got %+v; want x and exit 0", res)
				}
				return
			}
			if len(res) != 1 || !strings.Contains(res[0].Error, tc.want) {
				t.Errorf("got %+v; want an error containing %q", res, tc.want)
			}
		})
	}
}
