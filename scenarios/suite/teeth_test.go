package suite_test

import (
	"maps"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/svcharness/svcharness/assert"
	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/harness"
	"github.com/svcharness/svcharness/scenarios"
	"github.com/svcharness/svcharness/telemetry"
)

// The suite has teeth when switching off any one signal of the correlator
// makes at least one catalog scenario fail: every signal is one that some
// scenario's verdict depends on. The catalog runs once; each signal's spec
// re-correlates the telemetry every scenario collected with that signal off
// and judges it with the same matcher the catalog specs use.
var _ = Describe("The catalog's verdicts", Ordered, Label("teeth"), func() {
	var (
		outcomes []*harness.Outcome
		pol      *correlate.Policy
	)

	BeforeAll(func(ctx SpecContext) {
		var err error
		pol, err = env.LoadPolicy()
		Expect(err).NotTo(HaveOccurred())
		cat, err := env.Catalog()
		Expect(err).NotTo(HaveOccurred())
		for _, s := range cat.All() {
			if o := runForTeeth(ctx, s); o != nil {
				outcomes = append(outcomes, o)
			}
		}
		Expect(outcomes).NotTo(BeEmpty(), "no scenario could run on this lab")
	}, NodeTimeout(30*time.Minute))

	var entries []TableEntry
	for _, name := range correlate.SignalNames() {
		entries = append(entries, Entry(name, name))
	}
	DescribeTable("fail at least one scenario when a signal is switched off",
		func(name string) {
			sig, ok := correlate.ParseSignal(name)
			Expect(ok).To(BeTrue(), "signal %q", name)
			var failed []string
			for _, o := range outcomes {
				alerts := correlateWithout(pol, o.Emulation.Events, sig)
				if met, err := assert.MeetExpectation(o.Plan).Match(alerts); err == nil && !met {
					failed = append(failed, o.Plan.Scenario.ID)
				}
			}
			GinkgoWriter.Printf("without %s, failing: %v\n", name, failed)
			Expect(failed).NotTo(BeEmpty(), "switching %s off fails no scenario: no "+
				"expectation depends on it, so the suite would not notice it broken", name)
		}, entries)
})

// runForTeeth runs one scenario and requires it to pass as it is: a catalog
// that already fails proves nothing about a switched-off signal. It returns
// nil for a scenario this lab skips.
func runForTeeth(ctx SpecContext, s *scenarios.Scenario) *harness.Outcome {
	if payload == nil && harness.NeedsCanary([]*scenarios.Scenario{s}) {
		return nil
	}
	hosts, err := emulate.BindRoles(s, view)
	if err != nil {
		return nil
	}
	release, err := locks.Acquire(ctx, slices.Collect(maps.Values(hosts)))
	Expect(err).NotTo(HaveOccurred())
	defer release()
	o := runs.RunScenario(ctx, s)
	Expect(o.Result.EmulationError).To(BeEmpty(), s.ID)
	Expect(o.Alerts).To(assert.MeetExpectation(o.Plan), s.ID)
	return o
}

// correlateWithout runs a fresh engine with one signal switched off over the
// events a scenario collected.
func correlateWithout(pol *correlate.Policy, events []*telemetry.Event,
	sig correlate.Signal) []correlate.Alert {
	eng := correlate.New(pol, correlate.Options{DisabledSignals: []correlate.Signal{sig}})
	for _, ev := range events {
		eng.Process(ev)
	}
	return eng.Close()
}
