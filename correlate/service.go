package correlate

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// onInstall handles System 7045 and Security 4697.
func (e *Engine) onInstall(h *hostState, ev *telemetry.Event, evid Evidence) {
	si, ok := ev.ServiceInstall()
	if !ok || (si.ServiceName == "" && si.ImagePath == "") {
		return
	}
	t := evid.Time
	key, display := "", si.ServiceName
	if ev.EventID == 4697 {
		key, display = si.ServiceName, ""
	}
	reg := registration{t: t, eventID: ev.EventID, path: si.ImagePath}
	if ev.EventID == 4697 {
		reg.logonID = si.SubjectLogonID
	}
	inc := e.registered(h, key, display, si.ImagePath, reg)
	recordInstall(inc, reg)
	h.setNames(inc, key, display)
	h.setImage(inc, si.ImagePath)
	if inc.installed.IsZero() || t.Before(inc.installed) {
		inc.installed = t
	}
	inc.driver = inc.driver || isDriver(si.ServiceType, "", si.ImageKey)
	if inc.user == "" {
		inc.user = firstOf(si.SubjectUser, si.SubjectUserSID)
	}
	e.note(inc, evid, ServiceInstalled, "service "+quote(si.ServiceName)+" installed ("+
		installSource(ev.EventID)+")")
	e.classify(h, inc, evid, si.ImagePath, si.ServiceName)
	e.installOrigin(h, inc, ev, si)
	e.scmClient(h, inc, t)
	e.joinLater(h, inc)
	e.trackBurst(h, inc, evid, burstOrigin(inc, si))
}

func installSource(id uint32) string {
	if id == 4697 {
		return "Security 4697"
	}
	return "System 7045"
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// quote shortens and quotes a name for a reason.
func quote(s string) string {
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return strconv.Quote(s)
}

// installOrigin joins the install to its network logon (4697's
// SubjectLogonId) and its creating process (4697 v1's ClientProcessId).
func (e *Engine) installOrigin(h *hostState, inc *incident, ev *telemetry.Event,
	si telemetry.ServiceInstall) {
	if si.ClientProcessID != 0 && inc.creator == "" {
		if p := h.byPID[si.ClientProcessID]; p != nil {
			inc.creator = p.image
		}
	}
	switch si.SubjectLogonID {
	case 0, 0x3e7, 0x3e4, 0x3e5:
		return // no logon, or SYSTEM, NETWORK SERVICE, LOCAL SERVICE: never remote
	}
	if ev.EventID != 4697 {
		return
	}
	if l, ok := h.logons[si.SubjectLogonID]; ok {
		e.remote(h, inc, l)
		return
	}
	if w := h.awaiting[si.SubjectLogonID]; len(w) < 64 && len(h.awaiting) < defaultMaxPendingPerHost {
		h.awaiting[si.SubjectLogonID] = append(w, inc)
	} else {
		e.stats.Evicted.Pending++
	}
}

// svcctlWindow is how long before an install a remote opening of the SCM
// pipe is taken as its client: CreateService follows within milliseconds.
const svcctlWindow = 5 * time.Second

// scmClient attributes an install to the remote client that opened the SCM
// pipe just before it (Security 5145 svcctl), which names its address even
// when no 4697 or 4624 was recorded.
func (e *Engine) scmClient(h *hostState, inc *incident, t time.Time) {
	s := h.svcctl
	if s.ip == "" || !after(s.at, t, svcctlWindow) || t.Before(s.at) {
		return
	}
	e.setSource(h, inc, "", s.ip)
	e.note(inc, s.ev, noSignal, "SCM pipe svcctl opened from "+s.ip+" by "+
		firstOf(s.user, "an unknown user")+" "+roundDur(t.Sub(s.at)).String()+" before the install")
}

// burstOrigin names who installed a service, for install bursts: the remote
// source host (or address) and the account. Not the logon: every remote
// sc.exe or SCM RPC session logs on anew, so one operator's burst spans many
// logons.
func burstOrigin(inc *incident, si telemetry.ServiceInstall) string {
	who := firstOf(si.SubjectUserSID, strings.ToLower(si.SubjectUser))
	r := inc.root()
	switch {
	case r.sourceHost != "":
		return "host " + telemetry.CanonicalHost(r.sourceHost) + ", account " + who
	case r.sourceIP != "":
		return "address " + r.sourceIP + ", account " + who
	}
	return "account " + who
}

// classify raises nonstandard_binary and psexec_family from a service's
// ImagePath and name.
func (e *Engine) classify(h *hostState, inc *incident, evid Evidence, path, name string) {
	for _, f := range e.nonstandardCached(h, path) {
		e.note(inc, evid, NonstandardBinary, string(f))
		inc.suspicious = true
		if strings.Contains(string(f), "one-liner") {
			// A shell one-liner as a service binary is the signature of
			// smbexec, Metasploit and Cobalt Strike, not of any installer.
			inc.root().oneLiner = true
		}
	}
	if randomLooking(name) && !inc.driver {
		e.note(inc, evid, NonstandardBinary, "random-looking service name "+quote(name))
		inc.suspicious = true
	}
	if key := canonImage(path); psexecFamily(name, key) {
		e.note(inc, evid, PsexecFamily, "PsExec-family service "+quote(firstOf(name, path)))
		inc.suspicious = true
	}
}

// joinLater applies what arrived before the install: a 7036 start or stop,
// services.exe children.
func (e *Engine) joinLater(h *hostState, inc *incident) {
	for _, n := range []string{inc.keyName, inc.displayName} {
		e.lbuf = appendLower(e.lbuf[:0], n)
		if st := h.states[string(e.lbuf)]; n != "" && st != nil {
			// Only what follows the install: a re-created name's earlier
			// session started and stopped before it.
			if e.ownState(inc, st.started) {
				e.applyStart(inc, st.started, st.startEv, "started")
			}
			if e.ownState(inc, st.stopped) {
				e.applyStop(inc, st.stopped, st.stopEv)
			}
		}
	}
	if h.nPending == 0 {
		return
	}
	for _, key := range h.pendingKeys(inc, &e.lbuf) {
		list := h.pending[key]
		keep := list[:0]
		for _, c := range list {
			if e.childOf(inc, c.p) {
				e.tieChild(h, inc, c.p, c.ev, "")
				h.nPending--
				continue
			}
			keep = append(keep, c)
		}
		if len(keep) == 0 {
			delete(h.pending, key)
		} else {
			h.pending[key] = keep
		}
	}
}

// ownState reports whether a start or stop recorded before the install
// arrived can be the installed service's own.
func (e *Engine) ownState(inc *incident, t time.Time) bool {
	return !t.IsZero() && (inc.installed.IsZero() || !t.Before(inc.installed.Add(-clockSkew)))
}

// pendingKeys lists the pending-children keys a service binary can match: the
// binary itself, or for a relative ImagePath every pending binary of that
// file name.
func (h *hostState) pendingKeys(inc *incident, buf *[]byte) []string {
	imageKey := inc.imageKey
	if imageKey == "" {
		return nil
	}
	if sharedHost(imageKey) {
		var keys []string
		*buf = append(append((*buf)[:0], "cmd:"...), inc.imageNorm...)
		if _, ok := h.pending[string(*buf)]; ok {
			keys = append(keys, string(*buf))
		}
		*buf = appendLower(append((*buf)[:0], "svc:"...), inc.keyName)
		if _, ok := h.pending[string(*buf)]; ok && inc.keyName != "" {
			keys = append(keys, string(*buf))
		}
		return keys
	}
	if strings.ContainsRune(imageKey, '\\') {
		return []string{imageKey}
	}
	var keys []string
	for k := range h.pending {
		if baseName(k) == imageKey {
			keys = append(keys, k)
		}
	}
	return keys
}

// applyStart records a start (7036 running, 7000/7009 start failure, a
// services.exe child) and raises rapid_execution when it follows the install
// or change within the window.
func (e *Engine) applyStart(inc *incident, t time.Time, evid Evidence, how string) {
	if t.IsZero() {
		return
	}
	if inc.started.IsZero() || t.Before(inc.started) {
		inc.started = t
	}
	anchor := firstTime(inc.installed, inc.changed)
	if after(anchor, t, e.pol.Window) {
		e.note(inc, evid, RapidExecution, fmt.Sprintf("%s %s after it was installed or changed",
			how, roundDur(t.Sub(anchor))))
		return
	}
	e.note(inc, evid, noSignal, "")
}

// applyStop raises transient_service for a stop or delete within the window
// of the start (or of the install when no start was seen).
func (e *Engine) applyStop(inc *incident, t time.Time, evid Evidence) {
	if t.IsZero() {
		return
	}
	anchor := firstTime(inc.started, inc.installed)
	if after(anchor, t, e.pol.Window) {
		e.note(inc, evid, TransientService, fmt.Sprintf("stopped or deleted %s after it started",
			roundDur(t.Sub(anchor))))
		return
	}
	e.note(inc, evid, noSignal, "")
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func roundDur(d time.Duration) time.Duration {
	if d < 0 {
		d = 0
	}
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// onState handles System 7036: a service entered the running or stopped
// state. The state text is English as Windows renders it.
//
// TODO(i18n): 7036 param2 is localized on non-English hosts; read the binary
// state from the event's raw data when decoders keep it.
func (e *Engine) onState(h *hostState, ev *telemetry.Event, evid Evidence) {
	sc, ok := ev.ServiceStateChange()
	if !ok || sc.DisplayName == "" {
		return
	}
	running, stopped := sc.State == "running", sc.State == "stopped"
	if !running && !stopped {
		return
	}
	st := e.state(h, sc.DisplayName)
	inc := e.lookup(h, evid.Time, "", sc.DisplayName, "")
	if running {
		st.started, st.startEv = evid.Time, evid
		if inc != nil {
			e.applyStart(inc, evid.Time, evid, "started")
		}
		return
	}
	st.stopped, st.stopEv = evid.Time, evid
	if inc != nil {
		e.applyStop(inc, evid.Time, evid)
	}
}

// state returns the start/stop record of a service name, creating it.
func (e *Engine) state(h *hostState, name string) *svcState {
	e.lbuf = appendLower(e.lbuf[:0], name)
	if st := h.states[string(e.lbuf)]; st != nil {
		return st
	}
	k := string(e.lbuf)
	if len(h.states) >= defaultMaxStatesPerHost {
		for old := range h.states {
			delete(h.states, old)
			e.stats.Evicted.Pending++
			break
		}
	}
	st := &svcState{}
	h.states[k] = st
	return st
}

// onStartFail handles System 7000 (failed to start, param1) and 7009 (start
// timed out, param2): a start was attempted.
func (e *Engine) onStartFail(h *hostState, ev *telemetry.Event, evid Evidence) {
	name := ev.Value("param1")
	if ev.EventID == 7009 {
		name = ev.Value("param2")
	}
	if name == "" {
		return
	}
	st := e.state(h, name)
	if st.started.IsZero() {
		st.started, st.startEv = evid.Time, evid
	}
	if inc := e.lookup(h, evid.Time, "", name, ""); inc != nil {
		e.applyStart(inc, evid.Time, evid, fmt.Sprintf("start attempted (%d)", ev.EventID))
	}
}

// onStartType handles System 7040 for services already being followed.
func (e *Engine) onStartType(h *hostState, ev *telemetry.Event, evid Evidence) {
	sc, ok := ev.ServiceStateChange()
	if !ok {
		return
	}
	if inc := e.lookup(h, evid.Time, sc.ServiceName, sc.DisplayName, ""); inc != nil {
		e.note(inc, evid, noSignal, fmt.Sprintf("start type changed from %s to %s",
			sc.OldStartType, sc.NewStartType))
	}
}

// onLogon remembers network logons (4624 type 3) for 4697's SubjectLogonId.
func (e *Engine) onLogon(h *hostState, ev *telemetry.Event, evid Evidence) {
	l, ok := ev.Logon()
	if !ok || l.LogonType != 3 || l.TargetLogonID == 0 {
		return
	}
	if len(h.logons) >= e.opts.MaxLogonsPerHost {
		for id := range h.logons {
			delete(h.logons, id)
			e.stats.Evicted.Logons++
			break
		}
	}
	lg := logon{at: evid.Time, ip: l.IPAddress, station: l.Workstation, user: l.TargetUser, ev: evid}
	e.learnName(&lg)
	h.logons[l.TargetLogonID] = lg
	for _, inc := range h.awaiting[l.TargetLogonID] {
		if !inc.closed {
			e.remote(h, inc, lg)
		}
	}
	delete(h.awaiting, l.TargetLogonID)
}

// maxIPNames bounds the address-to-name memo.
const maxIPNames = 65536

// learnName remembers the workstation name an NTLM logon gives an address,
// and names the address of a Kerberos logon, which carries none, from it.
// An address a host's own connections came from names it with authority:
// NTLM's WorkstationName is whatever the client says, so one that
// contradicts the address's host is replaced, with a reason.
func (e *Engine) learnName(l *logon) {
	switch {
	case l.ip == "":
	case l.station != "":
		if own := e.ownIPs[l.ip]; own != "" &&
			telemetry.CanonicalHost(own) != telemetry.CanonicalHost(l.station) {
			l.claimed, l.station = l.station, own
			return
		}
		if _, ok := e.ipNames[l.ip]; !ok && len(e.ipNames) < maxIPNames {
			e.ipNames[strings.Clone(l.ip)] = strings.Clone(l.station)
		}
	default:
		l.station = e.nameOf(l.ip)
	}
}

// nameOf returns the host name known for an address: from the host's own
// connections, else from an NTLM logon's workstation name, else "".
func (e *Engine) nameOf(ip string) string {
	if n := e.ownIPs[ip]; n != "" {
		return n
	}
	return e.ipNames[ip]
}

// ownAddressEvery is how often (in Sysmon 3 events per host) a host's own
// outbound connection is read for its address: a fleet's every host names
// its addresses within its first connections, at no cost to the rest.
const ownAddressEvery = 256

// learnOwnAddress names the source address of a host's outbound connection
// (Sysmon 3, Initiated) after the host. Kerberos network logons carry only
// the client's address; this is how an approval by host name still applies
// to them when no NTLM logon from that address was seen.
func (e *Engine) learnOwnAddress(h *hostState, ev *telemetry.Event) {
	h.netSeen++
	if h.netSeen%ownAddressEvery != 1 {
		return
	}
	var ip string
	initiated := false
	for _, f := range ev.Fields {
		switch f.Name {
		case "SourceIp":
			ip = f.Value
		case "Initiated":
			initiated = f.Value == "true"
		}
	}
	if !initiated || !routable(ip) || e.ownIPs[ip] == h.name {
		return
	}
	if _, ok := e.ownIPs[ip]; ok || len(e.ownIPs) < maxIPNames {
		e.ownIPs[strings.Clone(ip)] = h.name
	}
}

// routable reports whether an address can name one host: not empty,
// unspecified, loopback or link-local.
func routable(ip string) bool {
	switch {
	case ip == "", ip == "-", ip == "0.0.0.0", ip == "::", ip == "::1":
		return false
	case strings.HasPrefix(ip, "127."), strings.HasPrefix(ip, "169.254."),
		strings.HasPrefix(strings.ToLower(ip), "fe80:"):
		return false
	}
	return true
}

// remote raises remote_origin from a network logon.
func (e *Engine) remote(h *hostState, inc *incident, l logon) {
	e.addOrigin(h, inc, l.station, l.ip)
	from := firstOf(l.station, l.ip, "an unknown host")
	if l.ip != "" && l.station != "" {
		from = l.station + " (" + l.ip + ")"
	}
	if l.claimed != "" {
		from += ", whose NTLM logon claimed to be " + l.claimed
	}
	e.note(inc, l.ev, RemoteOrigin, fmt.Sprintf("installed over a network logon of %s from %s",
		firstOf(l.user, "an unknown user"), from))
}

// onShare attaches Security 5145 to services already being followed: their
// PsExec-style pipes and their binaries written through a share. 5145 alone
// opens nothing (see docs: GAP).
func (e *Engine) onShare(h *hostState, ev *telemetry.Event, evid Evidence) {
	sa, ok := ev.ShareAccess()
	if !ok || sa.RelativeTargetName == "" {
		return
	}
	if strings.EqualFold(sa.RelativeTargetName, "svcctl") {
		h.svcctl = shareOpen{at: evid.Time, ip: strings.Clone(sa.IPAddress),
			user: strings.Clone(sa.SubjectUser), ev: evid}
		return
	}
	if svc, client, ok := pipeService(sa.RelativeTargetName); ok {
		if inc := e.bySource(h, evid.Time, svc, client); inc != nil {
			e.note(inc, evid, PsexecFamily, "PsExec-style pipe "+quote(sa.RelativeTargetName)+
				" opened over "+sa.ShareName)
			e.setSource(h, inc, client, sa.IPAddress)
		}
		return
	}
	file := strings.ToLower(baseName(strings.ReplaceAll(sa.RelativeTargetName, "/", `\`)))
	for _, inc := range h.byBinary[file] {
		// A copy from another source belongs to that source's next session.
		if !inc.closed && !inc.root().clashes(origin{ip: sa.IPAddress}) {
			e.note(inc, evid, noSignal, "binary written through share "+sa.ShareName)
			e.setSource(h, inc, "", sa.IPAddress)
		}
	}
}

// setSource records a remote client host or address seen in pipe names or
// share access, ignoring the host itself.
func (e *Engine) setSource(h *hostState, inc *incident, host, ip string) {
	e.addOrigin(h, inc, host, ip)
}

// trackBurst counts a suspicious install towards its origin's burst and
// merges the burst's installs into one incident once BurstCount is reached.
func (e *Engine) trackBurst(h *hostState, inc *incident, evid Evidence, origin string) {
	if !inc.suspicious || inc.inBurst || inc.driver || inc.isBurst || e.disabled.has(InstallBurst) {
		return
	}
	inc.inBurst = true
	bt := h.bursts[origin]
	if bt == nil {
		bt = &burstTracker{}
		h.bursts[origin] = bt
	}
	bt.prune(evid.Time.Add(-e.pol.BurstWindow))
	bt.members = append(bt.members, inc)
	bt.times = append(bt.times, evid.Time)
	if bt.burst != nil && !bt.burst.closed {
		e.merge(bt.burst, inc)
		return
	}
	if len(bt.members) < e.pol.BurstCount {
		return
	}
	b := e.openIncident(h, evid.Time)
	b.isBurst, bt.burst = true, b
	for _, m := range bt.members {
		e.merge(b, m)
	}
	e.note(b, evid, InstallBurst, fmt.Sprintf("%d or more suspicious installs from one origin (%s) "+
		"within %s", e.pol.BurstCount, origin, e.pol.BurstWindow))
}

// prune drops members older than since, unless a burst already holds them.
func (bt *burstTracker) prune(since time.Time) {
	i := 0
	for i < len(bt.times) && bt.times[i].Before(since) {
		i++
	}
	bt.members, bt.times = bt.members[i:], bt.times[i:]
	if len(bt.members) > 4096 {
		bt.members, bt.times = bt.members[len(bt.members)-4096:], bt.times[len(bt.times)-4096:]
	}
}
