package suite_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/svcharness/svcharness/assert"
	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/harness"
	"github.com/svcharness/svcharness/report"
	"github.com/svcharness/svcharness/scenarios"
	"github.com/svcharness/svcharness/scenarios/suite"
)

// scenarioTimeout bounds one scenario: waiting for its hosts, its steps,
// collection and cleanup on a real lab.
const scenarioTimeout = 10 * time.Minute

var _ = Describe("The AN1185 detection", Label("lab"), func() {
	cat, err := suite.FromEnviron().Catalog()
	if err != nil {
		It("has a scenario catalog to judge", func() { Fail(err.Error()) })
		return
	}

	// Entries are built from the catalog when the tree is built; each is
	// labelled so that --label-filter selects by intent, technique or tool.
	var entries []TableEntry
	for _, s := range cat.All() {
		entries = append(entries, Entry(s.ID+": "+s.Name, s, Label(s.AllLabels()...),
			SpecTimeout(scenarioTimeout)))
	}
	DescribeTable("concludes what each catalog scenario expects", judge, entries)
})

// judge runs one scenario on this process's hosts, through the same harness
// as "svcharness run", and asserts the correlator's conclusion.
func judge(ctx SpecContext, s *scenarios.Scenario) {
	if payload == nil && harness.NeedsCanary([]*scenarios.Scenario{s}) {
		Skip("the scenario places the canary: build it (task canary) and set " +
			suite.EnvCanary)
	}
	hosts, err := emulate.BindRoles(s, view)
	if errors.Is(err, emulate.ErrNoHostForRole) {
		Skip(err.Error())
	}
	Expect(err).NotTo(HaveOccurred())
	release, err := locks.Acquire(ctx, slices.Collect(maps.Values(hosts)))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(release)

	o := runs.RunScenario(ctx, s)
	describeOutcome(o)
	r := o.Result
	Expect(o.Plan).NotTo(BeNil(), r.Reason)
	Expect(o.Plan.Hosts).To(Equal(hosts), "the harness ran on hosts this process did not lock")
	Expect(r.EmulationError).To(BeEmpty(), "emulation error: the detection was not judged")
	Expect(r.CleanupError).To(BeEmpty(), "cleanup left something behind")
	if r.Verdict == report.Skip {
		Skip(r.Reason)
	}
	Expect(o.Alerts).To(assert.MeetExpectation(o.Plan))
	Expect(r.Verdict).To(Equal(report.Pass), "svcharness run's verdict: %s", r.Reason)
}

// describeOutcome writes what a person debugging a failure wants first.
func describeOutcome(o *harness.Outcome) {
	r := o.Result
	GinkgoWriter.Printf("hosts %v; %d events; verdict %s (%s): %s\n", r.Hosts, r.EventsCount,
		r.Verdict, r.Class, r.Reason)
	for i := range o.Alerts {
		GinkgoWriter.Println("  alert " + assert.Describe(&o.Alerts[i]))
	}
	if r.EmulationError != "" {
		GinkgoWriter.Println("  emulation: " + strings.TrimSpace(r.EmulationError))
	}
}
