package assert

import (
	"strings"
	"unicode"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/scenarios"
	"github.com/svcharness/svcharness/telemetry"
)

// minServiceToken is the shortest service name that joins an alert to a plan
// by appearing in its commands; shorter names ("sc", "c") would join by
// accident.
const minServiceToken = 3

// Related returns the alerts of alerts that join back to the run p planned,
// in their order. It never modifies alerts.
func Related(p *scenarios.Plan, alerts []correlate.Alert) []correlate.Alert {
	if p == nil {
		return nil
	}
	j := newJoin(p)
	var out []correlate.Alert
	for i := range alerts {
		if j.joins(&alerts[i]) {
			out = append(out, alerts[i])
		}
	}
	return out
}

// Joins reports whether alert a joins back to the run p planned: it is on one
// of the plan's hosts, and either one of the run's join keys (the run ID and
// every generated name) appears in its service, display name, image path or
// burst services, or its service is named in the plan's commands or cleanup
// checks (PSEXESVC, Fax: names a tool or a scenario fixes).
func Joins(p *scenarios.Plan, a *correlate.Alert) bool {
	return p != nil && a != nil && newJoin(p).joins(a)
}

// join holds what a plan contributes to joining alerts to it.
type join struct {
	hosts  map[string]bool // canonical host names
	keys   []string        // lower-case join keys
	tokens map[string]bool // lower-case words of the plan's commands
	plan   *scenarios.Plan
}

func newJoin(p *scenarios.Plan) *join {
	j := &join{hosts: map[string]bool{}, tokens: map[string]bool{}, plan: p}
	for _, h := range p.Hosts {
		j.hosts[telemetry.CanonicalHost(h)] = true
	}
	for _, k := range p.JoinKeys() {
		if k != "" {
			j.keys = append(j.keys, strings.ToLower(k))
		}
	}
	for _, text := range planTexts(p) {
		for _, w := range words(text) {
			j.tokens[w] = true
		}
	}
	return j
}

func (j *join) joins(a *correlate.Alert) bool {
	if !j.hosts[telemetry.CanonicalHost(a.Host)] {
		return false
	}
	fields := append([]string{a.Service, a.DisplayName, a.ImagePath}, a.Services...)
	for _, f := range fields {
		lf := strings.ToLower(f)
		for _, k := range j.keys {
			if strings.Contains(lf, k) {
				return true
			}
		}
	}
	names := append([]string{a.Service}, a.Services...)
	for _, n := range names {
		if len(n) >= minServiceToken && j.tokens[strings.ToLower(n)] {
			return true
		}
	}
	return false
}

// planTexts returns every rendered string of a plan that can name a service.
func planTexts(p *scenarios.Plan) []string {
	var out []string
	for _, c := range p.Steps {
		out = append(out, c.Line)
	}
	for _, c := range p.Cleanup {
		out = append(out, c.Line)
	}
	for _, c := range p.Checks {
		out = append(out, c.Target)
	}
	for _, v := range p.Vars {
		out = append(out, v)
	}
	return out
}

// words splits s into lower-case words of letters, digits and the punctuation
// service names use ('_', '-', '$'); dots, slashes and quotes separate, so
// that C:\Windows\PSEXESVC.exe yields "psexesvc".
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '$'
	})
}
