package correlate

import (
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// eventKind is what the engine does with an event.
type eventKind uint8

const (
	kindNone      eventKind = iota
	kindProcess             // Sysmon 1, Security 4688
	kindNetwork             // Sysmon 3
	kindFile                // Sysmon 11
	kindRegistry            // Sysmon 12, 13, 14; Security 4657
	kindPipe                // Sysmon 17, 18
	kindInstall             // System 7045, Security 4697
	kindState               // System 7036
	kindStartType           // System 7040
	kindStartFail           // System 7000, 7009
	kindLogon               // Security 4624
	kindShare               // Security 5145
	kindImageLoad           // Sysmon 7, for the signer of a service binary
)

// kindOf classifies an event by channel and ID alone.
func kindOf(ev *telemetry.Event) eventKind {
	switch ev.Channel {
	case telemetry.ChannelSysmon:
		switch ev.EventID {
		case 1:
			return kindProcess
		case 3:
			return kindNetwork
		case 7:
			return kindImageLoad
		case 11:
			return kindFile
		case 12, 13, 14:
			return kindRegistry
		case 17, 18:
			return kindPipe
		}
	case telemetry.ChannelSecurity:
		switch ev.EventID {
		case 4688:
			return kindProcess
		case 4697:
			return kindInstall
		case 4624:
			return kindLogon
		case 4657:
			return kindRegistry
		case 5145:
			return kindShare
		}
	case telemetry.ChannelSystem:
		switch ev.EventID {
		case 7045:
			return kindInstall
		case 7036:
			return kindState
		case 7040:
			return kindStartType
		case 7000, 7009:
			return kindStartFail
		}
	}
	return kindNone
}

// wants is the cheap test, on raw fields and without allocating, that keeps
// the common events (every process start, every registry write) from the
// full views.
func (e *Engine) wants(h *hostState, ev *telemetry.Event, kind eventKind) bool {
	switch kind {
	case kindProcess:
		return e.wantsProcess(h, ev)
	case kindNetwork:
		e.learnOwnAddress(h, ev)
		return h.tracked(ev)
	case kindFile:
		return psexecMention(ev.Value("TargetFilename"))
	case kindRegistry:
		return wantsRegistry(ev)
	case kindPipe:
		p := ev.Value("PipeName")
		return containsFold(p, "-std") || psexecMention(p)
	case kindLogon:
		return ev.Value("LogonType") == "3"
	case kindShare:
		return len(h.open) > 0 || strings.EqualFold(ev.Value("RelativeTargetName"), "svcctl")
	case kindStartType:
		return len(h.open) > 0
	case kindImageLoad:
		return len(h.byBinary) > 0 && len(h.byBinary[e.canon(ev.Value("ImageLoaded"))]) > 0
	}
	return true
}

// wantsRegistry keeps Services-key writes of the values AN1185 reads
// (ImagePath, ServiceDll, Start, DeleteFlag), service key deletions, and the
// svchost group list; a service's other values are written by the thousand.
func wantsRegistry(ev *telemetry.Event) bool {
	var target, typ string
	for _, f := range ev.Fields {
		switch f.Name {
		case "TargetObject", "ObjectName":
			target = f.Value
		case "EventType":
			typ = f.Value
		case "ObjectValueName":
			target += `\` + f.Value
		}
	}
	if containsFold(target, `\svchost`) {
		return true
	}
	if !containsFold(target, `\services\`) {
		return false
	}
	if typ == telemetry.RegDeleteKey || (ev.EventID == 12 && typ != telemetry.RegCreateKey) {
		return true
	}
	for _, v := range []string{`\imagepath`, `\servicedll`, `\start`, `\deleteflag`} {
		if hasSuffixFold(target, v) {
			return true
		}
	}
	return false
}

func psexecMention(s string) bool {
	return containsFold(s, "psexe") || containsFold(s, "remcom") ||
		containsFold(s, "paexec") || containsFold(s, "csexec")
}

func (e *Engine) wantsProcess(h *hostState, ev *telemetry.Event) bool {
	var image, parent, parentRef string
	for _, f := range ev.Fields {
		switch f.Name {
		case "Image", "NewProcessName":
			image = f.Value
		case "ParentImage", "ParentProcessName":
			parent = f.Value
		case "ParentProcessGuid":
			parentRef = f.Value
		case "ProcessId":
			if ev.EventID == 4688 {
				parentRef = f.Value
			}
		}
	}
	if hasSuffixFold(parent, `\services.exe`) || interestingImage(image) {
		return true
	}
	if ev.EventID == 4688 {
		if parent == "" {
			return len(h.open) > 0 // v0/v1: the parent is known only by PID
		}
		n, _ := telemetry.ParseNumber(parentRef)
		return h.byPID[n] != nil
	}
	return h.procs[telemetry.CanonicalGUID(parentRef)] != nil
}

// interestingImage reports whether a process is services.exe, a tool whose
// command lines manage services, or a PsExec-family binary, by file name and
// without allocating.
func interestingImage(image string) bool {
	base := image[strings.LastIndexByte(image, '\\')+1:]
	for _, n := range []string{"sc.exe", "net.exe", "net1.exe", "reg.exe", "pwsh.exe",
		"services.exe", "powershell.exe"} {
		if strings.EqualFold(base, n) {
			return true
		}
	}
	return psexecMention(base)
}

// tracked reports whether a Sysmon event's process is one the engine follows.
func (h *hostState) tracked(ev *telemetry.Event) bool {
	if len(h.procs) == 0 {
		return false
	}
	return h.procs[telemetry.CanonicalGUID(ev.Value("ProcessGuid"))] != nil
}

// dispatch hands a wanted event to its handler.
func (e *Engine) dispatch(h *hostState, ev *telemetry.Event, kind eventKind, t time.Time) {
	evid := Evidence{Host: ev.Host, Channel: ev.Channel, EventID: ev.EventID,
		RecordID: ev.RecordID, Time: t}
	switch kind {
	case kindProcess:
		e.onProcess(h, ev, evid)
	case kindNetwork:
		e.onNetwork(h, ev, evid)
	case kindFile:
		e.onFile(h, ev, evid)
	case kindRegistry:
		e.onRegistry(h, ev, evid)
	case kindPipe:
		e.onPipe(h, ev, evid)
	case kindInstall:
		e.onInstall(h, ev, evid)
	case kindState:
		e.onState(h, ev, evid)
	case kindStartType:
		e.onStartType(h, ev, evid)
	case kindStartFail:
		e.onStartFail(h, ev, evid)
	case kindLogon:
		e.onLogon(h, ev, evid)
	case kindShare:
		e.onShare(h, ev, evid)
	case kindImageLoad:
		e.onImageLoad(h, ev, evid)
	}
}
