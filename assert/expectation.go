package assert

import (
	"errors"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"
	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/scenarios"
)

// MeetExpectation matches the alerts of the run p planned against what its
// scenario expects: ReportTruePositive for an alert; BeSuppressedBy the named
// approval, or StaySilent, over every alert on the run's hosts (OnHosts),
// because a false positive need not name anything the run generated.
func MeetExpectation(p *scenarios.Plan) types.GomegaMatcher {
	if p == nil || p.Scenario == nil {
		return gcustom.MakeMatcher(func(any) (bool, error) {
			return false, errors.New("assert: MeetExpectation needs a rendered plan with its scenario")
		})
	}
	onHosts := func(alerts []correlate.Alert) []correlate.Alert { return OnHosts(p, alerts) }
	switch e := p.Scenario.Expect; {
	case e.Alert:
		return ReportTruePositive(p)
	case e.SuppressedBy != "":
		return gomega.WithTransform(onHosts, BeSuppressedBy(e.SuppressedBy))
	default:
		return gomega.WithTransform(onHosts, StaySilent())
	}
}
