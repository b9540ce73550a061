package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/telemetry"
)

const baselineUsage = `
Usage: svcharness baseline [--policy FILE] FILE...

Baseline false positives over telemetry known to be benign: run the AN1185
correlator, group what would alert by service, binary, creator and host with
counts and first and last seen, print a proposed policy of approvals (one per
group, for a person to review, with an owner to fill in and a 90-day expiry),
and report the alert rate before and after the proposal. Bursts are listed
but never proposed for approval.

The proposal is a complete policy file that "correlate --policy" accepts;
merge its approvals and host_groups into your own policy after review.

Exit codes: 0 on success; 2 for a usage error, an invalid policy, or an input
that could not be read.`

func init() {
	register(command{name: "baseline", summary: "group would-be alerts over benign telemetry and propose approvals",
		run: runBaseline})
}

// baselineGroup is one service/binary/creator/host combination that alerted.
type baselineGroup struct {
	service, image, creator, host, hostKey string
	count                                  int
	first, last                            time.Time
	signals                                map[string]bool
	sources                                map[string]bool // remote origins
	burst                                  bool
}

func runBaseline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseCorrelateArgs("baseline", baselineUsage, args, stderr, false)
	if err != nil {
		return err
	}
	pol, err := loadPolicy(cfg.policy)
	if err != nil {
		return err
	}
	eng := correlate.New(pol, correlate.Options{})
	res, runErr := correlateInputs(ctx, eng, cfg.files, stderr)
	if errors.Is(runErr, context.Canceled) {
		return runErr
	}
	alerts := eng.Close()
	groups := groupAlerts(alerts)
	now := time.Now().UTC()
	snippet := proposePolicy(groups, now)
	proposal, err := correlate.LoadPolicy("proposal", []byte(snippet))
	if err != nil {
		return fmt.Errorf("check proposed policy: %w", err) // a bug in proposePolicy
	}
	out := bufio.NewWriter(stdout)
	writeGroups(out, groups)
	fmt.Fprintf(out, "\n# Proposed policy (review every entry; fill in owner):\n%s\n", snippet)
	writeRates(out, alerts, proposal, eng.Stats(), res, now)
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if runErr != nil {
		return &exitError{code: exitUsage, err: runErr}
	}
	return nil
}

// groupAlerts groups the unsuppressed alerts, most frequent first.
func groupAlerts(alerts []correlate.Alert) []*baselineGroup {
	byKey := map[string]*baselineGroup{}
	var groups []*baselineGroup
	for i := range alerts {
		a := &alerts[i]
		if a.Suppressed() {
			continue
		}
		burst := a.HasSignal(correlate.InstallBurst.String())
		k := strings.Join([]string{a.Service, a.ImagePath, a.Creator, strings.ToLower(a.Host)}, "\x00")
		g := byKey[k]
		if g == nil {
			g = &baselineGroup{service: a.Service, image: a.ImagePath, creator: a.Creator,
				host: a.Host, first: a.FirstSeen, last: a.LastSeen, signals: map[string]bool{},
				sources: map[string]bool{}, burst: burst}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.count++
		g.first = minTime(g.first, a.FirstSeen)
		g.last = maxTime(g.last, a.LastSeen)
		for _, s := range a.Signals {
			g.signals[s] = true
		}
		g.sources[firstNonEmpty(a.SourceHost, a.SourceIP)] = true
	}
	slices.SortStableFunc(groups, func(a, b *baselineGroup) int {
		return cmp.Or(cmp.Compare(b.count, a.count), cmp.Compare(a.service, b.service))
	})
	return groups
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func writeGroups(out io.Writer, groups []*baselineGroup) {
	if len(groups) == 0 {
		fmt.Fprintln(out, "No unsuppressed alerts: nothing to baseline.")
		return
	}
	fmt.Fprintf(out, "%5s  %-20s  %-28s  %-20s  %-20s  %s\n",
		"COUNT", "HOST", "SERVICE", "FIRST SEEN", "LAST SEEN", "BINARY / CREATOR")
	for _, g := range groups {
		fmt.Fprintf(out, "%5d  %-20s  %-28s  %-20s  %-20s  %s\n", g.count, clip(g.host, 20),
			clip(g.service, 28), g.first.Format("2006-01-02 15:04:05"),
			g.last.Format("2006-01-02 15:04:05"), clip(g.image, 80))
		if g.creator != "" {
			fmt.Fprintf(out, "%92s created by %s\n", "", g.creator)
		}
	}
}

// proposal is one proposed approval: a service, binary and creator seen
// alerting on one or more hosts.
type proposal struct {
	service, image, creator string
	hosts                   []string
	count                   int
	first, last             time.Time
	signals                 map[string]bool
	sources                 map[string]bool
}

// mergeGroups folds the per-host groups into one proposal per service,
// binary and creator, listing the hosts; bursts are left out.
func mergeGroups(groups []*baselineGroup) (props []*proposal, bursts []*baselineGroup) {
	byKey := map[string]*proposal{}
	for _, g := range groups {
		if g.burst {
			bursts = append(bursts, g)
			continue
		}
		k := g.service + "\x00" + g.image + "\x00" + g.creator
		p := byKey[k]
		if p == nil {
			p = &proposal{service: g.service, image: g.image, creator: g.creator,
				first: g.first, last: g.last, signals: map[string]bool{}, sources: map[string]bool{}}
			byKey[k] = p
			props = append(props, p)
		}
		if !slices.Contains(p.hosts, g.host) {
			p.hosts = append(p.hosts, g.host)
		}
		p.count += g.count
		p.first, p.last = minTime(p.first, g.first), maxTime(p.last, g.last)
		for s := range g.signals {
			p.signals[s] = true
		}
		for s := range g.sources {
			p.sources[s] = true
		}
	}
	return props, bursts
}

// proposePolicy writes a policy file with one approval per service, binary
// and creator (bursts excluded): the exact service name, the exact binary
// and creator when they are absolute paths, limited to the hosts it was seen
// on through a host group, expiring in 90 days.
func proposePolicy(groups []*baselineGroup, now time.Time) string {
	props, bursts := mergeGroups(groups)
	var b, approvals strings.Builder
	b.WriteString("version: 1\n")
	if len(props) > 0 {
		b.WriteString("host_groups:\n")
	}
	for i, p := range props {
		id := fmt.Sprintf("baseline-%03d-%s", i+1, slug(p.service))
		hosts := make([]string, len(p.hosts))
		for j, h := range p.hosts {
			hosts[j] = yamlQuote(h)
		}
		fmt.Fprintf(&b, "  %s: [%s]\n", id, strings.Join(hosts, ", "))
		writeApproval(&approvals, id, p, now)
	}
	b.WriteString("approvals:\n")
	for _, g := range bursts {
		fmt.Fprintf(&b, "  # not proposed: install burst on %s (%d alert(s)) needs a person\n",
			yamlComment(g.host), g.count)
	}
	if approvals.Len() == 0 {
		b.WriteString("  []\n")
	}
	b.WriteString(approvals.String())
	return b.String()
}

func writeApproval(w *strings.Builder, id string, p *proposal, now time.Time) {
	fmt.Fprintf(w, "  - id: %s\n", id)
	fmt.Fprintf(w, "    reason: %s\n", yamlQuote(fmt.Sprintf(
		"seen %d time(s) on %d host(s) between %s and %s while baselining (signals: %s)",
		p.count, len(p.hosts), p.first.Format(time.RFC3339), p.last.Format(time.RFC3339),
		strings.Join(sortedKeys(p.signals), ", "))))
	w.WriteString("    owner: REVIEW-ME\n")
	fmt.Fprintf(w, "    expires: %s\n", now.AddDate(0, 0, 90).Format("2006-01-02"))
	w.WriteString("    match:\n")
	fmt.Fprintf(w, "      service: %s\n", yamlQuote(escapeGlob(p.service)))
	if img := executable(p.image); absolutePath(img) {
		fmt.Fprintf(w, "      image: %s\n", yamlQuote(img))
	}
	if absolutePath(p.creator) {
		fmt.Fprintf(w, "      creator: %s\n", yamlQuote(p.creator))
	}
	if src := sortedKeys(p.sources); len(src) == 1 && src[0] != "" {
		// One remote origin: approving it is narrower than approving the binary.
		fmt.Fprintf(w, "      source_host: %s\n", yamlQuote(src[0]))
	}
	fmt.Fprintf(w, "      host_group: %s\n", id)
}

// writeRates reports alerts per 1,000 events and per host-day before and
// after the proposal.
func writeRates(out io.Writer, alerts []correlate.Alert, proposal *correlate.Policy,
	st correlate.Stats, res inputResult, now time.Time) {
	before, after := 0, 0
	for i := range alerts {
		if alerts[i].Suppressed() {
			continue
		}
		before++
		if proposal.ApprovalFor(&alerts[i], now) == "" {
			after++
		}
	}
	days := max(res.Last.Sub(res.First).Hours()/24, 1.0/24) * float64(max(st.Hosts, 1))
	rate := func(n int) string {
		per1k := 0.0
		if st.Events > 0 {
			per1k = float64(n) * 1000 / float64(st.Events)
		}
		return fmt.Sprintf("%d alert(s): %.3f per 1,000 events, %.4f per host-day", n, per1k,
			float64(n)/days)
	}
	fmt.Fprintf(out, "Alert rate before the proposal: %s\n", rate(before))
	fmt.Fprintf(out, "Alert rate after the proposal:  %s\n", rate(after))
}

// executable returns the binary of an ImagePath, without quotes or arguments.
func executable(imagePath string) string {
	exe, _ := telemetry.SplitCommandLine(strings.ReplaceAll(imagePath, "%%", "%"))
	return exe
}

func absolutePath(p string) bool {
	p = strings.Trim(p, `"`)
	if strings.ContainsAny(p, "*?") || strings.Contains(p, " /") || strings.Contains(p, " -") {
		return false
	}
	if strings.HasPrefix(p, "%") {
		return strings.Contains(p[1:], `%\`) // %SystemRoot%\…, %windir%\…
	}
	return len(p) >= 3 && p[1] == ':' && p[2] == '\\'
}

// yamlQuote writes s as a single-quoted YAML scalar, control characters
// replaced.
func yamlQuote(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func yamlComment(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

// escapeGlob keeps a service name literal in an approval's glob.
func escapeGlob(s string) string {
	return strings.NewReplacer("*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

// slug makes an ID fragment of letters, digits and dashes.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return cmp.Or(strings.Trim(b.String(), "-"), "x")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
