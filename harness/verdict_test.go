package harness

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/emulate"
	"github.com/svcharness/svcharness/labs/sim"
	"github.com/svcharness/svcharness/report"
	"github.com/svcharness/svcharness/scenarios"
	"github.com/svcharness/svcharness/telemetry"
)

func TestClassify(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	loud := report.Alert{ID: "a1", Service: "evil", FirstSeen: start.Add(time.Second),
		Signals: []string{"service_installed", "services_child"}, JoinedBy: "evil"}
	approved := report.Alert{ID: "a2", Service: "PSEXESVC", SuppressedBy: "approved-jump-psexec",
		FirstSeen: start, Signals: []string{"service_installed"}, JoinedBy: "PSEXESVC"}
	other := approved
	other.SuppressedBy = "some-other-approval"
	alert := report.Expectation{Alert: true, Signals: []string{"service_installed"}}
	suppress := report.Expectation{SuppressedBy: "approved-jump-psexec"}
	silent := report.Expectation{Silent: true}
	cases := []struct {
		name          string
		expect        report.Expectation
		joined, loose []report.Alert
		verdict       report.Verdict
		class         report.Class
	}{
		{"detected", alert, []report.Alert{loud}, nil, report.Pass, report.TruePositive},
		{"missing signal", report.Expectation{Alert: true, Signals: []string{"psexec_family"}},
			[]report.Alert{loud}, nil, report.Fail, report.TruePositive},
		{"nothing", alert, nil, nil, report.Fail, report.FalseNegative},
		{"only an unjoined alert", alert, nil, []report.Alert{loud}, report.Fail,
			report.FalseNegative},
		{"wrongly suppressed", alert, []report.Alert{approved}, nil, report.Fail,
			report.FalseNegative},
		{"approved", suppress, []report.Alert{approved}, nil, report.Pass,
			report.CorrectlySuppressed},
		{"approved by another", suppress, []report.Alert{other}, nil, report.Fail,
			report.CorrectlySuppressed},
		{"approval never exercised", suppress, nil, nil, report.Fail, report.TrueNegative},
		{"approved but loud", suppress, []report.Alert{loud}, nil, report.Fail,
			report.FalsePositive},
		{"silent", silent, nil, nil, report.Pass, report.TrueNegative},
		{"silent but an unjoined alert", silent, nil, []report.Alert{loud}, report.Fail,
			report.FalsePositive},
		{"silent, suppressed", silent, []report.Alert{approved}, nil, report.Pass,
			report.CorrectlySuppressed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &report.Result{Expect: tc.expect, Alerts: tc.joined, Unattributed: tc.loose}
			classify(r, start)
			if r.Verdict != tc.verdict || r.Class != tc.class {
				t.Errorf("got %s (%s): %s; want %s (%s)", r.Verdict, r.Class, r.Reason,
					tc.verdict, tc.class)
			}
		})
	}
}

func TestHasWord(t *testing.T) {
	cases := []struct {
		s, w string
		want bool
	}{
		{"sc.exe stop psexesvc", "psexesvc", true},
		{"sc.exe stop psexesvc2", "psexesvc", false},
		{`c:\windows\abcd.exe`, "abcd", true},
		{"xabcd", "abcd", false},
		{"abcd abcd_", "abcd", true},
		{"", "abcd", false},
	}
	for _, tc := range cases {
		if got := hasWord(tc.s, tc.w); got != tc.want {
			t.Errorf("hasWord(%q, %q): got %v; want %v", tc.s, tc.w, got, tc.want)
		}
	}
}

// TestJoin joins alerts by a generated name in an evidence record, by the
// service a plan's command names, and not at all.
func TestJoin(t *testing.T) {
	p := &scenarios.Plan{RunID: "0123456789ab",
		Names:   []scenarios.Name{{Value: "Qwer"}},
		Steps:   []scenarios.Command{{Line: "net stop spooler"}},
		Cleanup: []scenarios.Command{{Line: "net start spooler"}}}
	ev := &telemetry.Event{HostKey: "srv01", Channel: "Security", RecordID: 7,
		Fields: []telemetry.Field{{Name: "CommandLine", Value: "cmd /c echo 0123456789ab"}}}
	j := newJoiner(p, []*telemetry.Event{ev})
	cases := []struct {
		name string
		a    correlate.Alert
		want string
	}{
		{"evidence", correlate.Alert{Service: "x", Evidence: []correlate.Evidence{
			{Host: "SRV01", Channel: "Security", RecordID: 7}}}, "0123456789ab"},
		{"short name as a word", correlate.Alert{ImagePath: `%systemroot%\Qwer.exe`}, "qwer"},
		{"short name inside a word", correlate.Alert{ImagePath: `c:\Qwerty.exe`}, ""},
		{"command names the service", correlate.Alert{Service: "Spooler"}, "Spooler"},
		{"unrelated", correlate.Alert{Service: "CDPUserSvc_1a2b"}, ""},
	}
	for _, tc := range cases {
		if got := j.joinedBy(tc.a); got != tc.want {
			t.Errorf("%s: got %q; want %q", tc.name, got, tc.want)
		}
	}
}

// TestInterlockRefusesNonLabHosts runs a malicious scenario on a host the
// inventory does not declare a lab host, and on one without the marker:
// both are refused as emulation errors before anything runs.
func TestInterlockRefusesNonLabHosts(t *testing.T) {
	cat, _ := scenarios.Builtin()
	s, _ := cat.Lookup("sc-create-user-writable")
	t.Run("undeclared", func(t *testing.T) {
		sl := startLab(t, SimLabConfig{Seed: 1})
		h := newHarness(t, sl, func(c *Config) {
			c.Lab.Hosts["SRV01"] = emulate.HostInfo{Lab: false}
		})
		checkRefused(t, h.RunScenario(context.Background(), s))
	})
	t.Run("no marker", func(t *testing.T) {
		sl := startLab(t, SimLabConfig{Seed: 1})
		sl.Host("SRV01").RunCommand(context.Background(), sim.Session{User: `LAB\labadmin`},
			`del `+emulate.DefaultLabMarker, strings.NewReader(""), &strings.Builder{},
			&strings.Builder{})
		checkRefused(t, newHarness(t, sl, nil).RunScenario(context.Background(), s))
	})
}

func checkRefused(t *testing.T, o *Outcome) {
	t.Helper()
	r := o.Result
	if r.Class != report.EmulationError || !strings.Contains(r.Reason, "not a lab host") {
		t.Errorf("got %s: %s; want an emulation error refusing the host", r.Class, r.Reason)
	}
	if len(o.Emulation.Outcome.Steps) != 0 {
		t.Errorf("%d steps ran on a refused host; want none", len(o.Emulation.Outcome.Steps))
	}
}

// TestMissingSensorIsSkipped runs a scenario that requires Sysmon on a
// target without it: the inventory's declared sensors skip it before it
// runs, and with no sensors declared the missing channel skips it after.
func TestMissingSensorIsSkipped(t *testing.T) {
	hosts := DefaultSimHosts()
	hosts[1].Sensors = sim.SensorConfig{NoSysmon: true}
	cat, _ := scenarios.Builtin()
	s, _ := cat.Lookup("spooler-restart") // requires: [sysmon]
	for _, declared := range []bool{true, false} {
		sl := startLab(t, SimLabConfig{Seed: 1, Hosts: hosts})
		if !declared {
			for i := range sl.Inventory.Hosts {
				sl.Inventory.Hosts[i].Sensors = nil
			}
		}
		o := newHarness(t, sl, nil).RunScenario(context.Background(), s)
		r := o.Result
		if r.Verdict != report.Skip || r.Class != report.Skipped ||
			strings.Join(r.MissingSensors, ",") != "sysmon" {
			t.Errorf("declared %v: got %s (%s), missing %v: %s; want skip for sysmon", declared,
				r.Verdict, r.Class, r.MissingSensors, r.Reason)
		}
		if ran := o.Emulation != nil; ran == declared {
			t.Errorf("declared %v: emulation ran %v; want %v", declared, ran, !declared)
		}
	}
}
