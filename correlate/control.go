package correlate

import (
	"fmt"

	"github.com/svcharness/svcharness/telemetry"
)

// serviceCommand applies a sc.exe, net.exe, reg.exe or PowerShell command
// line to the service it names, on this host or, for sc.exe \\host, on the
// remote one.
func (e *Engine) serviceCommand(h *hostState, p *proc, evid Evidence, cmd serviceCommand,
	user string) {
	if cmd.verb == "svchost-group" {
		e.newSvchostGroup(h, cmd.group, evid, p.image)
		return
	}
	target := h
	if cmd.host != "" && telemetry.CanonicalHost(cmd.host) != h.key {
		target = e.remoteHost(cmd.host, evid)
	}
	t := evid.Time
	var inc *incident
	switch {
	case cmd.verb == "create":
		inc = e.registered(target, cmd.service, "", "", registration{t: t, path: cmd.binPath,
			remote: target != h})
	default:
		inc = e.lookup(target, t, cmd.service, "", "")
	}
	if inc == nil {
		if !cmd.control() {
			return // stop or delete of a service we are not following
		}
		inc = e.openIncident(target, t)
	}
	target.setNames(inc, cmd.service, cmd.display)
	inc.creator = firstOf(inc.creator, p.image)
	inc.user = firstOf(inc.user, user)
	e.remember(h, p)
	if target != h {
		e.setSource(target, inc, h.name, "")
		e.note(inc, evid, noSignal, "command issued from "+h.name+" against \\\\"+cmd.host)
	}
	e.applyCommand(target, inc, evid, cmd)
}

// remoteHost returns the state of a host named by sc.exe \\host, whose clock
// starts at the issuing event's.
func (e *Engine) remoteHost(name string, evid Evidence) *hostState {
	key := telemetry.CanonicalHost(name)
	h := e.hosts[key]
	if h == nil {
		if len(e.hosts) >= e.opts.MaxHosts {
			e.evictHost()
		}
		h = newHostState(key, name)
		e.hosts[key] = h
	}
	if evid.Time.After(h.watermark) {
		h.watermark = evid.Time
	}
	return h
}

// applyCommand raises the command's signals.
func (e *Engine) applyCommand(h *hostState, inc *incident, evid Evidence, cmd serviceCommand) {
	what := fmt.Sprintf("%s %s %s", cmd.tool, cmd.verb, quote(cmd.service))
	t := evid.Time
	switch cmd.verb {
	case "create":
		if inc.installed.IsZero() {
			inc.installed = t
		}
		if inc.createdCmd.IsZero() {
			inc.createdCmd = t
		}
		inc.commandKinds.add(ServiceInstalled)
		e.note(inc, evid, ServiceControlCommand, what)
		e.commandImage(h, inc, evid, cmd, false)
	case "config", "write", "failure":
		inc.commandKinds.add(ServiceInstalled)
		e.note(inc, evid, ServiceControlCommand, what+valueSuffix(cmd))
		if cmd.binPath != "" {
			e.commandImage(h, inc, evid, cmd, true)
		}
	case "start":
		inc.commandKinds.add(RapidExecution)
		e.note(inc, evid, ServiceControlCommand, what)
		e.applyStart(inc, t, evid, "start requested")
	case "stop", "delete":
		if cmd.verb == "delete" && telemetry.CanonicalHost(evid.Host) == h.key {
			inc.markDeleted(t) // not from sc.exe \\host: another host's clock
		}
		e.applyStop(inc, t, evid)
	}
}

func valueSuffix(cmd serviceCommand) string {
	if cmd.value == "" {
		return ""
	}
	return " value " + cmd.value
}

// commandImage records a binary given on a command line (binPath=, reg add
// /d, failure command=) and classifies it; change marks a new binary for a
// service that already existed.
func (e *Engine) commandImage(h *hostState, inc *incident, evid Evidence, cmd serviceCommand,
	change bool) {
	if change {
		inc.changed = evid.Time
		e.note(inc, evid, ImagePathChanged, fmt.Sprintf("%s %s set the binary of %s",
			cmd.tool, cmd.verb, quote(cmd.service)))
		inc.imagePath, inc.imageKey = "", ""
	}
	h.setImage(inc, cmd.binPath)
	e.classify(h, inc, evid, cmd.binPath, cmd.service)
}

// newSvchostGroup records a svchost group defined on the host and flags the
// services already being followed that run in it.
func (e *Engine) newSvchostGroup(h *hostState, group string, evid Evidence, by string) {
	if group == "" || len(h.groups) >= 1024 {
		return
	}
	h.groups[group] = true
	for _, inc := range h.open {
		if g, ok := svchostGroup(inc.imageKey, argsOf(inc.imagePath)); ok && g == group {
			e.note(inc, evid, NonstandardBinary, "svchost -k "+group+
				" is a service group defined just now by "+baseName(by))
		}
	}
}

func argsOf(path string) string {
	_, args := splitImage(path)
	return args
}
