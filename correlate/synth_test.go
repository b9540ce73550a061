package correlate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/svcharness/svcharness/telemetry"
	"github.com/svcharness/svcharness/telemetry/synth"
)

// synthPolicy approves what the generator's fleet does legitimately: remote
// administration from its admin hosts, and the Zoom installer's Temp service.
func synthPolicy(t *testing.T, g *synth.Generator) *Policy {
	var b strings.Builder
	b.WriteString("remote_execution_hosts:\n")
	for _, h := range g.AdminHosts() {
		fmt.Fprintf(&b, "  - %s\n  - %s\n", h.Name, h.IP)
	}
	b.WriteString(`approvals:
  - id: zoom-sharing-service
    reason: the Zoom installer runs its sharing service from the user's Temp folder
    owner: endpoint-team
    match:
      service: ZoomCptService
      image: 'C:\Users\Public\AppData\Local\Temp\Zoom\CptService.exe'
`)
	pol, err := LoadPolicy("synth", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// TestSynthLabelledStream runs a labelled synthetic fleet stream, with
// duplicates and late events, and checks that every injected attack chain is
// reported on its host and that nothing else is left unsuppressed.
func TestSynthLabelledStream(t *testing.T) {
	g, err := synth.New(synth.Config{Hosts: 60, EventsPerSecond: 200, AttackEvery: 4000,
		Seed: 7, DuplicateEvery: 500, LateEvery: 700, MaxLateness: DefaultLateness / 2})
	if err != nil {
		t.Fatal(err)
	}
	pol := synthPolicy(t, g)
	eng := New(pol, Options{})
	chains := map[uint64]synth.Label{}
	for range 150_000 {
		ev, l := g.Next()
		if l.Malicious && l.Host != "" {
			if _, ok := chains[l.Chain]; !ok || l.Service != "" {
				chains[l.Chain] = l
			}
		}
		eng.Process(ev)
	}
	alerts := unsuppressed(eng.Close())
	if len(chains) < 20 {
		t.Fatalf("got %d attack chains; want a stream with at least 20", len(chains))
	}
	attacked := map[string]bool{}
	for _, l := range chains {
		attacked[l.Host+"|"+strings.ToLower(l.Service)] = true
		attacked[l.Host+"|"] = true
		if !slicesAny(alerts, func(a Alert) bool { return reports(a, l) }) {
			t.Errorf("chain %d (%s on %s, service %q): got no unsuppressed alert", l.Chain,
				l.Scenario, l.Host, l.Service)
		}
	}
	for _, a := range alerts {
		host := telemetry.CanonicalHost(a.Host)
		if !attacked[host+"|"+strings.ToLower(a.Service)] && !attacked[host+"|"] {
			t.Errorf("false positive: %s %q %v score %d reasons %q", a.Host, a.Service, a.Signals,
				a.Score, a.Reasons)
		}
	}
	t.Logf("%d attack chains, %d unsuppressed alerts, stats %+v", len(chains), len(alerts), eng.Stats())
}

// reports reports whether an alert covers an attack chain.
func reports(a Alert, l synth.Label) bool {
	if telemetry.CanonicalHost(a.Host) != l.Host {
		return false
	}
	return l.Service == "" || strings.EqualFold(a.Service, l.Service) ||
		slicesAny(a.Services, func(s string) bool { return strings.EqualFold(s, l.Service) })
}
