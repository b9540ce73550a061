package assert

import (
	"errors"
	"fmt"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"
	"github.com/svcharness/svcharness/correlate"
)

// BeSuppressedBy succeeds for one alert (correlate.Alert or *correlate.Alert)
// that the approval called approvalID suppressed, and for the alerts of a run
// ([]correlate.Alert) when at least one was suppressed by that approval and
// none is unsuppressed: "stayed quiet because approved", not "stayed quiet
// because nothing fired". The failure message lists the alerts found.
func BeSuppressedBy(approvalID string) types.GomegaMatcher {
	s := suppressed{id: approvalID}
	return gcustom.MakeMatcher(s.match).WithTemplate(suppressedTemplate, s)
}

const suppressedTemplate = `Expected {{.Data.What .Actual}} {{.To}} be suppressed by approval ` +
	`"{{.Data.ID}}"{{if .Failure}}{{.Data.Problem .Actual}}{{end}}. Alerts found:
{{.Data.List .Actual}}`

// suppressed is BeSuppressedBy's state, fixed at construction.
type suppressed struct{ id string }

func (s suppressed) match(actual any) (bool, error) {
	if s.id == "" {
		return false, errors.New("assert: BeSuppressedBy needs an approval ID")
	}
	if _, err := alertOf(actual); err == nil {
		a, _ := alertOf(actual)
		return a.SuppressedBy == s.id, nil
	}
	alerts, err := alertsOf(actual)
	if err != nil {
		return false, fmt.Errorf("assert: BeSuppressedBy wants an alert or the alerts of a run; "+
			"got %T", actual)
	}
	by := false
	for i := range alerts {
		if !alerts[i].Suppressed() {
			return false, nil
		}
		by = by || alerts[i].SuppressedBy == s.id
	}
	return by, nil
}

// ID feeds the message template.
func (s suppressed) ID() string { return s.id }

// What names the actual value in the message.
func (s suppressed) What(actual any) string {
	if _, err := alertOf(actual); err == nil {
		return "the alert"
	}
	return "the run's alerts"
}

// Problem says why a run's alerts are not suppressed by the approval.
func (s suppressed) Problem(actual any) string {
	alerts, err := alertsOf(actual)
	if err != nil {
		return ""
	}
	if len(alerts) == 0 {
		return ", but the correlator raised nothing to suppress"
	}
	for i := range alerts {
		if !alerts[i].Suppressed() {
			return ", but an alert is not suppressed at all"
		}
	}
	return ", but no alert names that approval"
}

// List lists the alerts, marking those that break the expectation.
func (s suppressed) List(actual any) string {
	if a, err := alertOf(actual); err == nil {
		return listAlerts([]correlate.Alert{*a}, nil)
	}
	alerts, _ := alertsOf(actual)
	return listAlerts(alerts, func(a *correlate.Alert) string {
		if !a.Suppressed() {
			return "^ not suppressed"
		}
		return ""
	})
}
