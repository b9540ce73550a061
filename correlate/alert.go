package correlate

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"time"
)

// Severity ranks an alert by its score.
type Severity string

// The severities, from a score: low below 50, medium below 70, high below 90,
// critical from 90.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// severityFor maps a score to its severity.
func severityFor(score int) Severity {
	switch {
	case score >= 90:
		return SeverityCritical
	case score >= 70:
		return SeverityHigh
	case score >= 50:
		return SeverityMedium
	}
	return SeverityLow
}

// The techniques an alert can name.
const (
	TechniqueServiceExecution = "T1569.002"
	TechniqueWindowsService   = "T1543.003"
	TechniqueAdminShares      = "T1021.002"
)

// Alert is one incident: a host and a service, or a host and a burst of
// services, with everything that made it abnormal. Text fields are redacted.
type Alert struct {
	ID           string     `json:"id"`
	Host         string     `json:"host"`
	Service      string     `json:"service"` // key name when known, else display name
	DisplayName  string     `json:"display_name"`
	ImagePath    string     `json:"image_path"`
	SuppressedBy string     `json:"suppressed_by"` // approval ID, "" when not suppressed
	Signals      []string   `json:"signals"`
	Techniques   []string   `json:"techniques"`
	Score        int        `json:"score"`
	Severity     Severity   `json:"severity"`
	Reasons      []string   `json:"reasons"`
	FirstSeen    time.Time  `json:"first_seen"`
	LastSeen     time.Time  `json:"last_seen"`
	Services     []string   `json:"services,omitempty"` // install_burst: each service name once
	Creator      string     `json:"creator,omitempty"`  // process that created or changed it
	User         string     `json:"user,omitempty"`
	SourceHost   string     `json:"source_host,omitempty"`
	SourceIP     string     `json:"source_ip,omitempty"`
	Evidence     []Evidence `json:"evidence"`
	// EvidenceDropped counts records past the per-alert evidence cap.
	EvidenceDropped int `json:"evidence_dropped,omitempty"`
}

// Suppressed reports whether an approval or the allowlist suppressed a.
func (a *Alert) Suppressed() bool { return a.SuppressedBy != "" }

// HasSignal reports whether the alert carries the named signal.
func (a *Alert) HasSignal(name string) bool { return slices.Contains(a.Signals, name) }

// Evidence points at one record that an alert rests on.
type Evidence struct {
	Host     string    `json:"host"`
	Channel  string    `json:"channel"`
	EventID  uint32    `json:"event_id"`
	RecordID uint64    `json:"record_id"`
	Time     time.Time `json:"time"`
	Signal   string    `json:"signal,omitempty"` // the signal this record raised, if any
}

// alertID is stable for the same incident in the same telemetry.
func alertID(host, service string, first time.Time) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%d", host, service, first.UnixNano())
	return fmt.Sprintf("an1185-%012x", h.Sum64()&0xffffffffffff)
}

// SortAlerts orders alerts by first seen, then host, then service.
func SortAlerts(alerts []Alert) {
	slices.SortStableFunc(alerts, func(a, b Alert) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.Host, b.Host),
			cmp.Compare(a.Service, b.Service))
	})
}

func sortEvidence(ev []Evidence) {
	slices.SortStableFunc(ev, func(a, b Evidence) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Channel, b.Channel),
			cmp.Compare(a.RecordID, b.RecordID))
	})
}
