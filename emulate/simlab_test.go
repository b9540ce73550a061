//go:build simlab

// This test drives the whole built-in catalog through the simulated lab
// (labs/sim behind labs/sim/wsman) over real WinRM. It is behind the simlab
// tag because it tests two packages at once; CI runs it with
// go test -tags simlab ./emulate.

package emulate

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/labs/sim"
	"github.com/svcharness/svcharness/labs/sim/wsman"
	"github.com/svcharness/svcharness/scenarios"
)

// simLab starts one simulated host per catalog role and returns a runner
// for them and the role binding.
func simLab(t *testing.T) (*WinRM, map[string]string) {
	t.Helper()
	roles := map[string]string{"target": "TARGET01", "attacker": "ATTACKER01",
		"jump": "JUMP01", "mgmt": "MGMT01"}
	var hcs []sim.HostConfig
	for _, h := range roles {
		hcs = append(hcs, sim.HostConfig{Name: h})
	}
	lab, err := sim.NewLab(sim.LabConfig{Hosts: hcs, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var targets []Target
	for _, h := range roles {
		srv, err := wsman.New(wsman.Config{Commander: lab.Host(h), User: `LAB\harness`,
			Password: "lab-only-secret", ComputerName: h, AllowUnencrypted: true})
		if err != nil {
			t.Fatal(err)
		}
		url, err := srv.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		targets = append(targets, Target{Name: h, Endpoint: url, Auth: AuthBasic,
			User: `LAB\harness`, Password: "lab-only-secret"})
	}
	w, err := NewWinRM(targets, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return w, roles
}

// TestCatalogRunsOnSimulatedLab runs every scenario, one after another on
// one lab, and requires each to run as written (every step's exit code as
// expected) and to leave nothing behind (every cleanup check passes).
func TestCatalogRunsOnSimulatedLab(t *testing.T) {
	w, roles := simLab(t)
	cat, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	rng := scenarios.NewRand(11)
	payload := func(scenarios.PlannedPayload) ([]byte, error) {
		return []byte(strings.Repeat("MZ canary stand-in ", 2000)), nil
	}
	for _, s := range cat.All() {
		p, err := s.Render(scenarios.Binding{RunID: scenarios.NewRunID(rng), Hosts: roles,
			Sink: "10.10.0.250:8443"}, rng)
		if err != nil {
			t.Fatal(err)
		}
		o := Execute(context.Background(), w, p, payload, ExecOptions{})
		if err := o.Err(); err != nil {
			t.Errorf("%s:\n%v", s.ID, err)
		}
	}
}

// TestLeftoversAreFoundOnSimulatedLab skips a scenario's cleanup and
// expects verification to find what it left.
func TestLeftoversAreFoundOnSimulatedLab(t *testing.T) {
	w, roles := simLab(t)
	cat, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := cat.Lookup("sc-config-hijack")
	p, err := s.Render(scenarios.Binding{RunID: "0123456789ab", Hosts: roles}, scenarios.NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	p.Cleanup = nil
	o := Execute(context.Background(), w, p, func(scenarios.PlannedPayload) ([]byte, error) {
		return []byte("MZ"), nil
	}, ExecOptions{})
	if o.StepsErr != nil {
		t.Fatalf("steps: %v", o.StepsErr)
	}
	msg := o.Err().Error()
	for _, want := range []string{`value_is HKLM\SYSTEM\CurrentControlSet\Services\Fax`,
		"file_absent C:\\Users\\Public\\"} {
		if !strings.Contains(msg, want) {
			t.Errorf("verification missed %q:\n%s", want, msg)
		}
	}
}

// TestCollectFindsWhatAScenarioCaused runs sc-create-user-writable and
// collects the target's logs since the host's own clock read before it:
// the install must be there, under the name the plan generated.
func TestCollectFindsWhatAScenarioCaused(t *testing.T) {
	w, roles := simLab(t)
	cat, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := cat.Lookup("sc-create-user-writable")
	p, err := s.Render(scenarios.Binding{RunID: "0123456789ab", Hosts: roles}, scenarios.NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	since, err := HostClock(ctx, w, roles["target"])
	if err != nil {
		t.Fatal(err)
	}
	o := Execute(ctx, w, p, func(scenarios.PlannedPayload) ([]byte, error) {
		return []byte("MZ"), nil
	}, ExecOptions{})
	if err := o.Err(); err != nil {
		t.Fatal(err)
	}
	c, err := Collect(ctx, w, roles["target"], since, Channels)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Skipped) != 0 || len(c.Missing) != 0 {
		t.Errorf("got %d skipped records, missing channels %v; want none", len(c.Skipped), c.Missing)
	}
	var installs int
	for _, ev := range c.Events {
		if (ev.EventID == 7045 || ev.EventID == 4697) && strings.Contains(
			ev.Value("ServiceName")+ev.Value("ImagePath")+ev.Value("ServiceFileName"),
			p.Vars["service"]+"") {
			installs++
		}
		if ev.Time.Before(since) {
			t.Errorf("event %d at %v precedes the start %v", ev.RecordID, ev.Time, since)
		}
	}
	if installs < 1 {
		t.Errorf("no 7045/4697 for service %s among %d events", p.Vars["service"], len(c.Events))
	}
}

// TestNTLMAgainstSimulatedEndpoint authenticates with NTLM only (the
// endpoint offers Negotiate and no Basic), as a domain lab would.
func TestNTLMAgainstSimulatedEndpoint(t *testing.T) {
	lab, err := sim.NewLab(sim.LabConfig{Hosts: []sim.HostConfig{{Name: "WS01"}}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := wsman.New(wsman.Config{Commander: lab.Host("WS01"), User: `LAB\harness`,
		Password: "lab-only-secret", ComputerName: "WS01", AllowUnencrypted: true,
		Auth: wsman.AuthNegotiate})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tgt := Target{Name: "WS01", Endpoint: url, Auth: AuthNTLM, User: `LAB\harness`,
		Password: "lab-only-secret"}
	c, err := NewClient(tgt, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(context.Background(), scenarios.Cmd, "hostname")
	if err != nil || !strings.Contains(res.Stdout, "WS01") {
		t.Errorf("got %q, %v; want the host name", res.Stdout, err)
	}
	tgt.Password = "wrong"
	c, _ = NewClient(tgt, Options{})
	if _, err := c.Run(context.Background(), scenarios.Cmd, "hostname"); !errors.Is(err, ErrAuth) {
		t.Errorf("wrong NTLM password: got %v; want ErrAuth", err)
	}
}

// TestEmulateOnSimulatedLab runs a malicious scenario end to end on lab
// hosts that carry the marker: the install is in the evidence, cleanup's
// own commands are not, and nothing is left behind.
func TestEmulateOnSimulatedLab(t *testing.T) {
	w, roles := simLab(t)
	ctx := context.Background()
	hosts := map[string]HostInfo{}
	for _, h := range roles {
		if err := Upload(ctx, w, h, DefaultLabMarker, []byte("lab")); err != nil {
			t.Fatal(err) // provisioning, done by the test
		}
		hosts[h] = HostInfo{Lab: true}
	}
	cat, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s, _ := cat.Lookup("sc-create-user-writable")
	p, err := s.Render(scenarios.Binding{RunID: "0123456789ab", Hosts: roles}, scenarios.NewRand(2))
	if err != nil {
		t.Fatal(err)
	}
	e := Emulate(ctx, w, p, EmulateOptions{Hosts: hosts,
		Payload: func(scenarios.PlannedPayload) ([]byte, error) { return []byte("MZ"), nil }})
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	svc := p.Vars["service"]
	var installed, cleanupSeen bool
	for _, ev := range e.Events {
		installed = installed || (ev.EventID == 7045 && ev.Value("ImagePath") != "" &&
			strings.Contains(ev.Value("ImagePath"), p.Vars["binary"]))
		cleanupSeen = cleanupSeen || strings.Contains(ev.Value("CommandLine"), "sc.exe stop "+svc)
	}
	if !installed || cleanupSeen {
		t.Errorf("got install in evidence %v, cleanup in evidence %v; want true, false",
			installed, cleanupSeen)
	}
}

// TestPowerShellErrorsAreTextOnSimulatedLab: the simulated host sends a
// PowerShell error as CLIXML, as Windows does under WinRS; the client
// gives the caller PowerShell's error text and keeps the CLIXML.
func TestPowerShellErrorsAreTextOnSimulatedLab(t *testing.T) {
	w, roles := simLab(t)
	res, err := w.Run(context.Background(), roles["target"], scenarios.PowerShell,
		"Get-Service -Name NoSuchSvc")
	if err != nil {
		t.Fatal(err)
	}
	want := "Get-Service : Cannot find any service with service name 'NoSuchSvc'.\n"
	if !strings.HasPrefix(res.Stderr, want) || strings.Contains(res.Stderr, "_x000D_") {
		t.Errorf("got Stderr %q; want it to start %q", res.Stderr, want)
	}
	if !strings.HasPrefix(res.RawStderr, "#< CLIXML") {
		t.Errorf("got RawStderr %q; want the CLIXML the host sent", res.RawStderr)
	}
}
