package correlate

import (
	"fmt"
	"strings"
	"time"
)

// maybeSweep expires state once the host's clock has moved on by half the
// window (at least a second), so that the cost stays amortised; state thus
// lives at most 1.5 windows plus the lateness.
func (e *Engine) maybeSweep(h *hostState) {
	every := max(e.pol.Window/2, time.Second)
	if h.watermark.Sub(h.lastSweep) < every {
		return
	}
	h.lastSweep = h.watermark
	e.sweep(h, h.watermark.Add(-e.pol.Window-e.pol.Lateness))
}

// sweep closes the incidents that can no longer grow and drops state older
// than horizon.
func (e *Engine) sweep(h *hostState, horizon time.Time) {
	keep := h.open[:0]
	for _, inc := range h.open {
		if inc.root().last.Before(horizon) {
			e.finish(h, inc)
			continue
		}
		keep = append(keep, inc)
	}
	clear(h.open[len(keep):])
	h.open = keep
	e.expireTables(h, horizon)
	if h.seen.since.Before(horizon) {
		h.seen.rotate(h.watermark)
	}
}

func (e *Engine) expireTables(h *hostState, horizon time.Time) {
	dropClosed(h.byName)
	dropClosed(h.byImage)
	for k, p := range h.procs {
		if (p.inc != nil && p.inc.closed) || (p.inc == nil && !p.scm && p.start.Before(horizon)) {
			delete(h.procs, k)
		}
	}
	for k, p := range h.byPID {
		if (p.inc != nil && p.inc.closed) || (!p.scm && p.start.Before(horizon)) {
			delete(h.byPID, k)
		}
	}
	// A child waits only for an install that arrives late: an install it
	// follows cannot be recorded later than the child itself.
	childHorizon := h.watermark.Add(-e.pol.Lateness - clockSkew)
	h.nPending -= filterLists(h.pending, func(c pendingChild) bool {
		return !c.p.start.Before(childHorizon)
	})
	filterLists(h.byBinary, func(inc *incident) bool { return !inc.closed })
	e.expireStates(h, horizon)
}

// dropClosed removes index entries of closed incidents.
func dropClosed(m map[string]*incident) {
	for k, inc := range m {
		if inc.closed {
			delete(m, k)
		}
	}
}

// filterLists keeps the elements of each list that keep accepts, deletes
// emptied keys, and returns how many elements it dropped.
func filterLists[T any](m map[string][]T, keep func(T) bool) int {
	dropped := 0
	for k, list := range m {
		kept := list[:0]
		for _, v := range list {
			if keep(v) {
				kept = append(kept, v)
			}
		}
		dropped += len(list) - len(kept)
		clear(list[len(kept):])
		if len(kept) == 0 {
			delete(m, k)
		} else {
			m[k] = kept
		}
	}
	return dropped
}

func (e *Engine) expireStates(h *hostState, horizon time.Time) {
	for k, s := range h.states {
		if s.started.Before(horizon) && s.stopped.Before(horizon) {
			delete(h.states, k)
		}
	}
	for id, l := range h.logons {
		if l.at.Before(h.watermark.Add(-e.opts.LogonTTL)) {
			delete(h.logons, id)
		}
	}
	for id, incs := range h.awaiting {
		if len(incs) == 0 || incs[len(incs)-1].closed {
			delete(h.awaiting, id)
		}
	}
	for o, b := range h.bursts {
		if len(b.times) == 0 || b.times[len(b.times)-1].Before(h.watermark.Add(-e.pol.BurstWindow)) {
			delete(h.bursts, o)
		}
	}
}

// closeHost closes every open incident of h.
func (e *Engine) closeHost(h *hostState) {
	for _, inc := range h.open {
		e.finish(h, inc)
	}
	h.open = nil
}

// finish closes one incident and emits its alert when it scores enough.
func (e *Engine) finish(h *hostState, inc *incident) {
	if inc.closed {
		return
	}
	inc.closed = true
	inc.prevSame = nil // a closed incident keeps no older one alive
	if inc.burst != nil || inc.signals == 0 {
		// A burst member's evidence is its burst's, which closes on its own.
		return
	}
	e.nameSources(inc)
	a := e.buildAlert(inc)
	e.opts.Logger.Debug("incident closed", keyHost, inc.host, keyService, a.Service,
		keyScore, a.Score)
	if a.Score < e.pol.MinScore {
		e.stats.BelowScore++
		return
	}
	e.emit(a)
}

// buildAlert turns a closed incident into its alert: score, severity,
// techniques, suppression and redacted text.
func (e *Engine) buildAlert(inc *incident) Alert {
	sigs := inc.signals
	score := sigs.score()
	if inc.oneLiner && sigs.has(NonstandardBinary) {
		score = min(score+oneLinerBonus, 100)
	}
	var reasons []string
	if inc.driver && !e.pol.IncludeDrivers && score >= e.pol.MinScore {
		score = e.pol.MinScore - 1
		reasons = append(reasons, "kernel driver service: left to a driver-load analytic "+
			"(set include_drivers to report drivers)")
	}
	a := Alert{
		Host:        inc.host,
		Service:     Redact(inc.name()),
		DisplayName: Redact(inc.displayName),
		ImagePath:   Redact(inc.imagePath),
		Signals:     sigs.names(),
		Techniques:  techniques(inc),
		Score:       score,
		Severity:    severityFor(score),
		FirstSeen:   inc.first.UTC(),
		LastSeen:    inc.last.UTC(),
		Services:    redactAll(inc.members),
		Creator:     Redact(inc.creator),
		User:        inc.user,
		SourceHost:  inc.sourceHost,
		SourceIP:    inc.sourceIP,
		Evidence:    inc.evidenceOf(),

		EvidenceDropped: inc.dropped,
	}
	if inc.isBurst {
		a.Service = burstLabel(inc)
		a.DisplayName = ""
	}
	a.ID = alertID(inc.hostKey, a.Service, a.FirstSeen)
	for _, r := range inc.reasons {
		a.Reasons = append(a.Reasons, Redact(r))
	}
	a.Reasons = append(a.Reasons, reasons...)
	sortEvidence(a.Evidence)
	if score >= e.pol.MinScore {
		a.SuppressedBy, reasons = e.suppression(inc)
		a.Reasons = append(a.Reasons, reasons...)
	}
	return a
}

// burstLabel names a burst alert: "burst of 6 services", or for one name
// re-created per command "burst of 6 installs of 1 service".
func burstLabel(inc *incident) string {
	if inc.burstInstalls == len(inc.members) {
		return fmt.Sprintf("burst of %d services", len(inc.members))
	}
	plural := "s"
	if len(inc.members) == 1 {
		plural = ""
	}
	return fmt.Sprintf("burst of %d installs of %d service%s", inc.burstInstalls,
		len(inc.members), plural)
}

func redactAll(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = Redact(v)
	}
	return out
}

// techniques maps the incident's signals to ATT&CK: T1543.003 for creating
// or modifying a service, T1569.002 for executing one, T1021.002 when the
// service came over the network (a remote logon, an admin share, a PsExec
// client on another host).
func techniques(inc *incident) []string {
	s := inc.signals
	var out []string
	if s.has(ServicesChild) || s.has(RapidExecution) || s.has(TransientService) ||
		s.has(PsexecFamily) || s.has(ServiceNetwork) || inc.commandKinds.has(RapidExecution) ||
		!inc.started.IsZero() {
		out = append(out, TechniqueServiceExecution)
	}
	if s.has(ServiceInstalled) || s.has(ServiceKeyWritten) || s.has(ImagePathChanged) ||
		inc.commandKinds.has(ServiceInstalled) || inc.isBurst {
		out = append(out, TechniqueWindowsService)
	}
	if len(out) == 0 {
		out = append(out, TechniqueServiceExecution)
	}
	if s.has(RemoteOrigin) || inc.sourceHost != "" || inc.sourceIP != "" ||
		strings.Contains(strings.ToLower(inc.imagePath), `$\`) ||
		strings.HasPrefix(inc.imageKey, `\\`) {
		out = append(out, TechniqueAdminShares)
	}
	return out
}
