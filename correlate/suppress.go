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
	subj := inc.subject()
	for i := range e.pol.Approvals {
		a := &e.pol.Approvals[i]
		if !a.Match.matches(e.pol, subj) {
			continue
		}
		if o, ok := uncovered(inc, func(s subject) bool { return a.Match.matches(e.pol, s) }); ok {
			reasons = append(reasons, fmt.Sprintf("approval %s matches but does not cover "+
				"evidence from %s, so it does not suppress", a.ID, o))
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
	if o, ok := uncovered(inc, func(s subject) bool {
		return e.pol.isRemoteExecutionHost(s.sourceHost) || e.pol.isRemoteExecutionHost(s.sourceIP)
	}); ok {
		return "", fmt.Sprintf("source %s is an approved remote-execution host but evidence "+
			"also came from %s, which is not", host, o)
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

// uncovered returns the first of the incident's other origins (sources that
// contradict its first one) for which covers fails: an approval granted to
// one source cannot speak for evidence from another.
func uncovered(inc *incident, covers func(subject) bool) (origin, bool) {
	for _, o := range inc.others {
		s := inc.subject()
		s.sourceHost, s.sourceIP = o.host, o.ip
		if !covers(s) {
			return o, true
		}
	}
	return origin{}, false
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
