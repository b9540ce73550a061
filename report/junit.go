package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// The JUnit XML shape CI systems read (the Jenkins/Ant schema): one suite,
// one test case per scenario.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the run as JUnit XML. A failed verdict is a <failure>
// (the detection is wrong); an emulation error is an <error> (the test could
// not be judged); a skip is <skipped>.
func WriteJUnit(w io.Writer, r *Run) error {
	s := junitSuite{Name: "svcharness", Time: seconds(r.Finished.Sub(r.Started).Seconds()),
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{{"run_id", r.RunID}, {"lab", r.Lab},
			{"policy", r.Policy}}}
	for _, res := range r.Results {
		s.Cases = append(s.Cases, junitCaseOf(res))
	}
	t := r.Totals
	s.Tests, s.Failures, s.Errors, s.Skipped = t.Scenarios, t.Verdicts[Fail],
		t.Verdicts[Error], t.Verdicts[Skip]
	doc := junitSuites{Name: "svcharness run " + r.RunID, Tests: s.Tests,
		Failures: s.Failures, Errors: s.Errors, Skipped: s.Skipped, Time: s.Time,
		Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitCaseOf(res *Result) junitCase {
	c := junitCase{Name: res.ID + ": " + res.Name, Classname: "svcharness." + res.Intent,
		Time: seconds(res.Duration.Seconds()), SystemOut: caseDetail(res)}
	switch res.Verdict {
	case Fail:
		c.Failure = &junitProblem{Message: res.Reason, Type: string(res.Class),
			Text: caseDetail(res)}
	case Error:
		c.Error = &junitProblem{Message: res.Reason, Type: string(res.Class),
			Text: strings.TrimSpace(res.EmulationError + "\n" + res.CleanupError)}
	case Skip:
		c.Skipped = &junitSkipped{Message: res.Reason}
	}
	return c
}

// caseDetail is what a person reading CI output needs: the verdict, the
// expectation and the alerts.
func caseDetail(res *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict %s (%s): %s\nexpect: %s", res.Verdict, res.Class, res.Reason,
		res.Expect)
	if len(res.Expect.Signals) > 0 {
		fmt.Fprintf(&b, " with %s", strings.Join(res.Expect.Signals, ", "))
	}
	for _, a := range append(append([]Alert{}, res.Alerts...), res.Unattributed...) {
		fmt.Fprintf(&b, "\nalert %s on %s service %q score %d signals %s", a.ID, a.Host,
			a.Service, a.Score, strings.Join(a.Signals, ","))
		if a.SuppressedBy != "" {
			fmt.Fprintf(&b, " suppressed by %s", a.SuppressedBy)
		}
		if a.JoinedBy == "" {
			b.WriteString(" (did not join the plan's names)")
		}
	}
	return b.String()
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }
