// Package synth generates a deterministic stream of realistic Windows
// telemetry for a fleet of hosts, with labelled AN1185 attack chains injected
// at a chosen rate. Benchmarks and tests of the correlator feed on it.
//
// The stream mixes background activity (service state changes, per-user
// services created at every interactive logon, software installs, Windows
// Update and TrustedInstaller, Defender's MpKsl drivers, svchost children,
// process and network noise, and approved PsExec and PDQ deployments from
// the jump host JUMP01) with attack chains (PsExec from another host,
// impacket smbexec, a local sc.exe service running %COMSPEC%, Caldera's
// remote sc.exe service whose agent beacons out, a service created in the
// registry only, an existing service's ImagePath hijacked). Optionally hosts
// also audit process creation (Security 4688), lack some telemetry (no
// Sysmon, no 4697 audit: the missing legs a correlator must survive), and
// some records arrive twice or late, as collectors deliver them. Inject
// queues an exact chain on a chosen host for tests that need a sequence.
// Every event has the field names, order and value shapes of the real
// Windows event, so the telemetry views decode it as they decode a recording.
//
// Usage:
//
//	g, err := synth.New(synth.Config{Hosts: 50, EventsPerSecond: 5000,
//		AttackEvery: 10000, Seed: 1})
//	for range 1_000_000 {
//		e, label := g.Next()
//		if label.Malicious { … } // e belongs to attack chain label.Chain
//	}
//
// The same Config gives the same stream, event for event. Events and their
// field values are never reused by the generator: callers may keep them.
package synth
