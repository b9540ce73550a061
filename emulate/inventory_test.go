package emulate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/scenarios"
)

// TestFromInventoryRunsAgainstTheFake builds targets from an inventory
// whose credential sits in a 0600 file, and runs a command with them.
func TestFromInventoryRunsAgainstTheFake(t *testing.T) {
	f := newFake(t)
	dir := t.TempDir()
	err := labs.WriteCredentialFile(filepath.Join(dir, "lab.cred"),
		labs.Credential{User: f.user, Password: f.pass})
	if err != nil {
		t.Fatal(err)
	}
	src := "version: 1\nname: t\ncredentials:\n  lab:\n    file: lab.cred\nhosts:\n" +
		"  - name: WS01\n    roles: [target]\n    endpoint: " + f.srv.URL + "/wsman\n" +
		"    auth: basic\n    credentials: lab\n    lab: true\n"
	inv, err := labs.Parse([]byte(src), "inv.yaml", dir)
	if err != nil {
		t.Fatal(err)
	}
	targets, info, err := FromInventory(inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 1 || !info["WS01"].Lab || targets[0].Password != f.pass {
		t.Fatalf("got %v, %v; want WS01 declared a lab host with its credential", targets, info)
	}
	w, err := NewWinRM(targets, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Run(context.Background(), "WS01", scenarios.Cmd, "hostname")
	if err != nil || !strings.Contains(res.Stdout, "hello") {
		t.Errorf("got %q, %v; want the fake's output", res.Stdout, err)
	}
}

func TestFromInventoryReportsUnresolvableCredentials(t *testing.T) {
	src := "version: 1\nname: t\ncredentials:\n  env:\n    user_env: SVCH_NO_SUCH_USER\n" +
		"    password_env: SVCH_NO_SUCH_PASSWORD\nhosts:\n" +
		"  - name: WS01\n    endpoint: http://127.0.0.1:5985/wsman\n    auth: basic\n" +
		"    credentials: env\n    lab: true\n" +
		"  - name: WS02\n    endpoint: http://127.0.0.1:5986/wsman\n    auth: ntlm\n" +
		"    credentials: env\n    lab: true\n"
	os.Unsetenv("SVCH_NO_SUCH_USER")
	inv, err := labs.Parse([]byte(src), "inv.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = FromInventory(inv)
	if err == nil || !strings.Contains(err.Error(), "WS01") || !strings.Contains(err.Error(), "WS02") {
		t.Errorf("got %v; want both hosts' credential problems", err)
	}
}

func TestBindRoles(t *testing.T) {
	inv := &labs.Inventory{Hosts: []labs.Host{
		{Name: "WS01", Roles: []string{"attacker", "target"}},
		{Name: "SRV01", Roles: []string{"target"}},
		{Name: "JUMP01", Roles: []string{"jump"}},
	}}
	cat, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := cat.Lookup("psexec-default") // attacker, target
	got, err := BindRoles(s, inv)
	if err != nil || got["attacker"] != "WS01" || got["target"] != "SRV01" {
		t.Errorf("got %v, %v; want attacker WS01 and target SRV01 (never the same host)", got, err)
	}
	s, _ = cat.Lookup("deployment-from-management-host") // mgmt, target
	if _, err := BindRoles(s, inv); !errors.Is(err, ErrNoHostForRole) ||
		!strings.Contains(err.Error(), "mgmt") {
		t.Errorf("got %v; want the mgmt role reported unbound", err)
	}
}
