// Package suite holds the Ginkgo suites that run the scenario catalog against
// a lab, and what they share: where the lab comes from (the built-in
// simulated lab, or the inventory SVCHARNESS_LAB names), each parallel
// process's share of the lab's hosts, and host locks that hold across
// processes.
//
// The suites drive the same library as "svcharness run" (package harness):
// one DescribeTable entry per catalog scenario, labelled with its intent,
// techniques, tools and labels, judged with the matchers of package assert
// and required to agree with the harness's own verdict. A second table, the
// teeth test (label "teeth"), switches each correlator signal off in turn
// (correlate.Options.DisabledSignals) and requires at least one scenario to
// fail for each.
//
//	go test ./scenarios/suite                       # simulated lab, one process
//	go tool ginkgo -r -p --label-filter='psexec'    # every suite, in parallel
//	SVCHARNESS_LAB=lab/inventory.yaml SVCHARNESS_CANARY=bin/canary.exe \
//	    go tool ginkgo -p ./scenarios/suite         # a real lab
//
// Environment: SVCHARNESS_LAB (inventory; the simulated lab when unset),
// SVCHARNESS_POLICY (policy file; the catalog's default when unset),
// SVCHARNESS_CANARY (the canary built for windows/amd64; a real lab skips the
// scenarios that place it without one), SVCHARNESS_SINK (the canary's sink,
// host:port), SVCHARNESS_JOURNAL (cleanup journal directory of a real lab),
// SVCHARNESS_CATALOG (extra scenario directories, list-separated).
//
// With -p, process 1 starts the simulated lab once (SynchronizedBeforeSuite)
// with a workstation and a server per process; each process drives its own
// pair and shares the jump and management hosts, which the locks here keep
// to one scenario at a time across all processes. On a real lab, process 1
// first runs labs.Check (an unreachable lab fails the suite at once) and
// finishes the cleanup a killed run left in the journal.
package suite
