package correlate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// onProcess handles Sysmon 1 and Security 4688: services.exe children, their
// descendants, and service-control command lines.
func (e *Engine) onProcess(h *hostState, ev *telemetry.Event, evid Evidence) {
	pc, ok := e.processCreate(ev)
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

// processCreate reads the process view. Sysmon 1, half of what the engine
// sees, is read here in one pass with memoised canonical images (a fleet
// starts the same few hundred binaries); 4688 goes through the view. Both use
// the telemetry normalization, so keys are the same either way.
func (e *Engine) processCreate(ev *telemetry.Event) (telemetry.ProcessCreate, bool) {
	if ev.EventID != 1 {
		return ev.ProcessCreate()
	}
	var p telemetry.ProcessCreate
	for _, f := range ev.Fields {
		switch f.Name {
		case "ProcessGuid":
			p.ProcessGUID = telemetry.CanonicalGUID(f.Value)
		case "ProcessId":
			p.PID, _ = telemetry.ParseNumber(f.Value)
		case "Image":
			p.Image = f.Value
		case "CommandLine":
			p.CommandLine = f.Value
		case "ParentProcessGuid":
			p.ParentGUID = telemetry.CanonicalGUID(f.Value)
		case "ParentProcessId":
			p.ParentPID, _ = telemetry.ParseNumber(f.Value)
		case "ParentImage":
			p.ParentImage = f.Value
		case "User":
			p.User = f.Value
		case "Hashes":
			p.Hashes = f.Value
		}
	}
	p.ImageKey = e.canon(p.Image)
	if p.ParentKnown = telemetry.KnownImage(p.ParentImage); p.ParentKnown {
		p.ParentImageKey = e.canon(p.ParentImage)
	} else {
		p.ParentImage = ""
	}
	return p, true
}

// canonCacheSize bounds the memo of canonical images.
const canonCacheSize = 16384

// canon is telemetry.CanonicalImage, memoised by the recorded string.
func (e *Engine) canon(image string) string {
	if k, ok := e.canonical[image]; ok {
		return k
	}
	if len(e.canonical) >= canonCacheSize {
		clear(e.canonical)
	}
	k := canonImage(image)
	e.canonical[strings.Clone(image)] = k
	return k
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
	p.keep()
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
	sha := sha256Of(hashes)
	if inc := e.matchChild(h, p); inc != nil {
		e.tieChild(h, inc, p, evid, how)
		e.observeHash(inc, evid, p.image, sha)
		return
	}
	e.addPending(h, p, evid)
	findings := e.nonstandardCached(h, p.cmdline)
	unpinned := e.pol.unpinnedHash(p.image, sha)
	if !psexecFamily("", p.image) && len(findings) == 0 && !unpinned {
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
	p.inc, inc.started = inc, evid.Time
	e.note(inc, evid, noSignal, "services.exe started "+baseName(p.image)+
		" with no install or change of its service in the window")
	e.classify(h, inc, evid, firstOf(p.cmdline, p.image), "")
	if unpinned {
		// The binary changed on disk (no SCM event records that), so its run
		// is a child of a changed service, however long ago it was installed.
		e.note(inc, evid, ServicesChild, "services.exe started "+baseName(p.image)+
			", a binary replaced since the allowlist pinned it")
	}
	e.observeHash(inc, evid, p.image, sha)
}

// maxHashes bounds the binary hashes an incident remembers.
const maxHashes = 8

// observeHash records the SHA-256 of a binary the service ran. A hash other
// than the one the allowlist pins for that path, or other than the one an
// earlier start of the same service ran, is a replaced binary (Caldera's
// 52771610 copies another program over a service's binary):
// nonstandard_binary.
func (e *Engine) observeHash(inc *incident, evid Evidence, image, sha string) {
	if sha == "" || slices.Contains(inc.hashes, sha) {
		return
	}
	if len(inc.hashes) < maxHashes {
		inc.hashes = append(inc.hashes, strings.Clone(sha))
	}
	switch {
	case e.pol.unpinnedHash(image, sha):
		e.note(inc, evid, NonstandardBinary, "services.exe ran "+baseName(image)+
			" with SHA-256 "+sha+", not the one the allowlist pins for its path")
	case len(inc.hashes) > 1:
		e.note(inc, evid, NonstandardBinary, "binary replaced: services.exe ran "+
			baseName(image)+" with SHA-256 "+sha+" after "+inc.hashes[0])
	}
}

// matchChild finds the open service whose binary the child runs and whose
// install or change precedes it within the window. An exact command-line
// match (cmd.exe one-liners) beats a binary match; the newest anchor wins.
func (e *Engine) matchChild(h *hostState, p *proc) *incident {
	var best *incident
	bestExact := false
	var cands []*incident
	norm := ""
	if sharedHost(p.image) {
		// A shared svchost runs many services: its binary proves nothing, its
		// exact command line or its -s service name does.
		norm = normPath(p.cmdline)
		cands = h.sharedCandidates(norm)
	} else {
		cands = h.candidates(p.image)
		if len(cands) > 0 {
			norm = normPath(p.cmdline)
		}
	}
	for _, inc := range cands {
		if inc.closed || !e.childOf(inc, p) {
			continue
		}
		exact := inc.imageNorm == norm
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

// sharedHost reports whether an image hosts many services (svchost.exe).
func sharedHost(image string) bool {
	return hasSuffixFold(image, `\svchost.exe`)
}

// svchostService returns the service an svchost command line names with -s
// (Windows 10 and later start one service per svchost this way), lower case.
func svchostService(norm string) string {
	i := strings.Index(norm, " -s ")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(norm[i+4:])
}

// sharedCandidates returns the open incidents an svchost child may belong
// to: the same full ImagePath, or the service its -s names.
func (h *hostState) sharedCandidates(norm string) []*incident {
	var out []*incident
	if inc := h.byImage[norm]; inc != nil {
		out = append(out, inc)
	}
	if s := svchostService(norm); s != "" {
		if inc := h.byName[s]; inc != nil && (len(out) == 0 || out[0] != inc) {
			out = append(out, inc)
		}
	}
	return out
}

// pendingKey files an unexplained services.exe child: by binary, or for a
// shared svchost by its -s service or full command line.
func pendingKey(p *proc) string {
	if !sharedHost(p.image) {
		return p.image
	}
	norm := normPath(p.cmdline)
	if s := svchostService(norm); s != "" {
		return "svc:" + s
	}
	return "cmd:" + norm
}

// candidates returns the open incidents whose binary a process image may be:
// the same canonical path, or a relative ImagePath naming its file.
func (h *hostState) candidates(image string) []*incident {
	exact := h.byBinary[image]
	base := baseName(image)
	if base == image {
		return exact
	}
	var out []*incident
	for _, inc := range h.byBinary[base] {
		if inc.imageKey == base { // a relative ImagePath
			if out == nil {
				out = append(out, exact...)
			}
			out = append(out, inc)
		}
	}
	if out == nil {
		return exact
	}
	return out
}

// addPending keeps a services.exe child that no service explains yet, by
// binary, so that a late install finds it without a scan.
func (e *Engine) addPending(h *hostState, p *proc, evid Evidence) {
	if h.nPending >= defaultMaxPendingPerHost {
		e.stats.Evicted.Pending++
		return
	}
	h.nPending++
	k := pendingKey(p)
	h.pending[k] = append(h.pending[k], pendingChild{p: p, ev: evid})
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
	if inc == nil || (shellHosts[exeName(p.image)] && inc.imageNorm != normPath(p.cmdline)) {
		return
	}
	e.serviceChild(h, p, evid, hashes, "parent not recorded; joined by binary")
}

// keep copies the strings a retained process holds, so that it does not pin
// the decoder's buffers.
func (p *proc) keep() {
	if !p.kept {
		p.kept = true
		p.key, p.image, p.cmdline = strings.Clone(p.key), strings.Clone(p.image), strings.Clone(p.cmdline)
	}
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

// onImageLoad records the Authenticode signer of a service binary when
// Sysmon 7 reports it loaded with a valid signature, for allowlist entries
// pinned to a signer.
func (e *Engine) onImageLoad(h *hostState, ev *telemetry.Event, evid Evidence) {
	var loaded, signed, status, signature string
	for _, f := range ev.Fields {
		switch f.Name {
		case "ImageLoaded":
			loaded = f.Value
		case "Signed":
			signed = f.Value
		case "SignatureStatus":
			status = f.Value
		case "Signature":
			signature = f.Value
		}
	}
	if !strings.EqualFold(signed, "true") || !strings.EqualFold(status, "Valid") || signature == "" {
		return
	}
	for _, inc := range h.byBinary[e.canon(loaded)] {
		if !inc.closed && inc.signer == "" {
			inc.signer = strings.Clone(signature)
			e.note(inc, evid, noSignal, "binary signed by "+quote(signature))
		}
	}
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
	inc := e.bySource(h, evid.Time, svc, client)
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
