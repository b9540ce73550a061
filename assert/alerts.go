package assert

import (
	"fmt"
	"strings"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/scenarios"
	"github.com/svcharness/svcharness/telemetry"
)

// alertsOf returns actual as the alerts of a run. Any type other than
// []correlate.Alert or []*correlate.Alert is an error, so that a suite that
// hands a matcher the wrong value fails loudly instead of passing.
func alertsOf(actual any) ([]correlate.Alert, error) {
	switch v := actual.(type) {
	case []correlate.Alert:
		return v, nil
	case []*correlate.Alert:
		out := make([]correlate.Alert, 0, len(v))
		for i, a := range v {
			if a == nil {
				return nil, fmt.Errorf("assert: alert %d is nil", i)
			}
			out = append(out, *a)
		}
		return out, nil
	}
	return nil, fmt.Errorf("assert: want the alerts of a run ([]correlate.Alert); got %T", actual)
}

// alertOf returns actual as one alert: a correlate.Alert or a non-nil
// *correlate.Alert.
func alertOf(actual any) (*correlate.Alert, error) {
	switch v := actual.(type) {
	case correlate.Alert:
		return &v, nil
	case *correlate.Alert:
		if v != nil {
			return v, nil
		}
		return nil, fmt.Errorf("assert: want an alert; got a nil *correlate.Alert")
	case []correlate.Alert, []*correlate.Alert:
		return nil, fmt.Errorf("assert: want one alert; got %T "+
			"(wrap the matcher in ContainElement to match any alert of a run)", actual)
	}
	return nil, fmt.Errorf("assert: want one alert (correlate.Alert); got %T", actual)
}

// OnHosts returns the alerts raised on any host the run p planned touched:
// everything the run can be blamed for, including a false positive that
// names nothing the run generated.
func OnHosts(p *scenarios.Plan, alerts []correlate.Alert) []correlate.Alert {
	if p == nil {
		return nil
	}
	hosts := map[string]bool{}
	for _, h := range p.Hosts {
		hosts[telemetry.CanonicalHost(h)] = true
	}
	var out []correlate.Alert
	for _, a := range alerts {
		if hosts[telemetry.CanonicalHost(a.Host)] {
			out = append(out, a)
		}
	}
	return out
}

// Describe returns a one-line summary of an alert for failure messages and
// reports: its host, service, image, signals and suppression.
func Describe(a *correlate.Alert) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s on %s: service %q", a.ID, a.Host, a.Service)
	if len(a.Services) > 1 {
		fmt.Fprintf(&b, " (burst of %d: %s)", len(a.Services), strings.Join(a.Services, ", "))
	}
	if a.ImagePath != "" {
		fmt.Fprintf(&b, ", image %q", a.ImagePath)
	}
	if a.SourceHost != "" {
		fmt.Fprintf(&b, ", from %s", a.SourceHost)
	}
	fmt.Fprintf(&b, ", signals [%s]", strings.Join(a.Signals, " "))
	if a.Suppressed() {
		fmt.Fprintf(&b, ", suppressed by %q", a.SuppressedBy)
	}
	return b.String()
}

// listAlerts renders alerts one per line, indented, each followed by what
// why says about it ("" adds nothing). No alerts renders as a sentence.
func listAlerts(alerts []correlate.Alert, why func(*correlate.Alert) string) string {
	if len(alerts) == 0 {
		return "    (no alerts at all)\n"
	}
	var b strings.Builder
	for i := range alerts {
		b.WriteString("    - " + Describe(&alerts[i]) + "\n")
		if why != nil {
			if w := why(&alerts[i]); w != "" {
				b.WriteString("      " + w + "\n")
			}
		}
	}
	return b.String()
}

// checkSignals returns an error naming every name that is not a correlator
// signal.
func checkSignals(names []string) error {
	var bad []string
	for _, n := range names {
		if _, ok := correlate.ParseSignal(n); !ok {
			bad = append(bad, fmt.Sprintf("%q", n))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("assert: unknown signal %s (want one of %s)",
			strings.Join(bad, ", "), strings.Join(correlate.SignalNames(), ", "))
	}
	return nil
}

// missingSignals returns the names of want that a does not carry, in order.
func missingSignals(a *correlate.Alert, want []string) []string {
	var out []string
	for _, s := range want {
		if !a.HasSignal(s) {
			out = append(out, s)
		}
	}
	return out
}
