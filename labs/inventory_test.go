package labs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyFixture copies testdata/inventory into a temporary directory and
// writes the credential file the valid fixture refers to with mode, because
// git does not keep file modes tight enough for the 0600 check.
func copyFixture(t *testing.T, mode os.FileMode) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"valid.yaml", "invalid.yaml", "ca.pem"} {
		b, err := os.ReadFile(filepath.Join("testdata", "inventory", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cred := filepath.Join(dir, "lab-admin.cred")
	if err := WriteCredentialFile(cred, Credential{User: `LAB\admin`, Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cred, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadValid(t *testing.T) {
	dir := copyFixture(t, 0o600)
	inv, err := Load(filepath.Join(dir, "valid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Hosts) != 2 || inv.Name != "detection-lab" {
		t.Fatalf("got %d hosts, name %q; want 2, detection-lab", len(inv.Hosts), inv.Name)
	}
	ws, ok := inv.Host("WS01")
	if !ok || ws.Auth != AuthNTLM || !ws.Lab || len(ws.Sensors) != 4 {
		t.Fatalf("ws01: got %+v", ws)
	}
	if got, want := inv.CAFileFor(ws), filepath.Join(dir, "ca.pem"); got != want {
		t.Errorf("ca file: got %q; want %q", got, want)
	}
	c, err := inv.Credential(ws)
	if err != nil || c.User != `LAB\admin` || c.Password != "pw" {
		t.Errorf("credential: got %v, %v; want LAB\\admin", c, err)
	}

	srv, _ := inv.Host("srv01")
	t.Setenv("SVCH_TEST_USER", "ci-user")
	t.Setenv("SVCH_TEST_PASSWORD", "ci-pass")
	if c, err := inv.Credential(srv); err != nil || c.User != "ci-user" || c.Password != "ci-pass" {
		t.Errorf("env credential: got %v, %v; want ci-user", c, err)
	}
}

// TestLoadInvalid checks that every problem is reported at once, each with
// its line.
func TestLoadInvalid(t *testing.T) {
	dir := copyFixture(t, 0o600)
	_, err := Load(filepath.Join(dir, "invalid.yaml"))
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v; want ErrInvalid", err)
	}
	want := []string{
		"invalid.yaml:1:10: version: version 2; want 1",
		"invalid.yaml:5:9: credentials.both: both file and environment variables",
		"invalid.yaml:7:12: credentials.neither: neither file nor user_env/password_env",
		"invalid.yaml:14:5: hosts[0].colour: unknown field",
		`invalid.yaml:10:15: hosts[0].endpoint: endpoint "ftp://127.0.0.1/wsman": scheme "ftp"`,
		`invalid.yaml:11:11: hosts[0].auth: auth "kerberos"; want basic or ntlm`,
		`invalid.yaml:12:18: hosts[0].credentials: credentials "nobody" not defined`,
		`invalid.yaml:13:23: hosts[0].sensors[1]: unknown sensor "etw-magic"`,
		`invalid.yaml:15:11: hosts[1].name: host "WS01" already defined at hosts[0]`,
		`invalid.yaml:16:15: hosts[1].endpoint: endpoint "https://ws01:5986/other": path "/other"`,
	}
	var fes []*FieldError
	for _, e := range unwrapAll(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			fes = append(fes, fe)
		}
	}
	if len(fes) != len(want) {
		t.Errorf("got %d problems; want %d:\n%v", len(fes), len(want), err)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in:\n%s", w, msg)
		}
	}
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unwrapAll(e)...)
		}
		return out
	}
	if u := errors.Unwrap(err); u != nil {
		return append([]error{err}, unwrapAll(u)...)
	}
	return []error{err}
}

func TestCredentialFileMode(t *testing.T) {
	dir := copyFixture(t, 0o644)
	_, err := Load(filepath.Join(dir, "valid.yaml"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "mode 0644") {
		t.Fatalf("got %v; want an error about mode 0644", err)
	}
	_, err = ReadCredentialFile(filepath.Join(dir, "lab-admin.cred"))
	if !errors.Is(err, ErrCredentialFileMode) {
		t.Errorf("read: got %v; want ErrCredentialFileMode", err)
	}
}

func TestCredentialNeverPrinted(t *testing.T) {
	c := Credential{User: "admin", Password: "hunter2"}
	for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("%q shows the password", s)
		}
	}
}

func TestWriteRoundTrip(t *testing.T) {
	dir := copyFixture(t, 0o600)
	inv, err := Load(filepath.Join(dir, "valid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "written.yaml")
	if err := inv.Write(out); err != nil {
		t.Fatal(err)
	}
	again, err := Load(out)
	if err != nil {
		t.Fatalf("load written inventory: %v", err)
	}
	if len(again.Hosts) != 2 || again.Hosts[1].Marker != inv.Hosts[1].Marker ||
		again.Hosts[0].Sensors[3] != SensorSystem7045 || again.CAFile != "ca.pem" {
		t.Errorf("round trip: got %+v; want %+v", again, inv)
	}
	b, _ := os.ReadFile(out)
	if strings.Contains(string(b), "pw") && strings.Contains(string(b), "password:") {
		t.Errorf("written inventory holds a password:\n%s", b)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"valid.yaml", "invalid.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "inventory", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := Parse(b, "fuzz.yaml", "/nonexistent")
		if err == nil && len(inv.Hosts) == 0 {
			t.Fatal("valid inventory without hosts")
		}
	})
}
