package correlate

import (
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// Install events an incident has seen, as bits of incident.installs.
const (
	installed7045 uint8 = 1 << iota
	installed4697
)

func installBit(eventID uint32) uint8 {
	if eventID == 4697 {
		return installed4697
	}
	return installed7045
}

// maxSameName bounds the walk over the open incidents of one service name.
const maxSameName = 16

// registration is a new creation of a service as one event records it.
type registration struct {
	t       time.Time
	eventID uint32 // 7045 or 4697; 0 for a create command
	logonID uint64 // 4697 SubjectLogonId
	path    string // the ImagePath it creates the service with
	remote  bool   // a create command issued from another host
}

// createdBy walks from the newest incident of a name to the newest one whose
// creation is not after t (with clockSkew of slack), so that an event read
// late, when a later session of the name already exists, joins its own. It
// returns inc when no other fits.
func createdBy(inc *incident, t time.Time) *incident {
	c := inc
	for i := 0; c != nil && c.prevSame != nil && i < maxSameName; i++ {
		a := creationTime(c)
		if a.IsZero() || !a.After(t.Add(clockSkew)) {
			return c
		}
		c = c.prevSame
	}
	if c != nil && !c.closed {
		return c
	}
	return inc
}

// creationTime is when inc was created: its install event, else the first
// registration, command or registry write.
func creationTime(inc *incident) time.Time {
	if inc.installs != 0 {
		return inc.installAt
	}
	return inc.installed
}

// registered finds the open incident a creation of a service belongs to, or
// opens one. A service cannot be created twice without being deleted in
// between, so a name that is created again is a new incident: PsExec
// re-creates PSEXESVC for every session and smbexec its service for every
// command, and an approved session must not absorb an attacker's. The 7045
// and 4697 of one CreateService pair up by time and logon.
func (e *Engine) registered(h *hostState, key, display, path string,
	reg registration) *incident {
	newest := e.newest(h, reg.t, key, display, path)
	var best *incident
	var bestGap time.Duration
	c := newest
	for i := 0; c != nil && i < maxSameName; i++ {
		if !c.closed && e.sameCreation(c, reg) {
			// Sessions in quick succession (smbexec's commands) can each
			// accept the event; the nearest in time is its own.
			if gap := creationGap(c, reg.t); best == nil || gap < bestGap {
				best, bestGap = c, gap
			}
		}
		if c.prevSame != nil && c.prevSame.closed {
			c.prevSame = nil // keep no chain of closed incidents alive
		}
		c = c.prevSame
	}
	if best != nil {
		return best
	}
	inc := e.openIncident(h, reg.t)
	inc.prevSame = newest
	return inc
}

// creationGap is how far t is from the creation inc already records.
func creationGap(inc *incident, t time.Time) time.Duration {
	anchor := creationTime(inc)
	if anchor.IsZero() {
		return 0
	}
	return t.Sub(anchor).Abs()
}

// sameCreation reports whether a creation event belongs to inc.
func (e *Engine) sameCreation(inc *incident, reg registration) bool {
	if !reg.remote && !inc.deletedAt.IsZero() && reg.t.After(inc.deletedAt) {
		return false // re-created after a delete
	}
	if reg.path != "" && inc.imagePath != "" && !inc.imageGuess &&
		!samePath(inc.imagePath, reg.path) {
		return false // smbexec: a new one-liner per command
	}
	if reg.eventID == 0 { // a create command
		if !inc.createdCmd.IsZero() {
			// The shell's command line and sc.exe's own both name it.
			return within(inc.createdCmd, reg.t, clockSkew)
		}
		if reg.remote {
			// sc.exe \\host runs on another clock: only the window holds.
			return inc.installs == 0 || within(inc.installAt, reg.t, e.pol.Window)
		}
		return inc.installs == 0 || within(inc.installAt, reg.t, svcctlWindow)
	}
	if inc.installs&installBit(reg.eventID) != 0 {
		return false // a second 7045 (or 4697): created again
	}
	if reg.logonID != 0 && inc.logonID != 0 && reg.logonID != inc.logonID {
		return false
	}
	if inc.installs != 0 {
		return within(inc.installAt, reg.t, clockSkew)
	}
	return inc.installed.IsZero() || within(inc.installed, reg.t, svcctlWindow)
}

// recordInstall marks the install event on inc.
func recordInstall(inc *incident, reg registration) {
	if inc.installs == 0 || reg.t.Before(inc.installAt) {
		inc.installAt = reg.t
	}
	inc.installs |= installBit(reg.eventID)
	if reg.logonID != 0 && inc.logonID == 0 {
		inc.logonID = reg.logonID
	}
}

// origin is a remote source of an incident's evidence.
type origin struct {
	host, ip string
}

func (o origin) String() string {
	switch {
	case o.host != "" && o.ip != "":
		return o.host + " (" + o.ip + ")"
	case o.host != "":
		return o.host
	}
	return o.ip
}

// maxOthers bounds the extra origins an incident remembers.
const maxOthers = 8

// addOrigin records where evidence of inc came from. The first source fills
// the incident's sourceHost and sourceIP; a source that contradicts them (a
// different host or address) is kept apart, since an approval for the first
// says nothing about it (see suppression).
func (e *Engine) addOrigin(h *hostState, inc *incident, host, ip string) {
	if host != "" && telemetry.CanonicalHost(host) == h.key {
		host = ""
	}
	if ip == "-" || ip == "127.0.0.1" || ip == "::1" {
		ip = ""
	}
	if host == "" && ip != "" {
		host = e.nameOf(ip)
	}
	if host == "" && ip == "" {
		return
	}
	r := inc.root()
	o := origin{host: host, ip: ip}
	if r.clashes(o) {
		r.addOther(o)
		return
	}
	for _, x := range []*incident{r, inc} {
		x.sourceHost = firstOf(x.sourceHost, strings.Clone(host))
		x.sourceIP = firstOf(x.sourceIP, strings.Clone(ip))
	}
}

// clashes reports whether o names another host than the incident's source.
func (inc *incident) clashes(o origin) bool {
	if o.host != "" && inc.sourceHost != "" &&
		telemetry.CanonicalHost(o.host) != telemetry.CanonicalHost(inc.sourceHost) {
		return true
	}
	return o.ip != "" && inc.sourceIP != "" && o.ip != inc.sourceIP
}

func (inc *incident) addOther(o origin) {
	for _, x := range inc.others {
		if !x.clashesWith(o) {
			return
		}
	}
	if len(inc.others) < maxOthers {
		o.host, o.ip = strings.Clone(o.host), strings.Clone(o.ip)
		inc.others = append(inc.others, o)
	}
}

func (o origin) clashesWith(p origin) bool {
	if o.host != "" && p.host != "" {
		return telemetry.CanonicalHost(o.host) != telemetry.CanonicalHost(p.host)
	}
	return o.ip != p.ip
}

// bySource returns the open incident of a service created by t, unless the
// client host a PsExec pipe names contradicts its source and another open
// session of the name comes from that client.
func (e *Engine) bySource(h *hostState, t time.Time, service, client string) *incident {
	newest := e.lookup(h, t, service, "", "")
	if client == "" || newest == nil || !newest.root().clashes(origin{host: client}) {
		return newest
	}
	want := telemetry.CanonicalHost(client)
	c := newest
	for i := 0; c != nil && i < maxSameName; i++ {
		if !c.closed && telemetry.CanonicalHost(c.sourceHost) == want {
			return c
		}
		c = c.prevSame
	}
	return newest
}

// nameSources names the incident's source addresses that no host name came
// with, from what the engine learned since (an NTLM logon or the host's own
// connections seen after the install).
func (e *Engine) nameSources(inc *incident) {
	if inc.sourceHost == "" && inc.sourceIP != "" {
		inc.sourceHost = e.nameOf(inc.sourceIP)
	}
	for i := range inc.others {
		if o := &inc.others[i]; o.host == "" && o.ip != "" {
			o.host = e.nameOf(o.ip)
		}
	}
}
