// Package assert holds the Gomega matchers svcharness suites use to judge what
// the correlator concluded about one scenario run.
//
// The matchers read correlate.Alert values (a run's alerts as a
// []correlate.Alert, or one alert) and never run anything:
//
//	alerts := assert.Related(plan, eng.Close())
//	Expect(alerts).To(assert.ReportTruePositive(plan))
//	Expect(alerts).To(assert.BeSuppressedBy("approved-jump-psexec"))
//	Expect(alerts).To(assert.StaySilent())
//	Expect(alert).To(assert.HaveSignals("service_installed", "psexec_family"))
//	Expect(alert).To(assert.HaveEvidence("System:7045", "Sysmon:13"))
//	Expect(alerts).To(assert.MeetExpectation(plan)) // whichever the scenario states
//
// Related keeps the alerts that join back to a run: on one of the run's hosts,
// and naming one of the names the run generated (Plan.JoinKeys) or a service
// its commands name. A matcher given an input of the wrong type, an unknown
// signal name or a malformed evidence kind returns an error rather than
// failing, so that a mistake in a suite is not mistaken for a missed
// detection. Failure messages list the alerts found, each with the reason it
// does not qualify, or the evidence that is missing.
package assert
