package correlate

import (
	"slices"
	"testing"

	"github.com/svcharness/svcharness/telemetry/synth"
)

// TestDisabledSignals switches each signal off in turn over a synthetic
// stream with every attack chain: the signal appears in no alert, and every
// score is the sum of the weights of the signals the alert lists (plus the
// one-liner bonus only with nonstandard_binary), so it added nothing.
func TestDisabledSignals(t *testing.T) {
	for sig := range numSignals {
		t.Run(sig.String(), func(t *testing.T) {
			g, err := synth.New(synth.Config{Hosts: 20, EventsPerSecond: 500, AttackEvery: 1500,
				Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			eng := New(synthPolicy(t, g), Options{DisabledSignals: []Signal{sig}})
			for range 30_000 {
				ev, _ := g.Next()
				eng.Process(ev)
			}
			alerts := eng.Close()
			if len(alerts) == 0 {
				t.Fatal("got no alerts at all; want the other signals still to alert")
			}
			for _, a := range alerts {
				if slices.Contains(a.Signals, sig.String()) {
					t.Errorf("alert %q lists disabled signal %s", a.Service, sig)
				}
				if want := scoreOf(a.Signals); a.Score != want &&
					!(slices.Contains(a.Signals, NonstandardBinary.String()) &&
						a.Score == min(want+oneLinerBonus, 100)) {
					t.Errorf("alert %q %v: got score %d; want %d from its signals", a.Service,
						a.Signals, a.Score, want)
				}
			}
		})
	}
}

// TestDisabledSignalChangesVerdict: with psexec_family off, a bare PsExec
// install scores 40 less; with install_burst off, smbexec's burst is no
// longer merged, so each create is its own alert.
func TestDisabledSignalChangesVerdict(t *testing.T) {
	burst := correlateAll(t, nil, smbexecSession(6, true)...)
	eng := New(nil, Options{DisabledSignals: []Signal{InstallBurst}})
	for _, ev := range smbexecSession(6, true) {
		eng.Process(ev)
	}
	split := eng.Close()
	if len(burst) != 1 || len(split) != 6 || hasSignal(split, InstallBurst) {
		t.Errorf("got %d alerts with install_burst and %d without (burst signal %v); "+
			"want 1 and 6, "+
			"none with install_burst", len(burst), len(split), hasSignal(split, InstallBurst))
	}
}

func scoreOf(names []string) int {
	total := 0
	for _, n := range names {
		if s, ok := ParseSignal(n); ok {
			total += signalWeights[s]
		}
	}
	return min(total, 100)
}
