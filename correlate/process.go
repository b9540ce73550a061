package correlate

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// onProcess handles Sysmon 1 and Security 4688: services.exe children, their
// descendants, and service-control command lines.
func (e *Engine) onProcess(h *hostState, ev *telemetry.Event, evid Evidence) {
	pc, ok := ev.ProcessCreate()
	if !ok || pc.ImageKey == "" {
		return
	}
	p := &proc{key: pc.ProcessGUID, pid: pc.PID, image: pc.ImageKey,
		cmdline: pc.CommandLine, start: evid.Time}
	if p.key == "" {
		p.key = "pid:" + strconv.FormatUint(pc.PID, 10)
	}
	if exeName(pc.ImageKey) == "services.exe" {
		p.scm = true
		e.remember(h, p)
		return
	}
	parent := h.parentOf(pc, evid)
	switch {
	case parent != nil && parent.inc != nil && !parent.scm:
		e.descendant(h, parent.inc, p, evid)
	case hasSuffixFold(pc.ParentImageKey, `\services.exe`) || (parent != nil && parent.scm):
		e.serviceChild(h, p, evid, pc.Hashes, "")
	case !pc.ParentKnown && pc.ProcessGUID == "":
		e.orphan(h, p, evid, pc.Hashes)
	}
	if cmd, ok := parseServiceCommand(pc.ImageKey, pc.CommandLine); ok {
		e.serviceCommand(h, p, evid, cmd, pc.User)
	}
}

// parentOf finds the creating process among those the engine follows: by
// GUID for Sysmon, by PID for 4688 (a PID is reused, so only the newest
// process with it that started before the child counts).
func (h *hostState) parentOf(pc telemetry.ProcessCreate, evid Evidence) *proc {
	if pc.ParentGUID != "" {
		return h.procs[pc.ParentGUID]
	}
	if p := h.byPID[pc.ParentPID]; p != nil && pc.ProcessGUID == "" && !p.start.After(evid.Time) {
		return p
	}
	return nil
}

// remember stores a followed process, evicting an arbitrary one at the cap.
func (e *Engine) remember(h *hostState, p *proc) {
	if len(h.procs) >= e.opts.MaxProcessesPerHost {
		for k, old := range h.procs {
			if !old.scm {
				delete(h.procs, k)
				e.stats.Evicted.Processes++
				break
			}
		}
	}
	h.procs[p.key] = p
	if len(h.byPID) >= e.opts.MaxProcessesPerHost {
		for k := range h.byPID {
			delete(h.byPID, k)
			break
		}
	}
	h.byPID[p.pid] = p
}

// descendant follows a process started by a service's process tree.
func (e *Engine) descendant(h *hostState, inc *incident, p *proc, evid Evidence) {
	p.inc = inc
	e.remember(h, p)
	e.note(inc, evid, noSignal, "")
}

// serviceChild handles a process that services.exe started: it belongs to
// the service whose binary it runs, if that service was installed or
// changed within the window; otherwise it waits for a late install, and a
// PsExec-family or abnormal binary opens an incident of its own.
func (e *Engine) serviceChild(h *hostState, p *proc, evid Evidence, hashes, how string) {
	if inc := e.matchChild(h, p); inc != nil {
		e.tieChild(h, inc, p, evid, how)
		inc.sha256 = firstOf(inc.sha256, sha256Of(hashes))
		return
	}
	if len(h.pending) >= defaultMaxPendingPerHost {
		h.pending = h.pending[1:]
		e.stats.Evicted.Pending++
	}
	h.pending = append(h.pending, pendingChild{p: p, ev: evid})
	e.remember(h, p)
	findings := nonstandard(p.cmdline, h.groups)
	if !psexecFamily("", p.image) && len(findings) == 0 {
		return
	}
	name := strings.TrimSuffix(baseName(p.image), ".exe")
	if psexecFamily("", p.image) {
		name = strings.ToUpper(name)
	}
	inc := e.lookup(h, evid.Time, name, "", "")
	if inc == nil {
		inc = e.openIncident(h, evid.Time)
	}
	h.setNames(inc, name, "")
	h.setImage(inc, firstOf(p.cmdline, p.image))
	inc.sha256 = sha256Of(hashes)
	p.inc, inc.started = inc, evid.Time
	e.note(inc, evid, noSignal, "services.exe started "+baseName(p.image)+
		" with no install or change of its service in the window")
	e.classify(h, inc, evid, firstOf(p.cmdline, p.image), "")
}

// matchChild finds the open service whose binary the child runs and whose
// install or change precedes it within the window. An exact command-line
// match (cmd.exe one-liners) beats a binary match; the newest anchor wins.
func (e *Engine) matchChild(h *hostState, p *proc) *incident {
	var best *incident
	bestExact := false
	for _, inc := range h.open {
		if !e.childOf(inc, p) {
			continue
		}
		exact := normPath(inc.imagePath) == normPath(p.cmdline)
		if best == nil || (exact && !bestExact) ||
			(exact == bestExact && anchorOf(inc).After(anchorOf(best))) {
			best, bestExact = inc, exact
		}
	}
	return best
}

func (e *Engine) childOf(inc *incident, p *proc) bool {
	if inc.isBurst || !sameImage(p.image, inc.imageKey) {
		return false
	}
	return after(anchorOf(inc), p.start, e.pol.Window)
}

// anchorOf is when a service last got its binary: changed, else installed.
func anchorOf(inc *incident) time.Time {
	return firstTime(inc.changed, inc.installed)
}

// tieChild makes p the service's process and raises services_child.
func (e *Engine) tieChild(h *hostState, inc *incident, p *proc, evid Evidence, how string) {
	p.inc = inc
	e.remember(h, p)
	d := roundDur(p.start.Sub(anchorOf(inc)))
	reason := fmt.Sprintf("services.exe started %s %s after the service was installed or changed",
		baseName(p.image), d)
	if how != "" {
		reason += " (" + how + ")"
	}
	e.note(inc, evid, ServicesChild, reason)
	e.applyStart(inc, p.start, evid, "started")
}

// orphan handles a 4688 without ParentProcessName (versions 0 and 1): it is
// joined to a service by its binary when one was installed within the
// window, since the parent cannot be checked.
func (e *Engine) orphan(h *hostState, p *proc, evid Evidence, hashes string) {
	inc := e.matchChild(h, p)
	if inc == nil || (shellHosts[exeName(p.image)] && normPath(inc.imagePath) != normPath(p.cmdline)) {
		return
	}
	e.serviceChild(h, p, evid, hashes, "parent not recorded; joined by binary")
}

// sha256Of reads SHA256=… from Sysmon's Hashes field.
func sha256Of(hashes string) string {
	for _, part := range strings.Split(hashes, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(k, "SHA256") {
			return strings.ToLower(v)
		}
	}
	return ""
}

// onNetwork raises service_network for connections of a service's tree.
func (e *Engine) onNetwork(h *hostState, ev *telemetry.Event, evid Evidence) {
	nc, ok := ev.NetworkConnect()
	if !ok {
		return
	}
	p := h.procs[nc.ProcessGUID]
	if p == nil || p.inc == nil || p.inc.closed {
		return
	}
	dir := "connected to"
	if !nc.Initiated {
		dir = "accepted a connection from"
	}
	peer := nc.DestIP + ":" + strconv.Itoa(int(nc.DestPort))
	if !nc.Initiated {
		peer = nc.SourceIP
	}
	e.note(p.inc, evid, ServiceNetwork, fmt.Sprintf("service process %s %s %s",
		baseName(nc.ImageKey), dir, peer))
}

// onFile notes PsExec-family binaries being written (PSEXESVC.exe dropped
// into ADMIN$ shows as Sysmon 11 by System).
func (e *Engine) onFile(h *hostState, ev *telemetry.Event, evid Evidence) {
	fc, ok := ev.FileCreate()
	if !ok {
		return
	}
	key := canonImage(`"` + fc.TargetFilename + `"`)
	if !strings.HasSuffix(key, ".exe") || !psexecFamily("", key) {
		return
	}
	name := strings.ToUpper(strings.TrimSuffix(baseName(key), ".exe"))
	inc := e.lookup(h, evid.Time, name, "", "")
	if inc == nil {
		inc = e.openIncident(h, evid.Time)
		h.setNames(inc, name, "")
	}
	if inc.imagePath == "" {
		h.setImage(inc, fc.TargetFilename)
		inc.imageGuess = true
	}
	by := baseName(fc.ImageKey)
	if strings.EqualFold(fc.Image, "System") {
		by = "System (written over SMB)"
	}
	e.note(inc, evid, PsexecFamily, "PsExec-family binary "+baseName(key)+" written by "+by)
}

// onPipe raises psexec_family from PsExec, RemCom, PAExec and CSExec pipes,
// renamed ones included (<name>-<host>-<pid>-stdin).
func (e *Engine) onPipe(h *hostState, ev *telemetry.Event, evid Evidence) {
	pe, ok := ev.PipeEvent()
	if !ok {
		return
	}
	svc, client, ok := pipeService(pe.PipeName)
	if !ok {
		return
	}
	inc := e.lookup(h, evid.Time, svc, "", "")
	if inc == nil {
		inc = e.openIncident(h, evid.Time)
		h.setNames(inc, svc, "")
	}
	e.note(inc, evid, PsexecFamily, "PsExec-style pipe "+quote(pe.PipeName))
	e.setSource(h, inc, client, "")
	if pe.EventType == telemetry.PipeCreate && pe.ImageKey != "" && inc.imagePath == "" &&
		!strings.HasPrefix(baseName(pe.ImageKey), "psexec") {
		// The service process creates its pipes; its binary is the service's.
		h.setImage(inc, pe.Image)
		inc.imageGuess = true
		e.classify(h, inc, evid, pe.Image, "")
	}
	if pe.EventType == telemetry.PipeCreate {
		e.applyStart(inc, evid.Time, evid, "pipe created")
	}
}
