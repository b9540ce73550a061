package assert

import (
	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"
	"github.com/svcharness/svcharness/correlate"
)

// StaySilent succeeds when the alerts of a run ([]correlate.Alert) hold no
// unsuppressed alert. Suppressed alerts are allowed: a benign action that an
// approval or the allowlist covers is silent as far as an analyst can tell.
// The failure message lists the alerts that broke the silence.
func StaySilent() types.GomegaMatcher {
	return gcustom.MakeMatcher(silentMatch).WithTemplate(silentTemplate, silent{})
}

const silentTemplate = `{{if .Failure -}}
Expected the run's alerts to stay silent, but the correlator raised:
{{.Data.Loud .Actual}}
{{- else -}}
Expected the run to raise an unsuppressed alert, but it stayed silent. Alerts found:
{{.Data.All .Actual}}
{{- end}}`

func silentMatch(actual any) (bool, error) {
	alerts, err := alertsOf(actual)
	if err != nil {
		return false, err
	}
	return len(unsuppressed(alerts)) == 0, nil
}

// silent renders StaySilent's messages.
type silent struct{}

// Loud lists the unsuppressed alerts.
func (silent) Loud(actual any) string {
	alerts, _ := alertsOf(actual)
	return listAlerts(unsuppressed(alerts), nil)
}

// All lists every alert.
func (silent) All(actual any) string {
	alerts, _ := alertsOf(actual)
	return listAlerts(alerts, nil)
}

func unsuppressed(alerts []correlate.Alert) []correlate.Alert {
	var out []correlate.Alert
	for _, a := range alerts {
		if !a.Suppressed() {
			out = append(out, a)
		}
	}
	return out
}
