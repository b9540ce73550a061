package scenarios_test

import (
	"slices"
	"testing"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/scenarios"
)

// TestSignalsAreTheCorrelatorsNames keeps the names expectations may use in
// step with the signals the correlator raises.
func TestSignalsAreTheCorrelatorsNames(t *testing.T) {
	got, want := slices.Clone(scenarios.Signals), correlate.SignalNames()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got signals %v; want the correlator's %v", got, want)
	}
}

// TestEverySignalIsExpectedSomewhere: the suite only has teeth for a signal
// if some scenario fails when the correlator stops raising it.
func TestEverySignalIsExpectedSomewhere(t *testing.T) {
	c, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	expected := map[string]bool{}
	for _, s := range c.All() {
		for _, sig := range s.Expect.Signals {
			expected[sig] = true
		}
	}
	for _, sig := range correlate.SignalNames() {
		if !expected[sig] {
			t.Errorf("no scenario expects signal %s", sig)
		}
	}
}

// TestDefaultPolicyLoadsInTheCorrelator: the policy that ships beside the
// catalog is the correlator's format and holds every approval the catalog
// expects suppression by.
func TestDefaultPolicyLoadsInTheCorrelator(t *testing.T) {
	pol, err := correlate.LoadPolicy(scenarios.PolicyFile, scenarios.DefaultPolicy())
	if err != nil {
		t.Fatalf("load default policy: %v", err)
	}
	ids := map[string]bool{}
	for _, a := range pol.Approvals {
		ids[a.ID] = true
	}
	for _, e := range pol.Allowlist {
		ids[e.ID] = true
	}
	c, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for id := range ids {
		list = append(list, id)
	}
	if err := c.CheckApprovals(list); err != nil {
		t.Errorf("CheckApprovals with the default policy:\n%v", err)
	}
	err = c.CheckApprovals(nil)
	if n := len(scenarios.Problems(err)); n != 2 {
		t.Errorf("CheckApprovals with no approvals: got %d problems; want 2:\n%v", n, err)
	}
}
