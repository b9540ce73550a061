package harness

import (
	"context"
	"errors"
	"testing"

	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/labs/sim/wsman"
	"github.com/svcharness/svcharness/report"
	"github.com/svcharness/svcharness/scenarios"
)

// TestFaultsAreEmulationErrors injects one fault into the simulated lab
// while a malicious scenario runs, after its interlock and clock reading and
// during its payload and steps. The scenario must be an emulation error,
// never a missed detection, its cleanup must have run, and nothing it made
// may remain on the host.
func TestFaultsAreEmulationErrors(t *testing.T) {
	cases := []struct {
		rule string
		auth labs.AuthMethod
		kind error
	}{
		{"command:drop*1+6", labs.AuthNTLM, emulate.ErrDisconnected},
		// One 401 is absorbed by NTLM, which negotiates again, as it does
		// against Windows; Basic has no second chance.
		{"create:auth*1+6", labs.AuthBasic, emulate.ErrAuth},
		{"create:auth*2+6", labs.AuthNTLM, emulate.ErrAuth},
		{"create:fault=internal*1+6", labs.AuthNTLM, emulate.ErrEmulation},
	}
	for _, tc := range cases {
		t.Run(tc.rule+" "+string(tc.auth), func(t *testing.T) {
			rule, err := wsman.ParseRule(tc.rule)
			if err != nil {
				t.Fatal(err)
			}
			sl := startLab(t, SimLabConfig{Seed: 1, Auth: tc.auth,
				Faults: []wsman.Rule{rule}})
			h := newHarness(t, sl, nil)
			cat, _ := scenarios.Builtin()
			s, _ := cat.Lookup("sc-create-user-writable")
			o := h.RunScenario(context.Background(), s)
			checkEmulationError(t, o, tc.kind)
			checkNothingLeft(t, sl, o)
		})
	}
}

func checkEmulationError(t *testing.T, o *Outcome, kind error) {
	t.Helper()
	r := o.Result
	if r.Verdict != report.Error || r.Class != report.EmulationError {
		t.Fatalf("got %s (%s): %s; want error (emulation-error)", r.Verdict, r.Class, r.Reason)
	}
	t.Logf("steps run %d, cleanup run %d, steps error: %v", len(o.Emulation.Outcome.Steps),
		len(o.Emulation.Outcome.Cleanup), o.Emulation.Outcome.StepsErr)
	if err := o.Emulation.Outcome.StepsErr; !errors.Is(err, kind) {
		t.Errorf("got steps error %v; want one matching %v", err, kind)
	}
	if steps := o.Emulation.Outcome.Steps; len(steps) < 2 || steps[0].Err != nil {
		t.Errorf("the fault hit before the first step had run; want it mid-scenario")
	}
	if len(o.Emulation.Outcome.Cleanup) == 0 {
		t.Error("no cleanup step ran")
	}
}

func checkNothingLeft(t *testing.T, sl *SimLab, o *Outcome) {
	t.Helper()
	host := sl.Host(o.Plan.Hosts["target"])
	if svc := o.Plan.Vars["service"]; svc != "" {
		if _, ok := host.ServiceInfo(svc); ok {
			t.Errorf("service %s is still installed", svc)
		}
	}
	for _, p := range o.Plan.Payloads {
		if _, ok := host.ReadFile(p.Path); ok {
			t.Errorf("payload %s is still on the host", p.Path)
		}
	}
	if o.Result.CleanupError != "" {
		t.Errorf("cleanup: %s", o.Result.CleanupError)
	}
}

// TestFaultAffectsOnlyItsScenario runs three scenarios one after another
// with one dropped connection during the first: it alone is an emulation
// error, the run's totals do not count it as missed, and the others pass.
func TestFaultAffectsOnlyItsScenario(t *testing.T) {
	rule, err := wsman.ParseRule("command:drop*1+6")
	if err != nil {
		t.Fatal(err)
	}
	sl := startLab(t, SimLabConfig{Seed: 1, Faults: []wsman.Rule{rule}})
	h := newHarness(t, sl, nil)
	cat, _ := scenarios.Builtin()
	list, err := Select(cat, []string{"impacket-psexec", "psexec-default", "spooler-restart"}, "")
	if err != nil {
		t.Fatal(err)
	}
	run := h.Run(context.Background(), list)
	want := map[string]report.Verdict{"impacket-psexec": report.Error,
		"psexec-default": report.Pass, "spooler-restart": report.Pass}
	for _, r := range run.Results {
		if r.Verdict != want[r.ID] {
			t.Errorf("%s: got %s (%s): %s; want %s", r.ID, r.Verdict, r.Class, r.Reason,
				want[r.ID])
		}
	}
	if fn := run.Totals.Classes[report.FalseNegative]; fn != 0 || run.Totals.Recall != 1 {
		t.Errorf("got %d false negatives, recall %v; want 0 and 1", fn, run.Totals.Recall)
	}
}
