package harness

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/report"
	"github.com/svcharness/svcharness/scenarios"
	"github.com/svcharness/svcharness/telemetry"
)

// judge correlates the telemetry of a finished emulation and sets the
// verdict. The order matters: a failed emulation is an emulation error
// before anything else, so it can never read as a missed detection, and a
// missing sensor is a skip before the alerts are looked at.
func (h *Harness) judge(o *Outcome) {
	r, e := o.Result, o.Emulation
	recordEmulation(r, o.Plan, e)
	if err := e.Outcome.StepsErr; err != nil {
		r.EmulationError = err.Error()
		setVerdict(r, report.Error, report.EmulationError, emulationReason(err))
		return
	}
	if h.cfg.Lab.DryRun {
		skip(r, "dry run: nothing ran")
		return
	}
	if missing := missingSensors(o.Plan, e); len(missing) > 0 {
		r.MissingSensors = missing
		skip(r, "the target recorded no "+strings.Join(missing, ", ")+" channel")
		return
	}

	o.Alerts = correlateEvents(h.cfg.Policy, e.Events)
	o.Joined = joinAlerts(r, newJoiner(o.Plan, e.Events), o.Alerts)
	classify(r, e.Since[o.Plan.Hosts["target"]])
	if r.CleanupError != "" {
		r.Verdict = report.Error
		r.Reason += "; but cleanup left something behind: " + r.CleanupError
	}
}

// recordEmulation copies what the emulation did and collected into r.
func recordEmulation(r *report.Result, p *scenarios.Plan, e *emulate.Emulation) {
	r.Duration = time.Since(r.Started)
	r.Events, r.EventsCount = e.Events, len(e.Events)
	for _, c := range e.Collections {
		r.SkippedEvents += len(c.Skipped)
	}
	r.JoinKeys = joinKeys(p)
	if err := e.Outcome.CleanupErr; err != nil {
		r.CleanupError = err.Error()
	}
}

// joinAlerts sorts alerts into r's joined and unattributed lists and
// returns the joined ones.
func joinAlerts(r *report.Result, j *joiner, alerts []correlate.Alert) []correlate.Alert {
	var joined []correlate.Alert
	for _, a := range alerts {
		ra := j.reportAlert(a)
		if ra.JoinedBy != "" {
			joined = append(joined, a)
			r.Alerts = append(r.Alerts, ra)
		} else {
			r.Unattributed = append(r.Unattributed, ra)
		}
	}
	return joined
}

func emulationReason(err error) string {
	kind := "the emulation failed"
	switch {
	case errors.Is(err, emulate.ErrNotLab):
		kind = "refused: not a lab host"
	case errors.Is(err, emulate.ErrAuth):
		kind = "authentication failed"
	case errors.Is(err, emulate.ErrUnreachable):
		kind = "lab unreachable"
	case errors.Is(err, emulate.ErrDisconnected):
		kind = "connection lost"
	case errors.Is(err, emulate.ErrInterrupted):
		kind = "interrupted"
	case errors.Is(err, emulate.ErrTimeout):
		kind = "timed out"
	}
	return kind + " (detection not judged): " + firstLine(err.Error())
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// channelSensors are the sensors whose absence a missing channel proves.
var channelSensors = map[string][]scenarios.Sensor{
	"Microsoft-Windows-Sysmon/Operational": {scenarios.SensorSysmon,
		scenarios.SensorSysmonNetwork},
	"Security": {scenarios.SensorAudit4697, scenarios.SensorAudit5145},
}

// missingSensors returns the required sensors whose channel the target
// does not have.
func missingSensors(p *scenarios.Plan, e *emulate.Emulation) []string {
	var missing []string
	for _, c := range e.Collections {
		if !strings.EqualFold(c.Host, p.Hosts["target"]) {
			continue
		}
		for _, ch := range c.Missing {
			for _, s := range channelSensors[telemetry.CanonicalChannel(ch)] {
				if slices.Contains(p.Scenario.Requires, s) {
					missing = append(missing, string(s))
				}
			}
		}
	}
	return missing
}

// correlateEvents runs a fresh engine over one scenario's events. A fresh
// engine per scenario keeps scenarios independent: no incident, logon or
// burst count of one run leaks into the next.
func correlateEvents(pol *correlate.Policy, events []*telemetry.Event) []correlate.Alert {
	eng := correlate.New(pol, correlate.Options{})
	for _, ev := range events {
		eng.Process(ev)
	}
	alerts := eng.Close()
	correlate.SortAlerts(alerts)
	return alerts
}

// classify sets the confusion class and verdict from the joined and
// unattributed alerts. Because the harness holds a scenario's hosts
// exclusively while it runs, an unsuppressed alert in its window counts
// against a scenario that must not alert even when it did not join by name
// (per-user services, for instance, are named by Windows, not the plan).
func classify(r *report.Result, start time.Time) {
	unsuppressed := func(list []report.Alert) []report.Alert {
		return slices.DeleteFunc(slices.Clone(list), func(a report.Alert) bool {
			return a.SuppressedBy != ""
		})
	}
	loud := unsuppressed(r.Alerts)
	switch {
	case r.Expect.Alert:
		classifyAlert(r, loud, start)
	case len(loud) > 0 || len(unsuppressed(r.Unattributed)) > 0:
		a := append(loud, unsuppressed(r.Unattributed)...)[0]
		decide(r, a, start)
		setVerdict(r, report.Fail, report.FalsePositive, fmt.Sprintf(
			"unsuppressed alert %s on %s for service %q (signals %s); want %s",
			a.ID, a.Host, a.Service, strings.Join(a.Signals, ", "), r.Expect))
	case r.Expect.SuppressedBy != "":
		classifySuppressed(r, start)
	default:
		setVerdict(r, report.Pass, report.TrueNegative, "no alert, as expected")
		if len(r.Alerts) > 0 {
			decide(r, r.Alerts[0], start)
			setVerdict(r, report.Pass, report.CorrectlySuppressed,
				"no unsuppressed alert; suppressed by "+r.Alerts[0].SuppressedBy)
		}
	}
}

func classifyAlert(r *report.Result, loud []report.Alert, start time.Time) {
	if len(loud) == 0 {
		reason := "no alert joined the scenario's names"
		if len(r.Alerts) > 0 {
			reason = fmt.Sprintf("the only alert was suppressed by %s", r.Alerts[0].SuppressedBy)
		}
		setVerdict(r, report.Fail, report.FalseNegative, reason+"; want an alert")
		return
	}
	best, missing := loud[0], r.Expect.Signals
	for _, a := range loud {
		if m := missingSignals(a, r.Expect.Signals); len(m) < len(missing) {
			best, missing = a, m
		}
	}
	decide(r, best, start)
	if len(missing) > 0 {
		setVerdict(r, report.Fail, report.TruePositive, fmt.Sprintf(
			"alert %s lacks signals %s (has %s)", best.ID, strings.Join(missing, ", "),
			strings.Join(best.Signals, ", ")))
		return
	}
	setVerdict(r, report.Pass, report.TruePositive, fmt.Sprintf(
		"alert %s on %s for service %q with every expected signal", best.ID, best.Host,
		best.Service))
}

func classifySuppressed(r *report.Result, start time.Time) {
	for _, a := range r.Alerts {
		if a.SuppressedBy == r.Expect.SuppressedBy {
			decide(r, a, start)
			setVerdict(r, report.Pass, report.CorrectlySuppressed,
				"alert suppressed by "+a.SuppressedBy)
			return
		}
	}
	if len(r.Alerts) > 0 {
		a := r.Alerts[0]
		decide(r, a, start)
		setVerdict(r, report.Fail, report.CorrectlySuppressed, fmt.Sprintf(
			"alert suppressed by %s; want %s", a.SuppressedBy, r.Expect.SuppressedBy))
		return
	}
	setVerdict(r, report.Fail, report.TrueNegative,
		"no alert at all, so the approval "+r.Expect.SuppressedBy+" was never exercised")
}

func missingSignals(a report.Alert, want []string) []string {
	var missing []string
	for _, s := range want {
		if !slices.Contains(a.Signals, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// decide records the alert a verdict rests on: its signals, evidence count
// and timing.
func decide(r *report.Result, a report.Alert, start time.Time) {
	r.Signals, r.Evidence = a.Signals, len(a.Evidence)
	r.Span = a.LastSeen.Sub(a.FirstSeen)
	if !start.IsZero() && a.FirstSeen.After(start) {
		r.Latency = a.FirstSeen.Sub(start)
	}
}
