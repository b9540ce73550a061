// Package correlate is the AN1185 engine: it joins Windows service, registry,
// process, network, pipe and logon events per host into incidents, scores
// them by the signals that fired, and turns each incident that crosses the
// policy's threshold into one Alert with its ordered evidence.
//
// The engine is streaming: events go in one at a time, alerts come out when
// their incident can no longer grow (the correlation window plus the allowed
// lateness has passed on that host's clock) or when the engine is closed.
// State is bounded: it expires with the window and every table has a cap
// whose evictions are counted in Stats.
//
// An incident is one creation of a service on a host: a name created again
// (PsExec's PSEXESVC per session, smbexec's service per command) is a new
// incident, so approved activity never absorbs an attacker's. Evidence from a
// source that contradicts an incident's first one is kept as another origin,
// and an approval or remote-execution host that does not cover every origin
// does not suppress.
//
// A Policy holds the three AN1185 tunables (the service binary allowlist, the
// parent-process correlation window, the approved remote-execution hosts) and
// named approvals. Suppressed alerts are still produced, with SuppressedBy set
// to the approval that suppressed them.
//
//	pol, err := correlate.LoadPolicyFile("policy.yaml")
//	if err != nil {
//		return err // lists every problem with its line number
//	}
//	eng := correlate.New(pol, correlate.Options{})
//	for ev := range events {
//		eng.Process(ev)
//	}
//	alerts := eng.Close()
package correlate
