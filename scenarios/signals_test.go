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
