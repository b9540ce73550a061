package assert

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/scenarios"
	"github.com/svcharness/svcharness/telemetry"
)

var testHosts = map[string]string{"target": "TARGET01", "attacker": "ATTACKER01",
	"jump": "JUMP01", "mgmt": "MGMT01"}

// plan renders a built-in scenario with a fixed run ID and seed.
func plan(t *testing.T, id string) *scenarios.Plan {
	t.Helper()
	cat, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := cat.Lookup(id)
	if !ok {
		t.Fatalf("scenario %s not in the catalog", id)
	}
	p, err := s.Render(scenarios.Binding{RunID: "0123456789ab", Hosts: testHosts,
		Sink: "10.10.0.250:8443"}, scenarios.NewRand(7))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// psexecAlert is what the correlator reports for psexec-default.
func psexecAlert() correlate.Alert {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return correlate.Alert{ID: "an1185-000000000001", Host: "target01", Service: "PSEXESVC",
		ImagePath: `%SystemRoot%\PSEXESVC.exe`, SourceHost: "ATTACKER01",
		Signals: []string{"service_installed", "services_child", "psexec_family",
			"remote_origin"},
		Evidence: []correlate.Evidence{
			{Host: "target01", Channel: telemetry.ChannelSecurity, EventID: 4624, Time: at},
			{Host: "target01", Channel: telemetry.ChannelSystem, EventID: 7045, Time: at},
			{Host: "target01", Channel: telemetry.ChannelSysmon, EventID: 1, Time: at},
		}}
}

// outcome runs m on actual and returns its verdict, error and the message
// Gomega would print for a failure in the given direction.
func outcome(m types.GomegaMatcher, actual any) (ok bool, err error, msg, negated string) {
	ok, err = m.Match(actual)
	return ok, err, m.FailureMessage(actual), m.NegatedFailureMessage(actual)
}

func wantContains(t *testing.T, msg string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("message lacks %q; got:\n%s", p, msg)
		}
	}
}

func TestReportTruePositive(t *testing.T) {
	p := plan(t, "psexec-default")
	good := psexecAlert()
	otherHost := psexecAlert()
	otherHost.Host = "ws99"
	muted := psexecAlert()
	muted.SuppressedBy = "approved-jump-psexec"
	weak := psexecAlert()
	weak.Signals = []string{"service_installed", "psexec_family"}

	ok, err, _, negated := outcome(ReportTruePositive(p), []correlate.Alert{otherHost, good})
	if !ok || err != nil {
		t.Fatalf("got %v, %v; want a match", ok, err)
	}
	wantContains(t, negated, "Expected no true positive for scenario psexec-default",
		"an1185-000000000001 on target01")

	ok, err, msg, _ := outcome(ReportTruePositive(p), []correlate.Alert{otherHost, muted, weak})
	if ok || err != nil {
		t.Fatalf("got %v, %v; want a failure without error", ok, err)
	}
	wantContains(t, msg, "Expected a true positive for scenario psexec-default (run 0123456789ab)",
		"target=TARGET01", "carries [service_installed psexec_family services_child remote_origin]",
		"on ws99", "does not join back to the run",
		`joins the run but is suppressed by "approved-jump-psexec"`,
		"joins the run but lacks signals [services_child remote_origin]")

	_, _, msg, _ = outcome(ReportTruePositive(p), []correlate.Alert(nil))
	wantContains(t, msg, "(no alerts at all)")
}

func TestReportTruePositiveJoinsABurstByGeneratedName(t *testing.T) {
	p := plan(t, "smbexec-comspec-burst")
	svc := p.Vars["service"]
	burst := correlate.Alert{ID: "an1185-b", Host: "TARGET01.lab.local", Service: "burst",
		Services: []string{svc, "Other"},
		Signals: []string{"service_installed", "services_child", "nonstandard_binary",
			"remote_origin", "install_burst", "transient_service"}}
	burst.Signals = append(burst.Signals, p.Scenario.Expect.Signals...)
	if ok, err := ReportTruePositive(p).Match([]correlate.Alert{burst}); !ok || err != nil {
		t.Errorf("got %v, %v; want the burst naming %s to match", ok, err, svc)
	}
	burst.Services = []string{"Unrelated"}
	if ok, _ := ReportTruePositive(p).Match([]correlate.Alert{burst}); ok {
		t.Errorf("a burst of unrelated services matched; want no join")
	}
}

func TestReportTruePositiveErrors(t *testing.T) {
	p := plan(t, "psexec-default")
	silentPlan := plan(t, "spooler-restart")
	bad := *p
	sc := *p.Scenario
	sc.Expect.Signals = []string{"service_installed", "psexec"}
	bad.Scenario = &sc
	for name, tc := range map[string]struct {
		m      types.GomegaMatcher
		actual any
		want   string
	}{
		"wrong type":     {ReportTruePositive(p), "PSEXESVC", "want the alerts of a run"},
		"single alert":   {ReportTruePositive(p), psexecAlert(), "got correlate.Alert"},
		"nil plan":       {ReportTruePositive(nil), []correlate.Alert{}, "needs a rendered plan"},
		"silent plan":    {ReportTruePositive(silentPlan), []correlate.Alert{}, "does not expect"},
		"unknown signal": {ReportTruePositive(&bad), []correlate.Alert{}, `unknown signal "psexec"`},
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := tc.m.Match(tc.actual)
			if ok || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, %v; want an error containing %q", ok, err, tc.want)
			}
		})
	}
}

func TestMatchersDoNotMutate(t *testing.T) {
	p := plan(t, "psexec-default")
	alerts := []correlate.Alert{psexecAlert(), psexecAlert()}
	alerts[1].SuppressedBy = "x"
	before := reflect.ValueOf(alerts).Interface()
	keep := []correlate.Alert{psexecAlert(), psexecAlert()}
	keep[1].SuppressedBy = "x"
	for _, m := range []types.GomegaMatcher{ReportTruePositive(p), StaySilent(),
		BeSuppressedBy("x"), MeetExpectation(p),
		gomega.ContainElement(HaveSignals("psexec_family")),
		gomega.ContainElement(HaveEvidence("System:7045"))} {
		for range 3 { // as Eventually would
			_, _ = m.Match(alerts)
			_ = m.FailureMessage(alerts)
		}
	}
	if !reflect.DeepEqual(before, keep) {
		t.Errorf("alerts changed by matching:\n%v\nwant\n%v", before, keep)
	}
}

func TestBeSuppressedBy(t *testing.T) {
	muted := psexecAlert()
	muted.SuppressedBy = "approved-jump-psexec"
	other := psexecAlert()
	other.SuppressedBy = "harnesslab-agent"
	loud := psexecAlert()
	loud.ID = "an1185-loud"
	for name, tc := range map[string]struct {
		actual any
		ok     bool
		msg    []string
	}{
		"one suppressed alert":    {muted, true, nil},
		"its pointer":             {&muted, true, nil},
		"one unsuppressed alert":  {loud, false, []string{"Expected the alert to be suppressed"}},
		"run suppressed":          {[]correlate.Alert{muted, other}, true, nil},
		"run pointers":            {[]*correlate.Alert{&muted}, true, nil},
		"run with nothing raised": {[]correlate.Alert{}, false, []string{"raised nothing to suppress"}},
		"run with a loud alert": {[]correlate.Alert{muted, loud}, false, []string{
			"an alert is not suppressed at all", "an1185-loud on target01", "^ not suppressed"}},
		"run by another approval": {[]correlate.Alert{other}, false, []string{
			"no alert names that approval", `suppressed by "harnesslab-agent"`}},
	} {
		t.Run(name, func(t *testing.T) {
			ok, err, msg, _ := outcome(BeSuppressedBy("approved-jump-psexec"), tc.actual)
			if ok != tc.ok || err != nil {
				t.Fatalf("got %v, %v; want %v, nil", ok, err, tc.ok)
			}
			if !ok {
				wantContains(t, msg, append(tc.msg, `"approved-jump-psexec"`)...)
			}
		})
	}
	if _, err := BeSuppressedBy("x").Match(42); err == nil {
		t.Errorf("an int: got no error; want one")
	}
	if _, err := BeSuppressedBy("").Match(muted); err == nil {
		t.Errorf("an empty approval ID: got no error; want one")
	}
	_, _, _, negated := outcome(BeSuppressedBy("approved-jump-psexec"), muted)
	wantContains(t, negated, "Expected the alert not to be suppressed by approval")
}

func TestHaveSignals(t *testing.T) {
	a := psexecAlert()
	if ok, err := HaveSignals("psexec_family", "remote_origin").Match(a); !ok || err != nil {
		t.Errorf("got %v, %v; want a match", ok, err)
	}
	if ok, err := HaveSignals("psexec_family").Match(&a); !ok || err != nil {
		t.Errorf("pointer: got %v, %v; want a match", ok, err)
	}
	ok, err, msg, _ := outcome(HaveSignals("psexec_family", "service_network"), a)
	if ok || err != nil {
		t.Fatalf("got %v, %v; want a failure", ok, err)
	}
	wantContains(t, msg, "the missing elements were", "service_network", "remote_origin")

	run := []correlate.Alert{{Host: "x"}, a}
	if ok, err := gomega.ContainElement(HaveSignals("psexec_family")).Match(run); !ok ||
		err != nil {
		t.Errorf("ContainElement over a run: got %v, %v; want a match", ok, err)
	}
	for name, tc := range map[string]struct {
		m      types.GomegaMatcher
		actual any
		want   string
	}{
		"unknown name": {HaveSignals("psexec"), a, `unknown signal "psexec"`},
		"no names":     {HaveSignals(), a, "at least one signal"},
		"a run":        {HaveSignals("psexec_family"), run, "wrap the matcher in ContainElement"},
		"nil pointer":  {HaveSignals("psexec_family"), (*correlate.Alert)(nil), "nil"},
	} {
		if _, err := tc.m.Match(tc.actual); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v; want an error containing %q", name, err, tc.want)
		}
	}
}

func TestHaveEvidence(t *testing.T) {
	a := psexecAlert()
	if ok, err := HaveEvidence("System:7045", "sysmon:1", "security:4624").Match(a); !ok ||
		err != nil {
		t.Errorf("got %v, %v; want a match", ok, err)
	}
	ok, err, msg, _ := outcome(HaveEvidence("System:7045", "Sysmon:13", "Security:4697"), a)
	if ok || err != nil {
		t.Fatalf("got %v, %v; want a failure", ok, err)
	}
	wantContains(t, msg, "Security:4624", "Sysmon:1", "System:7045",
		"the missing elements were", "Sysmon:13", "Security:4697")

	for _, kind := range []string{"7045", "System:", ":7045", "System:70000", "System:x"} {
		if _, err := HaveEvidence(kind).Match(a); err == nil {
			t.Errorf("kind %q: got no error; want one", kind)
		}
	}
	if _, err := HaveEvidence("System:7045").Match("alert"); err == nil {
		t.Errorf("a string: got no error; want one")
	}
}

func TestEvidenceKind(t *testing.T) {
	for in, want := range map[string]string{
		"System:7045":   "System:7045",
		"system:7045":   "System:7045",
		" Sysmon : 13 ": "Sysmon:13",
		"microsoft-windows-sysmon/operational:13": "Sysmon:13",
		"SECURITY:4697":    "Security:4697",
		"Application:1000": "Application:1000",
	} {
		if got, err := EvidenceKind(in); got != want || err != nil {
			t.Errorf("EvidenceKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestStaySilent(t *testing.T) {
	muted := psexecAlert()
	muted.SuppressedBy = "approved-jump-psexec"
	loud := psexecAlert()
	loud.ID = "an1185-loud"
	if ok, err := StaySilent().Match([]correlate.Alert{muted}); !ok || err != nil {
		t.Errorf("suppressed only: got %v, %v; want a match", ok, err)
	}
	ok, err, msg, _ := outcome(StaySilent(), []correlate.Alert{muted, loud})
	if ok || err != nil {
		t.Fatalf("got %v, %v; want a failure", ok, err)
	}
	wantContains(t, msg, "to stay silent, but the correlator raised", "an1185-loud")
	if strings.Contains(msg, "approved-jump-psexec") {
		t.Errorf("message lists the suppressed alert; want only the loud one:\n%s", msg)
	}
	_, _, _, negated := outcome(StaySilent(), []correlate.Alert{})
	wantContains(t, negated, "but it stayed silent", "(no alerts at all)")
	if _, err := StaySilent().Match(loud); err == nil {
		t.Errorf("a single alert: got no error; want one")
	}
}

func TestMeetExpectation(t *testing.T) {
	jump := plan(t, "psexec-from-jump-host")
	muted := psexecAlert()
	muted.SuppressedBy = "approved-jump-psexec"
	stray := psexecAlert()
	stray.Host = "ws99"
	if ok, err := MeetExpectation(jump).Match([]correlate.Alert{muted, stray}); !ok ||
		err != nil {
		t.Errorf("approved: got %v, %v; want a match (the stray is on another host)", ok, err)
	}

	spool := plan(t, "spooler-restart")
	fp := correlate.Alert{ID: "an1185-fp", Host: "target01", Service: "CDPUserSvc_1a2b",
		Signals: []string{"service_installed"}}
	ok, err, msg, _ := outcome(MeetExpectation(spool), []correlate.Alert{fp})
	if ok || err != nil {
		t.Fatalf("silent with a false positive: got %v, %v; want a failure", ok, err)
	}
	wantContains(t, msg, "an1185-fp", "CDPUserSvc_1a2b")

	if ok, err := MeetExpectation(plan(t, "psexec-default")).Match(
		[]correlate.Alert{psexecAlert()}); !ok || err != nil {
		t.Errorf("malicious: got %v, %v; want a match", ok, err)
	}
	if _, err := MeetExpectation(nil).Match([]correlate.Alert{}); err == nil {
		t.Errorf("nil plan: got no error; want one")
	}
}

func TestRelated(t *testing.T) {
	p := plan(t, "sc-create-user-writable")
	svc := p.Vars["service"]
	byName := correlate.Alert{Host: "TARGET01", Service: strings.ToUpper(svc)}
	byKey := correlate.Alert{Host: "target01", Service: "x", DisplayName: "run " + p.RunID}
	elsewhere := correlate.Alert{Host: "ws02", Service: svc}
	unnamed := correlate.Alert{Host: "target01", Service: "Spooler"}
	got := Related(p, []correlate.Alert{byName, elsewhere, byKey, unnamed})
	if len(got) != 2 || got[0].Service != byName.Service || got[1].Service != "x" {
		t.Errorf("got %v; want the alerts joined by name and by run ID", got)
	}
	if Related(nil, []correlate.Alert{byName}) != nil || Joins(p, nil) {
		t.Errorf("nil plan or alert joined; want nothing")
	}
}
