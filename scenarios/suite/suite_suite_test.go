package suite_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/harness"
	"github.com/svcharness/svcharness/labs"
	"github.com/svcharness/svcharness/scenarios/suite"
)

func TestSuite(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Scenario catalog suite")
}

// What every spec of this process drives, set up once per process.
var (
	env     suite.Env
	view    *labs.Inventory // this process's share of the lab
	runs    *harness.Harness
	locks   suite.Locks
	payload emulate.PayloadFunc
)

// labStartTimeout bounds starting the simulated lab, or checking a real one
// and finishing the cleanup a killed run left behind.
const labStartTimeout = 5 * time.Minute

var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	e := suite.FromEnviron()
	dir, err := os.MkdirTemp("", "svcharness-suite-*")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	shared := suite.Shared{Locks: filepath.Join(dir, "locks"),
		Journal: filepath.Join(dir, "journal")}
	Expect(os.Mkdir(shared.Locks, 0o700)).To(Succeed())

	if e.Simulated() {
		suiteCfg, _ := GinkgoConfiguration()
		sl, err := harness.StartSimLab(harness.SimLabConfig{Dir: dir,
			Hosts: harness.SimHosts(suite.SimHostCount(suiteCfg.ParallelTotal)),
			Seed:  uint64(GinkgoRandomSeed())})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(sl.Close)
		shared.Inventory = sl.InventoryPath
		return shared.Encode()
	}
	shared.Inventory = e.Lab
	shared.Journal, err = e.JournalDir()
	Expect(err).NotTo(HaveOccurred())
	prepareRealLab(ctx, e, shared)
	return shared.Encode()
}, func(ctx SpecContext, data []byte) {
	shared, err := suite.DecodeShared(data)
	Expect(err).NotTo(HaveOccurred())
	env, locks = suite.FromEnviron(), suite.Locks{Dir: shared.Locks}
	inv, err := labs.Load(shared.Inventory)
	Expect(err).NotTo(HaveOccurred())
	suiteCfg, _ := GinkgoConfiguration()
	view = suite.Share(inv, GinkgoParallelProcess(), suiteCfg.ParallelTotal)
	runs = newHarness(shared)
}, NodeTimeout(labStartTimeout))

// prepareRealLab checks a real lab before anything runs on it and finishes
// the cleanup of runs that were killed.
func prepareRealLab(ctx SpecContext, e suite.Env, shared suite.Shared) {
	inv, err := labs.Load(e.Lab)
	Expect(err).NotTo(HaveOccurred())
	lab, err := harness.OpenLab(inv, emulate.Options{})
	Expect(err).NotTo(HaveOccurred())
	check := labs.Check(ctx, inv, emulate.LabProber(lab.Runner), labs.CheckOptions{})
	var text strings.Builder
	Expect(check.WriteText(&text)).To(Succeed())
	GinkgoWriter.Println(text.String())
	if check.Unreachable() {
		Fail("the lab is unreachable (svcharness lab check --lab " + e.Lab + "):\n" + text.String())
	}
	journal, err := emulate.OpenJournal(shared.Journal)
	Expect(err).NotTo(HaveOccurred())
	Expect(journal.Recover(ctx, lab.Runner)).To(Succeed(),
		"finish the cleanup that a killed run left behind")
}

func newHarness(shared suite.Shared) *harness.Harness {
	lab, err := harness.OpenLab(view, emulate.Options{})
	Expect(err).NotTo(HaveOccurred())
	pol, err := env.LoadPolicy()
	Expect(err).NotTo(HaveOccurred())
	payload, err = env.Payload()
	Expect(err).NotTo(HaveOccurred())
	journal, err := emulate.OpenJournal(shared.Journal)
	Expect(err).NotTo(HaveOccurred())
	h, err := harness.New(harness.Config{Lab: lab, Policy: pol, Payload: payload,
		Journal: journal, Sink: env.Sink, Settle: env.Settle(),
		Seed:   uint64(GinkgoRandomSeed()) + uint64(GinkgoParallelProcess()),
		Logger: slog.New(slog.NewTextHandler(GinkgoWriter, nil))})
	Expect(err).NotTo(HaveOccurred())
	return h
}
