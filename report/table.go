package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes the terminal scorecard: one row per scenario, then the
// totals.
func WriteTable(w io.Writer, r *Run) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tINTENT\tVERDICT\tCLASS\tLATENCY\tEVIDENCE\tSIGNALS")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", res.ID, res.Intent,
			strings.ToUpper(string(res.Verdict)), res.Class, latency(res.Latency),
			res.Evidence, dash(strings.Join(res.Signals, ",")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := writeReasons(w, r); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, Summary(r))
	return err
}

// writeReasons lists why each scenario that did not pass did not.
func writeReasons(w io.Writer, r *Run) error {
	var b strings.Builder
	for _, res := range r.Results {
		if res.Verdict != Pass {
			fmt.Fprintf(&b, "  %s %s: %s\n", strings.ToUpper(string(res.Verdict)), res.ID,
				res.Reason)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "\n%s", b.String())
	return err
}

// Summary is the totals in one paragraph.
func Summary(r *Run) string {
	t := r.Totals
	return fmt.Sprintf("\n%d scenarios: %d passed, %d failed, %d errors, %d skipped "+
		"(run %s, %s)\nprecision %s  recall %s  suppression accuracy %s  median latency %s",
		t.Scenarios, t.Verdicts[Pass], t.Verdicts[Fail], t.Verdicts[Error], t.Verdicts[Skip],
		r.RunID, r.Finished.Sub(r.Started).Round(time.Millisecond),
		percent(t.Precision), percent(t.Recall), percent(t.SuppressionAccuracy),
		latency(t.MedianLatency))
}

func percent(f float64) string {
	if f < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

func latency(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return d.Round(time.Millisecond).String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
