package labs_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/labs/sim"
	"github.com/svcharness/svcharness/labs/sim/wsman"
)

// checkHost is one simulated host with one sensor switched off.
type checkHost struct {
	name     string
	sensors  sim.SensorConfig
	declared string // the inventory's sensors line; "" lists none (all expected)
	noMarker bool
}

// simInventory serves each host over WinRM and writes an inventory naming
// them, with credentials from environment variables.
func simInventory(t *testing.T, hosts []checkHost, password string) *labs.Inventory {
	t.Helper()
	var hcs []sim.HostConfig
	for _, h := range hosts {
		hcs = append(hcs, sim.HostConfig{Name: h.name, Sensors: h.sensors})
	}
	lab, err := sim.NewLab(sim.LabConfig{Hosts: hcs, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CHECK_USER", `LAB\harness`)
	t.Setenv("CHECK_PASSWORD", password)
	var yaml strings.Builder
	yaml.WriteString("version: 1\nname: check\ncredentials:\n  lab:\n" +
		"    user_env: CHECK_USER\n    password_env: CHECK_PASSWORD\nhosts:\n")
	for _, h := range hosts {
		url := serve(t, lab.Host(h.name), h.name)
		if h.noMarker {
			removeMarker(t, lab.Host(h.name))
		}
		fmt.Fprintf(&yaml, "  - name: %s\n    endpoint: %s\n    auth: basic\n"+
			"    credentials: lab\n    lab: true\n%s", h.name, url, h.declared)
	}
	path := filepath.Join(t.TempDir(), "inventory.yaml")
	if err := os.WriteFile(path, []byte(yaml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := labs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func serve(t *testing.T, h *sim.Host, name string) string {
	srv, err := wsman.New(wsman.Config{Commander: h, User: `LAB\harness`,
		Password: "lab-only-secret", ComputerName: name, AllowUnencrypted: true})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return url
}

// removeMarker deletes the lab marker every simulated host boots with, as
// a host that was never provisioned lacks it.
func removeMarker(t *testing.T, h *sim.Host) {
	var out bytes.Buffer
	h.RunCommand(context.Background(), sim.Session{User: `LAB\harness`, RemoteAddr: "127.0.0.1"},
		`del /f /q C:\ProgramData\svcharness\lab.marker`, strings.NewReader(""), &out, &out)
	if _, ok := h.ReadFile(labs.DefaultMarker); ok {
		t.Fatalf("remove marker on %s: %s", h.Name(), out.String())
	}
}

func runCheck(t *testing.T, inv *labs.Inventory) *labs.CheckReport {
	t.Helper()
	targets, _, err := emulate.FromInventory(inv)
	if err != nil {
		t.Fatal(err)
	}
	w, err := emulate.NewWinRM(targets, emulate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return labs.Check(context.Background(), inv, emulate.LabProber(w), labs.CheckOptions{})
}

func finding(r *labs.CheckReport, host, check string) (labs.Finding, bool) {
	for _, f := range r.Findings {
		if f.Host == host && f.Check == check {
			return f, true
		}
	}
	return labs.Finding{}, false
}

// TestCheckFindsEachSensorSwitchedOff switches each sensor off on its own
// simulated host and expects the check to fail exactly that host's check,
// with a fix, and to pass every check of the fully provisioned host.
func TestCheckFindsEachSensorSwitchedOff(t *testing.T) {
	hosts := []checkHost{
		{name: "GOOD01"},
		{name: "NOSYSMON", sensors: sim.SensorConfig{NoSysmon: true}},
		{name: "NO4697", sensors: sim.SensorConfig{No4697: true}},
		{name: "NO5145", sensors: sim.SensorConfig{No5145: true}},
		{name: "NETIMG", sensors: sim.SensorConfig{NetworkImages: []string{"powershell.exe"}}},
		{name: "NO4688", sensors: sim.SensorConfig{No4688: true},
			declared: "    sensors: [sysmon, security-4688, security-4697, security-5145]\n"},
		{name: "NOMARKER", noMarker: true},
	}
	r := runCheck(t, simInventory(t, hosts, "lab-only-secret"))
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", text.String())

	want := map[string]struct{ check, fix string }{
		"NOSYSMON": {"sysmon", "Sysmon64.exe -accepteula -i"},
		"NO4697":   {"audit 4697", `auditpol /set /subcategory:"Security System Extension"`},
		"NO5145":   {"audit 5145", `auditpol /set /subcategory:"Detailed File Share"`},
		"NETIMG":   {"sysmon network", "by image path, not by name"},
		"NO4688":   {"audit 4688", `auditpol /set /subcategory:"Process Creation"`},
		"NOMARKER": {"lab marker", "create the marker"},
	}
	for _, f := range r.Findings {
		w, bad := want[f.Host]
		switch {
		case bad && f.Check == w.check:
			if f.Status != labs.StatusFail || !strings.Contains(f.Fix, w.fix) {
				t.Errorf("%s %s: got %s, fix %q; want fail with a fix containing %q",
					f.Host, f.Check, f.Status, f.Fix, w.fix)
			}
		case f.Status != labs.StatusOK:
			t.Errorf("%s %s: got %s (%s); want ok", f.Host, f.Check, f.Status, f.Detail)
		}
	}
	for host, w := range want {
		if _, ok := finding(r, host, w.check); !ok {
			t.Errorf("%s: no %q finding", host, w.check)
		}
	}
	if !r.Failed() || r.Unreachable() {
		t.Errorf("got failed %v, unreachable %v; want true, false", r.Failed(), r.Unreachable())
	}
	if !strings.Contains(text.String(), "lab not ready: ") {
		t.Errorf("report lacks the verdict line:\n%s", text.String())
	}
}

func TestCheckReportsAuthAndReachability(t *testing.T) {
	inv := simInventory(t, []checkHost{{name: "WS01"}}, "wrong-password")
	r := runCheck(t, inv)
	f, _ := finding(r, "WS01", "winrm")
	if f.Status != labs.StatusFail || !strings.Contains(f.Fix, "check credentials \"lab\"") {
		t.Errorf("wrong password: got %+v; want a failure that points at the credentials", f)
	}
	if m, _ := finding(r, "WS01", "lab marker"); m.Status != labs.StatusSkip {
		t.Errorf("marker after an auth failure: got %s; want skip", m.Status)
	}
	if !r.Unreachable() {
		t.Errorf("Unreachable() = false; want true")
	}

	inv.Hosts[0].Endpoint = "http://127.0.0.1:1/wsman"
	r = runCheck(t, inv)
	if f, _ := finding(r, "WS01", "winrm"); !strings.Contains(f.Fix, "WinRM listener") {
		t.Errorf("closed port: got %+v; want a fix about the listener", f)
	}
}

func TestCheckWarnsOnUndeclaredSensor(t *testing.T) {
	inv := simInventory(t, []checkHost{{name: "WS01", sensors: sim.SensorConfig{No5145: true},
		declared: "    sensors: [sysmon, security-4697]\n"}}, "lab-only-secret")
	r := runCheck(t, inv)
	if f, _ := finding(r, "WS01", "audit 5145"); f.Status != labs.StatusWarn {
		t.Errorf("5145 off and not declared: got %s; want warn", f.Status)
	}
	if r.Failed() {
		t.Errorf("Failed() = true; want false:\n%+v", r.Findings)
	}
}
