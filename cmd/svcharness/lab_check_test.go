package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/harness"
	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/labs/sim"
)

// startCheckLab serves the default simulated lab, with sensors changed on
// SRV01, and returns its inventory path.
func startCheckLab(t *testing.T, tls bool, srv01 sim.SensorConfig) string {
	t.Helper()
	hosts := harness.DefaultSimHosts()
	for i := range hosts {
		if hosts[i].Name == "SRV01" {
			hosts[i].Sensors = srv01
		}
	}
	sl, err := harness.StartSimLab(harness.SimLabConfig{Hosts: hosts, Dir: t.TempDir(), TLS: tls})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sl.Close)
	// The simulated lab lists only the sensors each host runs; a real
	// inventory lists what the lab is meant to have, and a missing one fails.
	inv, err := labs.Load(sl.InventoryPath)
	if err != nil {
		t.Fatal(err)
	}
	for i := range inv.Hosts {
		inv.Hosts[i].Sensors = nil
	}
	if err := inv.Write(sl.InventoryPath); err != nil {
		t.Fatal(err)
	}
	return sl.InventoryPath
}

func TestLabCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tls     bool
		sensors sim.SensorConfig
		code    int
		want    []string
	}{
		{"ready over https", true, sim.SensorConfig{}, exitOK,
			[]string{"lab ready: 36 ok, 0 warnings, 0 failed"}},
		{"no sysmon", false, sim.SensorConfig{NoSysmon: true}, exitFindings,
			[]string{"FAIL  sysmon", "Sysmon64.exe -accepteula -i", "lab not ready"}},
		{"no 4697", false, sim.SensorConfig{No4697: true}, exitFindings,
			[]string{"FAIL  audit 4697", `/subcategory:"Security System Extension"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := startCheckLab(t, tc.tls, tc.sensors)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"lab", "check", "--lab", inv},
				&stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit %d; want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code,
					stdout.String(), stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout.String())
				}
			}
		})
	}
}

func TestLabCheckJSON(t *testing.T) {
	inv := startCheckLab(t, false, sim.SensorConfig{No5145: true})
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"lab", "check", "--json", "--lab", inv},
		&stdout, &stderr); code != exitFindings {
		t.Fatalf("exit %d; want %d: %s", code, exitFindings, stderr.String())
	}
	var got struct {
		Findings []struct{ Host, Check, Status, Fix string }
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout.String())
	}
	var failed []string
	for _, f := range got.Findings {
		if f.Status == "fail" {
			failed = append(failed, f.Host+" "+f.Check)
		}
	}
	if strings.Join(failed, ",") != "SRV01 audit 5145" {
		t.Errorf("failed checks %q; want only SRV01 audit 5145", failed)
	}
}

func TestLabCheckUsage(t *testing.T) {
	for _, args := range [][]string{{"lab", "check"}, {"lab", "check", "--lab", "x", "extra"},
		{"lab", "check", "--bogus"}, {"lab", "check", "--lab", "/nonexistent/inventory.yaml"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%q: exit %d; want %d (%s)", args, code, exitUsage, stderr.String())
		}
	}
}
