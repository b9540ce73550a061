package correlate

import (
	"path"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// Defaults for the policy's tunables.
const (
	DefaultWindow      = 2 * time.Minute
	DefaultLateness    = 2 * time.Minute
	DefaultMinScore    = 40
	DefaultBurstCount  = 5
	DefaultBurstWindow = 10 * time.Minute
)

// Policy is what an organisation declares normal: the AN1185 tunables and the
// named approvals. The zero Policy is not valid; use DefaultPolicy or
// LoadPolicy.
type Policy struct {
	// Window is AN1185's ParentProcessCorrelationWindow: how far apart an
	// install and the execution, start, stop or connection it explains may
	// be. An event exactly Window after the install still joins.
	Window time.Duration
	// Lateness is how far behind a host's newest event another event of that
	// host may arrive and still join its incident.
	Lateness time.Duration
	// MinScore is the score from which an incident is reported.
	MinScore int
	// IncludeDrivers reports kernel-driver services too; by default their
	// score is held below MinScore and the reason names the hand-off.
	IncludeDrivers bool
	// BurstCount suspicious installs from one origin within BurstWindow make
	// one install_burst incident.
	BurstCount  int
	BurstWindow time.Duration

	// Allowlist is AN1185's ServiceBinaryAllowlist.
	Allowlist []AllowEntry
	// RemoteExecutionHosts is AN1185's RemoteExecutionHosts: hosts (names or
	// IP addresses) approved to install and run services remotely.
	RemoteExecutionHosts []string
	// HostGroups names sets of hosts for approvals (canonical host names).
	HostGroups map[string][]string
	// Approvals are named exceptions, checked in order.
	Approvals []Approval

	remoteHosts map[string]bool
	groups      map[string]map[string]bool
}

// AllowEntry is one expected service binary: an exact canonical path,
// optionally pinned to a SHA-256 or an Authenticode signer. There are no
// folder wildcards: "anything under %windir%" is how WinSxS masquerades pass.
type AllowEntry struct {
	ID     string
	Path   string // as written in the policy
	SHA256 string // lower-case hex, "" when not pinned
	Signer string // "" when not pinned
	Line   int

	key string // canonical form of Path
}

// Approval is a named, owned, optionally expiring exception. Every non-empty
// field of Match must match for the approval to apply.
type Approval struct {
	ID      string
	Reason  string
	Owner   string
	Ticket  string
	Expires time.Time // zero: never
	Match   ApprovalMatch
	Line    int
}

// ApprovalMatch selects incidents. Service may use * and ? wildcards (for
// per-user service names); the other fields are exact and case-insensitive.
type ApprovalMatch struct {
	Service    string // key or display name
	Image      string // canonical image path of the service binary
	Creator    string // image of the process that created or configured it
	User       string // DOMAIN\user that installed it
	SourceHost string // remote origin host name or IP address
	HostGroup  string // the target host is in this HostGroups entry

	imageKey, creatorKey string
}

// DefaultPolicy returns the defaults with no allowlist and no approvals.
func DefaultPolicy() *Policy {
	p := &Policy{
		Window:      DefaultWindow,
		Lateness:    DefaultLateness,
		MinScore:    DefaultMinScore,
		BurstCount:  DefaultBurstCount,
		BurstWindow: DefaultBurstWindow,
	}
	p.compile()
	return p
}

// compile builds the lookup tables. Callers that build a Policy by hand must
// call it through Validate.
func (p *Policy) compile() {
	p.remoteHosts = make(map[string]bool, len(p.RemoteExecutionHosts))
	for _, h := range p.RemoteExecutionHosts {
		p.remoteHosts[telemetry.CanonicalHost(h)] = true
	}
	p.groups = make(map[string]map[string]bool, len(p.HostGroups))
	for name, hosts := range p.HostGroups {
		set := make(map[string]bool, len(hosts))
		for _, h := range hosts {
			set[telemetry.CanonicalHost(h)] = true
		}
		p.groups[name] = set
	}
	for i := range p.Allowlist {
		p.Allowlist[i].key = canonImage(p.Allowlist[i].Path)
		p.Allowlist[i].SHA256 = strings.ToLower(p.Allowlist[i].SHA256)
	}
	for i := range p.Approvals {
		m := &p.Approvals[i].Match
		m.imageKey = canonImage(m.Image)
		m.creatorKey = canonImage(m.Creator)
	}
}

// unpinnedHash reports whether the allowlist pins SHA-256 hashes for the
// canonical image and sha (lower-case hex, non-empty) is none of them.
func (p *Policy) unpinnedHash(image, sha string) bool {
	if sha == "" || len(p.Allowlist) == 0 {
		return false
	}
	pinned := false
	for i := range p.Allowlist {
		al := &p.Allowlist[i]
		if al.key != image || al.SHA256 == "" {
			continue
		}
		if al.SHA256 == sha {
			return false
		}
		pinned = true
	}
	return pinned
}

// isRemoteExecutionHost reports whether a host name or address is approved.
func (p *Policy) isRemoteExecutionHost(host string) bool {
	return host != "" && p.remoteHosts[telemetry.CanonicalHost(host)]
}

// subject is what approvals match on, read from an incident or an alert.
type subject struct {
	keyName, displayName string
	imageKey, creatorKey string
	user                 string
	sourceHost, sourceIP string
	hostKey              string
}

func (inc *incident) subject() subject {
	return subject{keyName: inc.keyName, displayName: inc.displayName, imageKey: inc.imageKey,
		creatorKey: canonImage(inc.creator), user: inc.user, sourceHost: inc.sourceHost,
		sourceIP: inc.sourceIP, hostKey: inc.hostKey}
}

func alertSubject(a *Alert) subject {
	return subject{keyName: a.Service, displayName: a.DisplayName, imageKey: canonImage(a.ImagePath),
		creatorKey: canonImage(a.Creator), user: a.User, sourceHost: a.SourceHost,
		sourceIP: a.SourceIP, hostKey: telemetry.CanonicalHost(a.Host)}
}

// ApprovalFor returns the ID of the first approval, unexpired at now, that
// matches the alert, or "". It applies the engine's matching to an alert
// already produced, which is how baselining measures a proposed policy.
func (p *Policy) ApprovalFor(a *Alert, now time.Time) string {
	s := alertSubject(a)
	for i := range p.Approvals {
		ap := &p.Approvals[i]
		if ap.Match.matches(p, s) && (ap.Expires.IsZero() || !now.After(ap.Expires)) {
			return ap.ID
		}
	}
	return ""
}

// matches reports whether the approval's match selects the subject.
func (m *ApprovalMatch) matches(p *Policy, s subject) bool {
	switch {
	case m.Service != "" && !matchServiceName(m.Service, s.keyName, s.displayName):
		return false
	case m.imageKey != "" && m.imageKey != s.imageKey:
		return false
	case m.creatorKey != "" && m.creatorKey != s.creatorKey:
		return false
	case m.User != "" && !strings.EqualFold(m.User, s.user):
		return false
	case m.SourceHost != "" && !sameHost(m.SourceHost, s.sourceHost, s.sourceIP):
		return false
	case m.HostGroup != "" && !p.groups[m.HostGroup][s.hostKey]:
		return false
	}
	return true
}

func matchServiceName(pattern string, names ...string) bool {
	pattern = strings.ToLower(pattern)
	for _, n := range names {
		if n == "" {
			continue
		}
		if ok, _ := path.Match(pattern, strings.ToLower(n)); ok {
			return true
		}
	}
	return false
}

func sameHost(want, host, ip string) bool {
	w := telemetry.CanonicalHost(want)
	return w != "" && (w == telemetry.CanonicalHost(host) || w == ip)
}
