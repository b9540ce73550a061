package correlate

import (
	"fmt"
	"strings"
)

// blocksAllowlist are signals that an allowlisted binary does not explain: a
// Services key written behind the SCM's back, or a binary whose own path or
// arguments are abnormal (svchost -k with a new group).
var blocksAllowlist = []Signal{ServiceKeyWritten, NonstandardBinary}

// blocksRemoteHost are signals that an approved remote-execution host does
// not explain: it may run PsExec, not plant odd binaries or rewrite services.
var blocksRemoteHost = []Signal{ServiceKeyWritten, NonstandardBinary, ImagePathChanged}

// suppression returns the ID of what suppresses the incident ("" if nothing)
// and the reasons a reader needs: which approval applied, and which matched
// but could not (expired, hash not observed, a blocking signal).
func (e *Engine) suppression(inc *incident) (string, []string) {
	var reasons []string
	now := e.opts.Now().UTC()
	subjects := inc.subjects()
	for i := range e.pol.Approvals {
		a := &e.pol.Approvals[i]
		if !a.Match.matches(e.pol, subjects[0].subject) {
			continue
		}
		if what, ok := uncovered(subjects, func(s subject) bool {
			return a.Match.matches(e.pol, s)
		}); ok {
			reasons = append(reasons, fmt.Sprintf("approval %s matches but does not cover %s, "+
				"so it does not suppress", a.ID, what))
			continue
		}
		if !a.Expires.IsZero() && now.After(a.Expires) {
			reasons = append(reasons, fmt.Sprintf("approval %s expired on %s and no longer suppresses",
				a.ID, a.Expires.Format("2006-01-02")))
			continue
		}
		return a.ID, append(reasons, approvalReason(a))
	}
	if id, why := e.allowlisted(inc); id != "" {
		return id, append(reasons, why)
	} else if why != "" {
		reasons = append(reasons, why)
	}
	id, why := e.remoteApproved(inc)
	if why != "" {
		reasons = append(reasons, why)
	}
	return id, reasons
}

func approvalReason(a *Approval) string {
	var b strings.Builder
	fmt.Fprintf(&b, "suppressed by approval %s (%s; owner %s", a.ID, a.Reason, a.Owner)
	if a.Ticket != "" {
		fmt.Fprintf(&b, "; ticket %s", a.Ticket)
	}
	if !a.Expires.IsZero() {
		fmt.Fprintf(&b, "; expires %s", a.Expires.Format("2006-01-02"))
	}
	b.WriteString(")")
	return b.String()
}

// allowlisted checks the service binary against the allowlist. A pinned
// SHA-256 or signer must have been observed and must match; every hash
// observed must be pinned.
func (e *Engine) allowlisted(inc *incident) (id, why string) {
	for i := range e.pol.Allowlist {
		al := &e.pol.Allowlist[i]
		if al.key == "" || al.key != inc.imageKey {
			continue
		}
		// Every binary the service ran must be a pinned one, not just the
		// first: a binary replaced between two starts shows in the second.
		unpinned := e.anyUnpinned(inc, al.key)
		switch {
		case al.SHA256 != "" && len(inc.hashes) == 0:
			return "", fmt.Sprintf("binary is allowlisted (%s) but its SHA-256 was not observed", al.ID)
		case al.SHA256 != "" && unpinned != "":
			return "", fmt.Sprintf("binary path is allowlisted (%s) but services.exe ran it with "+
				"SHA-256 %s, which the allowlist does not pin", al.ID, unpinned)
		case al.Signer != "" && inc.signer == "":
			return "", fmt.Sprintf("binary is allowlisted (%s) but its signer was not observed", al.ID)
		case al.Signer != "" && !strings.EqualFold(al.Signer, inc.signer):
			return "", fmt.Sprintf("binary path is allowlisted (%s) but it is signed by %q", al.ID, inc.signer)
		}
		if sig, ok := blocking(inc.signals, blocksAllowlist); ok {
			return "", fmt.Sprintf("binary is allowlisted (%s) but %s keeps the alert open", al.ID, sig)
		}
		return al.ID, fmt.Sprintf("suppressed: service binary is allowlisted (%s)", al.ID)
	}
	return "", ""
}

// remoteApproved checks the incident's remote origin against the approved
// remote-execution hosts.
func (e *Engine) remoteApproved(inc *incident) (id, why string) {
	var host string
	switch {
	case e.pol.isRemoteExecutionHost(inc.sourceHost):
		host = inc.sourceHost
	case e.pol.isRemoteExecutionHost(inc.sourceIP):
		host = inc.sourceIP
	default:
		return "", ""
	}
	if what, ok := uncovered(inc.subjects(), func(s subject) bool {
		return e.pol.isRemoteExecutionHost(s.sourceHost) || e.pol.isRemoteExecutionHost(s.sourceIP)
	}); ok {
		return "", fmt.Sprintf("source %s is an approved remote-execution host but not that of "+
			"%s", host, what)
	}
	if sig, ok := blocking(inc.signals, blocksRemoteHost); ok {
		return "", fmt.Sprintf("source %s is an approved remote-execution host but %s keeps the alert open",
			host, sig)
	}
	id = "remote-execution-host:" + strings.ToLower(host)
	return id, fmt.Sprintf("suppressed: source %s is an approved remote-execution host", host)
}

func blocking(s signalSet, sigs []Signal) (Signal, bool) {
	for _, sig := range sigs {
		if s.has(sig) {
			return sig, true
		}
	}
	return 0, false
}

// uncovered returns what the first subject that covers rejects describes.
func uncovered(subjects []part, covers func(subject) bool) (string, bool) {
	for _, p := range subjects {
		if !covers(p.subject) {
			return p.what, true
		}
	}
	return "", false
}

// part is one subject an approval must match to suppress an incident, with
// what it stands for in a reason.
type part struct {
	subject
	what string
}

// subjects lists what an approval must match to suppress the incident: the
// incident itself, and the same with each other origin its evidence came
// from (an approval granted to one source cannot speak for another). For a
// burst, that is every install it merged; a burst whose installs were not all
// kept cannot be approved.
func (inc *incident) subjects() []part {
	if !inc.isBurst {
		return inc.originParts(inc.subject(), inc.others)
	}
	var out []part
	for _, m := range inc.parts {
		out = append(out, m.originParts(m.subject(), append(m.others, inc.others...))...)
	}
	if len(out) == 0 || len(inc.parts) < inc.burstInstalls {
		return []part{{subject: inc.subject(), what: "every install of the burst"}}
	}
	return out
}

func (inc *incident) originParts(s subject, others []origin) []part {
	out := []part{{subject: s, what: "the install of " + quote(inc.name())}}
	for _, o := range others {
		so := s
		so.sourceHost, so.sourceIP = o.host, o.ip
		out = append(out, part{subject: so, what: "evidence from " + o.String()})
	}
	return out
}

// anyUnpinned returns an observed hash of the incident's binary that the
// allowlist does not pin for image, or "".
func (e *Engine) anyUnpinned(inc *incident, image string) string {
	for _, h := range inc.hashes {
		if e.pol.unpinnedHash(image, h) {
			return h
		}
	}
	return ""
}
