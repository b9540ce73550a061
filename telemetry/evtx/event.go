package evtx

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// toEvent maps a rendered <Event> onto the envelope: System fields, then
// EventData or UserData values as fields in document order.
func toEvent(root *elem, ev *telemetry.Event) {
	for _, sec := range root.kids {
		switch sec.name {
		case "System":
			systemFields(sec, ev)
		case "EventData":
			eventData(sec, ev)
		case "UserData":
			for _, kid := range sec.kids {
				flatten(kid.kids, ev)
			}
		}
	}
}

func systemFields(sys *elem, ev *telemetry.Event) {
	for _, e := range sys.kids {
		switch e.name {
		case "Provider":
			ev.Provider = e.attrText("Name")
		case "EventID":
			ev.EventID = uint32(number(e.raw, e.hasRaw, e.text, 32))
		case "Version":
			ev.Version = uint8(number(e.raw, e.hasRaw, e.text, 8))
		case "EventRecordID":
			ev.RecordID = number(e.raw, e.hasRaw, e.text, 64)
		case "TimeCreated":
			systemTime(e, ev)
		case "Execution":
			ev.ProcessID = uint32(attrNumber(e, "ProcessID", 32))
			ev.ThreadID = uint32(attrNumber(e, "ThreadID", 32))
		case "Channel":
			ev.Channel = telemetry.CanonicalChannel(e.value())
		case "Computer":
			ev.Host = e.value()
			ev.HostKey = telemetry.CanonicalHost(ev.Host)
		case "Security":
			ev.UserID = e.attrText("UserID")
		}
	}
}

// systemTime sets the event's time from TimeCreated@SystemTime: the raw
// FILETIME when the attribute was one, else its text.
func systemTime(e *elem, ev *telemetry.Event) {
	a, ok := e.attr("SystemTime")
	switch {
	case !ok:
	case a.hasRaw && a.raw.typ == typeFileTime && len(a.raw.data) == 8:
		ev.Time = filetime(binary.LittleEndian.Uint64(a.raw.data))
		ev.TimeSource = telemetry.TimeUTC
	default:
		if t, err := time.Parse(time.RFC3339Nano, a.value()); err == nil {
			ev.Time, ev.TimeSource = t.UTC(), telemetry.TimeUTC
		}
	}
}

// number reads an unsigned integer from a raw value of an integer type, or
// else from its text; 0 when neither holds one that fits in bits.
func number(raw value, hasRaw bool, text string, bits int) uint64 {
	if hasRaw {
		switch raw.typ {
		case typeUint8, typeUint16, typeUint32, typeUint64, typeHex32, typeHex64:
			if v := leUint(raw.data); bits == 64 || v < 1<<bits {
				return v
			}
			return 0
		}
		text = render(raw.typ, raw.data)
	}
	return parseUint(text, bits)
}

func attrNumber(e *elem, name string, bits int) uint64 {
	a, _ := e.attr(name)
	return number(a.raw, a.hasRaw, a.text, bits)
}

// eventData adds <Data Name="X"> values under their names, unnamed <Data>
// as param1…paramN (counting unnamed ones only, as NXLog does) and <Binary>
// as "Binary".
func eventData(sec *elem, ev *telemetry.Event) {
	if ev.Fields == nil {
		ev.Fields = make([]telemetry.Field, 0, len(sec.kids))
	}
	unnamed := 0
	for _, e := range sec.kids {
		name := e.name
		if name == "Data" {
			name = e.attrText("Name")
			if name == "" {
				unnamed++
				name = "param" + strconv.Itoa(unnamed)
			}
		}
		ev.Fields = append(ev.Fields, telemetry.Field{Name: name, Value: e.value()})
	}
}

// flatten adds the elements under a UserData child as fields named after
// them, with their own text, in document order, as the XML decoder does.
func flatten(kids []*elem, ev *telemetry.Event) {
	for _, e := range kids {
		ev.Fields = append(ev.Fields, telemetry.Field{Name: e.name, Value: e.value()})
	}
}

// parseUint parses a decimal or 0x-prefixed number, 0 when it is neither.
func parseUint(s string, bits int) uint64 {
	base := 10
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		s, base = s[2:], 16
	}
	v, err := strconv.ParseUint(strings.TrimSpace(s), base, bits)
	if err != nil {
		return 0
	}
	return v
}
