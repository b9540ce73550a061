// Package scenarios holds the svcharness scenario catalog: benign, approved
// and malicious service-execution scenarios as YAML files embedded in the
// binary, their schema and validation, and their rendering into the exact
// commands one run sends to its lab hosts.
//
// A scenario names its host roles, the payloads to place, the steps to run
// (cmd or PowerShell command lines), the cleanup and how to verify it, and
// what the correlator must conclude: an alert with given signals,
// suppression by a named approval, or silence. SCHEMA.md documents every
// key; the catalog itself is in catalog/.
//
// Loading reports every problem of every file at once, each with its file,
// line and YAML path:
//
//	cat, err := scenarios.Open(userDirs...) // built-in plus --catalog dirs
//	if err != nil {
//		return err // errors.Is(err, scenarios.ErrInvalid); Problems(err) lists them
//	}
//	s, _ := cat.Lookup("psexec-default")
//	plan, err := s.Render(scenarios.Binding{
//		RunID: runID,
//		Hosts: map[string]string{"attacker": "WS02", "target": "WS01"},
//		Sink:  "10.10.0.250:8443",
//	}, scenarios.NewRand(seed))
//
// A Plan holds every rendered command, payload and cleanup check, and every
// random name the run generated (Plan.Names, Plan.JoinKeys), so that the
// telemetry a run caused can be joined back to it. Names imitate the tool a
// scenario mimics; the run ID goes only where that tool leaves room (a
// display name, a description, a marker file, a payload argument), and
// validation refuses a service name that contains it.
//
// This package never talks to hosts; package emulate runs plans.
package scenarios
