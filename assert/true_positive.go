package assert

import (
	"errors"
	"fmt"
	"strings"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"
	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/scenarios"
)

// ReportTruePositive succeeds when the alerts of a run ([]correlate.Alert)
// hold an unsuppressed alert that joins back to the run p planned (see Joins)
// and carries every signal the scenario expects. p's scenario must expect an
// alert. The failure message lists every alert found and why each does not
// qualify.
func ReportTruePositive(p *scenarios.Plan) types.GomegaMatcher {
	tp := truePositive{plan: p}
	return gcustom.MakeMatcher(tp.match).WithTemplate(truePositiveTemplate, tp)
}

const truePositiveTemplate = `{{if .Failure -}}
Expected a true positive for scenario {{.Data.ID}} (run {{.Data.RunID}}): an unsuppressed alert
on {{.Data.Hosts}} that joins back to the run and carries [{{.Data.Signals}}].
The run's join keys: {{.Data.Keys}}. Alerts found:
{{.Data.Explain .Actual}}
{{- else -}}
Expected no true positive for scenario {{.Data.ID}} (run {{.Data.RunID}}), but found:
{{.Data.Qualifying .Actual}}
{{- end}}`

// truePositive is ReportTruePositive's state; it is never modified after
// construction, so the matcher can run repeatedly.
type truePositive struct{ plan *scenarios.Plan }

func (t truePositive) match(actual any) (bool, error) {
	alerts, err := alertsOf(actual)
	if err != nil {
		return false, err
	}
	if err := t.check(); err != nil {
		return false, err
	}
	for i := range alerts {
		if t.why(&alerts[i]) == "" {
			return true, nil
		}
	}
	return false, nil
}

// check refuses a plan that cannot have a true positive.
func (t truePositive) check() error {
	switch {
	case t.plan == nil || t.plan.Scenario == nil:
		return errors.New("assert: ReportTruePositive needs a rendered plan with its scenario")
	case !t.plan.Scenario.Expect.Alert:
		return fmt.Errorf("assert: scenario %s does not expect an alert; "+
			"use MeetExpectation or the matcher its expectation names", t.plan.Scenario.ID)
	}
	return checkSignals(t.plan.Scenario.Expect.Signals)
}

// why returns "" when a is a true positive of the run, else the reason not.
func (t truePositive) why(a *correlate.Alert) string {
	if !Joins(t.plan, a) {
		return "does not join back to the run (another host, or no name the run made)"
	}
	if a.Suppressed() {
		return fmt.Sprintf("joins the run but is suppressed by %q", a.SuppressedBy)
	}
	if m := missingSignals(a, t.plan.Scenario.Expect.Signals); len(m) > 0 {
		return "joins the run but lacks signals [" + strings.Join(m, " ") + "]"
	}
	return ""
}

// ID, RunID, Hosts, Keys and Signals feed the message template.
func (t truePositive) ID() string    { return t.plan.Scenario.ID }
func (t truePositive) RunID() string { return t.plan.RunID }
func (t truePositive) Keys() string  { return strings.Join(t.plan.JoinKeys(), " ") }
func (t truePositive) Signals() string {
	return strings.Join(t.plan.Scenario.Expect.Signals, " ")
}
func (t truePositive) Hosts() string {
	var hs []string
	for _, r := range t.plan.Scenario.RoleNames() {
		hs = append(hs, r+"="+t.plan.Hosts[r])
	}
	return strings.Join(hs, ", ")
}

// Explain lists every alert with the reason it is not a true positive.
func (t truePositive) Explain(actual any) string {
	alerts, _ := alertsOf(actual)
	return listAlerts(alerts, t.why)
}

// Qualifying lists the alerts that are true positives of the run.
func (t truePositive) Qualifying(actual any) string {
	alerts, _ := alertsOf(actual)
	var ok []correlate.Alert
	for i := range alerts {
		if t.why(&alerts[i]) == "" {
			ok = append(ok, alerts[i])
		}
	}
	return listAlerts(ok, nil)
}
