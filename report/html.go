package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"
	"time"
)

//go:embed templates/report.html.tmpl
var templates embed.FS

// htmlTemplate is parsed on first use, so commands that write no report do
// not pay for it at start-up; the file holds the page's markup and CSS, so
// the report needs no external asset and opens offline.
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
		"upper":   func(v Verdict) string { return strings.ToUpper(string(v)) },
		"join":    strings.Join,
		"latency": latency,
		"percent": percent,
		"clock":   func(t time.Time) string { return t.UTC().Format("15:04:05.000") },
		"stamp":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}).ParseFS(templates, "templates/report.html.tmpl"))
})

// WriteHTML writes the run as one self-contained HTML page: the totals, then
// per scenario its verdict, reason, signals and the evidence chain of each
// alert on a timeline.
func WriteHTML(w io.Writer, r *Run) error {
	view := htmlRun{Run: r, Summary: strings.TrimSpace(Summary(r))}
	for _, res := range r.Results {
		view.Scenarios = append(view.Scenarios, newHTMLScenario(res))
	}
	return htmlTemplate().Execute(w, view)
}

type htmlRun struct {
	*Run
	Summary   string
	Scenarios []htmlScenario
}

type htmlScenario struct {
	*Result
	Timeline []htmlAlert
}

type htmlAlert struct {
	Alert
	Attributed bool
	Points     []htmlPoint
}

// htmlPoint is one evidence record placed on its alert's timeline, Left
// percent from the scenario's first evidence.
type htmlPoint struct {
	Evidence
	Left   string
	Offset string
}

func newHTMLScenario(res *Result) htmlScenario {
	s := htmlScenario{Result: res}
	var first, last time.Time
	all := append(append([]Alert{}, res.Alerts...), res.Unattributed...)
	for _, a := range all {
		for _, e := range a.Evidence {
			if first.IsZero() || e.Time.Before(first) {
				first = e.Time
			}
			if e.Time.After(last) {
				last = e.Time
			}
		}
	}
	span := last.Sub(first)
	for i, a := range all {
		ha := htmlAlert{Alert: a, Attributed: i < len(res.Alerts)}
		for _, e := range a.Evidence {
			ha.Points = append(ha.Points, htmlPoint{Evidence: e, Left: position(e.Time.Sub(first),
				span), Offset: "+" + e.Time.Sub(first).Round(time.Millisecond).String()})
		}
		s.Timeline = append(s.Timeline, ha)
	}
	return s
}

// position is d's place in span as a CSS percentage, kept off the edges.
func position(d, span time.Duration) string {
	if span <= 0 {
		return "1%"
	}
	return fmt.Sprintf("%.2f%%", 1+98*float64(d)/float64(span))
}
