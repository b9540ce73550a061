package labs

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for a person: one block per host, one line per
// check, and under each check that did not pass, what to do about it.
func (r *CheckReport) WriteText(w io.Writer) error {
	var b strings.Builder
	host := ""
	for _, f := range r.Findings {
		if f.Host != host {
			if host != "" {
				b.WriteString("\n")
			}
			host = f.Host
			b.WriteString(host + "\n")
		}
		fmt.Fprintf(&b, "  %-4s  %-26s %s\n", strings.ToUpper(string(f.Status)), f.Check,
			f.Detail)
		if f.Fix != "" {
			fmt.Fprintf(&b, "        %-26s fix: %s\n", "", f.Fix)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.summary())
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *CheckReport) summary() string {
	n := map[Status]int{}
	for _, f := range r.Findings {
		n[f.Status]++
	}
	verdict := "lab ready"
	switch {
	case r.Unreachable():
		verdict = "lab not reachable"
	case r.Failed():
		verdict = "lab not ready"
	}
	return fmt.Sprintf("%s: %d ok, %d warnings, %d failed, %d skipped", verdict,
		n[StatusOK], n[StatusWarn], n[StatusFail], n[StatusSkip])
}
