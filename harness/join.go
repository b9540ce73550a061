package harness

import (
	"fmt"
	"strings"

	"github.com/svcharness/svcharness/correlate"
	"github.com/svcharness/svcharness/report"
	"github.com/svcharness/svcharness/scenarios"
	"github.com/svcharness/svcharness/telemetry"
)

// minSubstringKey is the length from which a join key may match inside a
// longer value. Shorter generated names (Impacket's four letters) must
// match a whole word, or they would join by accident.
const minSubstringKey = 6

// joinKeys returns what ties telemetry to a plan: the run ID and every name
// it generated (Plan.JoinKeys), and the service names its cleanup checks
// name, which cover tools whose names are fixed (PSEXESVC).
func joinKeys(p *scenarios.Plan) []string {
	keys := p.JoinKeys()
	for _, c := range p.Checks {
		name := c.Target
		if c.Kind == scenarios.KeyAbsent || c.Kind == scenarios.ValueIs {
			name, _, _ = telemetry.ServiceFromRegistryPath(c.Target)
		}
		if c.Kind != scenarios.FileAbsent && name != "" && !containsFold(keys, name) {
			keys = append(keys, name)
		}
	}
	return keys
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// joiner decides whether an alert belongs to a plan, from the plan's names
// and the records the alert rests on. It never asks the lab.
type joiner struct {
	keys   []string // lower case
	lines  []string // the plan's command lines, lower case
	events map[string]*telemetry.Event
}

func newJoiner(p *scenarios.Plan, events []*telemetry.Event) *joiner {
	j := &joiner{events: map[string]*telemetry.Event{}}
	for _, k := range joinKeys(p) {
		j.keys = append(j.keys, strings.ToLower(k))
	}
	for _, c := range append(append([]scenarios.Command{}, p.Steps...), p.Cleanup...) {
		j.lines = append(j.lines, strings.ToLower(c.Line))
	}
	for _, ev := range events {
		j.events[recordKey(ev.HostKey, ev.Channel, ev.RecordID)] = ev
	}
	return j
}

func recordKey(host, channel string, id uint64) string {
	return fmt.Sprintf("%s|%s|%d", telemetry.CanonicalHost(host),
		telemetry.CanonicalChannel(channel), id)
}

// joinedBy returns the join key that ties a to the plan, or "". An alert
// joins when its service, display name or image path, or a field of a record
// in its evidence, carries a key; or when its service is named, as a whole
// word, by one of the plan's own commands.
func (j *joiner) joinedBy(a correlate.Alert) string {
	values := append([]string{a.Service, a.DisplayName, a.ImagePath}, a.Services...)
	for _, ev := range a.Evidence {
		if rec := j.events[recordKey(ev.Host, ev.Channel, ev.RecordID)]; rec != nil {
			for _, f := range rec.Fields {
				values = append(values, f.Value)
			}
		}
	}
	for _, v := range values {
		if k := j.match(strings.ToLower(v)); k != "" {
			return k
		}
	}
	svc := strings.ToLower(a.Service)
	for _, line := range j.lines {
		if svc != "" && hasWord(line, svc) {
			return a.Service
		}
	}
	return ""
}

func (j *joiner) match(v string) string {
	for _, k := range j.keys {
		if len(k) >= minSubstringKey && strings.Contains(v, k) || hasWord(v, k) {
			return k
		}
	}
	return ""
}

// hasWord reports whether w occurs in s bounded by non-name characters.
func hasWord(s, w string) bool {
	for i := 0; w != ""; {
		n := strings.Index(s[i:], w)
		if n < 0 {
			return false
		}
		start, end := i+n, i+n+len(w)
		if (start == 0 || !nameByte(s[start-1])) && (end == len(s) || !nameByte(s[end])) {
			return true
		}
		i = start + 1
	}
	return false
}

func nameByte(b byte) bool {
	return b == '_' || b == '-' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' ||
		b >= 'A' && b <= 'Z'
}

// reportAlert converts an alert for the report, with each evidence record
// summarised from the collected event it points at.
func (j *joiner) reportAlert(a correlate.Alert) report.Alert {
	ra := report.Alert{ID: a.ID, Host: a.Host, Service: a.Service, ImagePath: a.ImagePath,
		SuppressedBy: a.SuppressedBy, Signals: a.Signals, Score: a.Score,
		Severity: string(a.Severity), FirstSeen: a.FirstSeen, LastSeen: a.LastSeen,
		JoinedBy: j.joinedBy(a), Evidence: []report.Evidence{}}
	for _, ev := range a.Evidence {
		re := report.Evidence{Time: ev.Time, Host: ev.Host, Channel: ev.Channel,
			EventID: ev.EventID, RecordID: ev.RecordID, Signal: ev.Signal}
		if rec := j.events[recordKey(ev.Host, ev.Channel, ev.RecordID)]; rec != nil {
			re.Summary = summarize(rec)
		}
		ra.Evidence = append(ra.Evidence, re)
	}
	return ra
}

// summaryFields are the fields that say what a record is about, in the
// order a person reads them.
var summaryFields = []string{"ServiceName", "ImagePath", "ServiceFileName", "Image",
	"CommandLine", "ParentImage", "TargetObject", "Details", "TargetFilename",
	"DestinationIp", "DestinationPort", "PipeName", "ShareName", "RelativeTargetName",
	"TargetUserName", "IpAddress", "WorkstationName", "param1", "param2", "param3"}

const maxSummary = 400

func summarize(ev *telemetry.Event) string {
	var b strings.Builder
	for _, name := range summaryFields {
		v := ev.Value(name)
		if v == "" || v == "-" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("  ")
		}
		fmt.Fprintf(&b, "%s=%s", name, v)
	}
	s := correlate.Redact(b.String())
	if len(s) > maxSummary {
		s = strings.ToValidUTF8(s[:maxSummary], "") + "…"
	}
	return s
}
