package correlate

import (
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// onRegistry handles Sysmon 12/13/14 and Security 4657 under a Services key
// (and the svchost group list).
func (e *Engine) onRegistry(h *hostState, ev *telemetry.Event, evid Evidence) {
	r, ok := ev.RegistryEvent()
	if !ok {
		return
	}
	if r.Service == "" {
		e.svchostRegistry(h, r, evid)
		return
	}
	scm := exeName(r.ImageKey) == "services.exe"
	switch {
	case r.EventType == telemetry.RegDeleteKey && r.ValueName == "":
		e.serviceDeleted(h, r.Service, evid)
	case r.EventType != telemetry.RegSetValue:
	case strings.EqualFold(r.ValueName, "DeleteFlag") && strings.Contains(r.Details, "1"):
		e.serviceDeleted(h, r.Service, evid)
	case isImageValue(r.ValueName):
		e.imageWritten(h, r, evid, scm)
	case strings.EqualFold(r.ValueName, "Start"):
		e.startWritten(h, r, evid, scm)
	}
}

func (e *Engine) serviceDeleted(h *hostState, service string, evid Evidence) {
	if inc := e.lookup(h, evid.Time, service, "", ""); inc != nil {
		inc.markDeleted(evid.Time)
		e.applyStop(inc, evid.Time, evid)
	}
}

// markDeleted records the service's deletion: a later creation of its name
// is another incident.
func (inc *incident) markDeleted(t time.Time) {
	if inc.deletedAt.IsZero() || t.Before(inc.deletedAt) {
		inc.deletedAt = t
	}
}

// imageWritten handles ImagePath and ServiceDll values. services.exe writing
// them is the SCM registering or reconfiguring a service; any other writer
// bypasses the SCM (service_key_written). A second, different ImagePath is a
// change (image_path_changed).
func (e *Engine) imageWritten(h *hostState, r telemetry.RegistryEvent, evid Evidence, scm bool) {
	inc := e.lookup(h, evid.Time, r.Service, "", "")
	if inc == nil || (!inc.deletedAt.IsZero() && evid.Time.After(inc.deletedAt)) {
		prev := inc
		inc = e.openIncident(h, evid.Time)
		inc.prevSame = prev
	}
	h.setNames(inc, r.Service, "")
	value := strings.ReplaceAll(r.Details, "%%", "%")
	dll := !strings.EqualFold(r.ValueName, "ImagePath")
	switch {
	case dll:
		e.note(inc, evid, noSignal, "ServiceDll set to "+quote(value))
		for _, f := range nonstandard(`"`+value+`"`, nil) {
			e.note(inc, evid, NonstandardBinary, "ServiceDll: "+string(f))
		}
	case inc.imagePath != "" && !inc.imageGuess && !samePath(inc.imagePath, value):
		inc.changed = evid.Time
		e.note(inc, evid, ImagePathChanged, "ImagePath changed from "+quote(inc.imagePath)+
			" to "+quote(value))
		inc.imagePath, inc.imageKey = "", ""
		h.setImage(inc, value)
		e.classify(h, inc, evid, value, r.Service)
	default:
		if inc.imagePath == "" || inc.imageGuess {
			h.setImage(inc, value)
			e.classify(h, inc, evid, value, r.Service)
		}
		if inc.installed.IsZero() {
			inc.installed = evid.Time
		}
		inc.driver = inc.driver || isDriver(0, "", canonImage(value))
		if scm && !inc.signals.has(ServiceInstalled) {
			// The SCM writes a new service's ImagePath in CreateService: the
			// install as Sysmon 13 records it, with or without 7045/4697.
			e.note(inc, evid, ServiceInstalled, "services.exe registered "+quote(r.Service)+
				" (Sysmon 13 ImagePath)")
		} else {
			e.note(inc, evid, noSignal, "")
		}
	}
	if !scm {
		inc.creator = firstOf(inc.creator, r.ImageKey)
		e.note(inc, evid, ServiceKeyWritten, r.ValueName+" written directly by "+
			baseName(firstOf(r.ImageKey, "an unknown process"))+", not by services.exe")
	}
}

// startWritten handles the Start value: written by anything but services.exe
// it is service_key_written; by services.exe it is evidence for a service
// already followed.
func (e *Engine) startWritten(h *hostState, r telemetry.RegistryEvent, evid Evidence, scm bool) {
	inc := e.lookup(h, evid.Time, r.Service, "", "")
	if scm {
		if inc != nil {
			e.note(inc, evid, noSignal, "")
		}
		return
	}
	if inc == nil {
		inc = e.openIncident(h, evid.Time)
		h.setNames(inc, r.Service, "")
	}
	inc.creator = firstOf(inc.creator, r.ImageKey)
	e.note(inc, evid, ServiceKeyWritten, "Start written directly by "+
		baseName(firstOf(r.ImageKey, "an unknown process"))+", not by services.exe")
}

// svchostRegistry notices a new group under ...\Windows NT\CurrentVersion\
// Svchost written by anything but Windows servicing.
func (e *Engine) svchostRegistry(h *hostState, r telemetry.RegistryEvent, evid Evidence) {
	if r.EventType != telemetry.RegSetValue {
		return
	}
	const prefix = `hklm\software\microsoft\windows nt\currentversion\svchost\`
	if !strings.HasPrefix(r.Key, prefix) {
		return
	}
	switch exeName(r.ImageKey) {
	case "trustedinstaller.exe", "tiworker.exe", "msiexec.exe", "services.exe":
		return
	}
	group := strings.SplitN(strings.TrimPrefix(r.Key, prefix), `\`, 2)[0]
	e.newSvchostGroup(h, group, evid, r.ImageKey)
}
