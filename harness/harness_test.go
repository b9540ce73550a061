package harness

import (
	"context"
	"testing"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/report"
	"github.com/svcharness/svcharness/scenarios"
)

// startLab starts the default simulated lab for a test.
func startLab(t *testing.T, cfg SimLabConfig) *SimLab {
	t.Helper()
	cfg.Dir = t.TempDir()
	sl, err := StartSimLab(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sl.Close)
	return sl
}

func defaultPolicy(t *testing.T) *correlate.Policy {
	t.Helper()
	pol, err := correlate.LoadPolicy("policy.yaml", scenarios.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

func newHarness(t *testing.T, sl *SimLab, mod func(*Config)) *Harness {
	t.Helper()
	lab, err := OpenLab(sl.Inventory, emulate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Lab: lab, Policy: defaultPolicy(t), RunID: "0123456789ab", Seed: 7,
		Sink: "10.10.0.250:8443", Payload: StandInPayload}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCatalogOnSimulatedLab(t *testing.T) {
	sl := startLab(t, SimLabConfig{Seed: 1})
	h := newHarness(t, sl, func(c *Config) { c.Parallel = 2 })
	cat, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	run := h.Run(context.Background(), cat.All())
	if got, want := len(run.Results), cat.Len(); got != want {
		t.Fatalf("got %d results; want %d", got, want)
	}
	for _, r := range run.Results {
		if r.Verdict != report.Pass {
			t.Errorf("%s: got %s (%s): %s; want pass", r.ID, r.Verdict, r.Class, r.Reason)
		}
	}
	if run.Totals.Precision != 1 || run.Totals.Recall != 1 || run.Totals.SuppressionAccuracy != 1 {
		t.Errorf("got precision %v, recall %v, suppression accuracy %v; want 1, 1, 1",
			run.Totals.Precision, run.Totals.Recall, run.Totals.SuppressionAccuracy)
	}
}
