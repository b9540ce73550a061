// Package harness runs scenario catalogs on a lab and judges each run: the
// orchestration shared by "svcharness run" and the Ginkgo suites.
//
// A Harness holds a Lab (an inventory and a runner that reaches its hosts:
// WinRM, or a dry run), a correlator policy and a worker pool. For each
// scenario it waits for hosts that can play the scenario's roles and that
// no other running scenario holds, renders the plan, runs it with
// emulate.Emulate (interlock, steps, telemetry, verified cleanup), feeds the
// telemetry the plan's hosts recorded to a fresh correlator, joins the
// alerts back to the plan through the names it generated, and sets the
// verdict and confusion class in a report.Result.
//
// The judgement follows DESIGN.md's Verdict contract. A failed emulation is
// an emulation error before anything else and is never a missed detection;
// a sensor the scenario requires that the target lacks is a skip. An alert
// joins a scenario when its service, display name, image path or evidence
// records carry the run ID or a generated name, or when the plan's own
// commands name its service; the lab is never asked. A malicious scenario
// passes only on a joined, unsuppressed alert that carries every expected
// signal. Because a scenario holds its hosts exclusively, any unsuppressed
// alert in its window counts against a scenario that must stay silent or be
// suppressed, joined or not.
//
// One correlator per scenario, not per run: incidents, logons and burst
// counts never leak from one scenario into the next, and a verdict is final
// as soon as its scenario ends.
//
// StartSimLab serves the built-in simulated lab on loopback (one WinRM
// endpoint per host, a random password in a 0600 file, the lab marker on
// every host), as "svcharness lab serve" and "svcharness run" without --lab
// do:
//
//	sl, err := harness.StartSimLab(harness.SimLabConfig{Dir: dir})
//	defer sl.Close()
//	lab, err := harness.OpenLab(sl.Inventory, emulate.Options{})
//	h, err := harness.New(harness.Config{Lab: lab, Policy: pol,
//		Payload: harness.StandInPayload, Parallel: 2})
//	run := h.Run(ctx, catalog.All())      // a *report.Run
//	o := h.RunScenario(ctx, s)             // one scenario, with its alerts
package harness
