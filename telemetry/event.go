// Package telemetry holds the normalized model of the Windows events that
// AN1185 needs and the decoders that produce it from every format our users
// hold: Windows event XML, EVTX (telemetry/evtx), Winlogbeat/ECS NDJSON, the
// flat JSON-lines flavours of public recordings, and svcharness's own events
// NDJSON.
//
// Every decoder yields the same Event for the same record, whatever the input
// format. Typed views (ProcessCreate, ServiceInstall, …) read an Event's raw
// fields into structs with normalized values.
package telemetry

import "time"

// Channel names as Windows writes them.
const (
	ChannelSecurity = "Security"
	ChannelSystem   = "System"
	ChannelSysmon   = "Microsoft-Windows-Sysmon/Operational"
)

// TimeSource says where an Event's Time came from. Host-local time carries no
// zone, so it must never be mixed silently with UTC.
type TimeSource uint8

const (
	// TimeUnknown means the record carried no usable time.
	TimeUnknown TimeSource = iota
	// TimeUTC means Time came from a UTC field (TimeCreated@SystemTime,
	// @timestamp, Sysmon's UtcTime).
	TimeUTC
	// TimeLocal means only a host-local time existed (NXLog EventTime,
	// flattened TimeCreated); Time holds that wall clock labelled as UTC.
	TimeLocal
)

// String returns "utc", "local" or "unknown".
func (s TimeSource) String() string {
	switch s {
	case TimeUTC:
		return "utc"
	case TimeLocal:
		return "local"
	default:
		return "unknown"
	}
}

// Field is one named value of an event's EventData or UserData.
type Field struct {
	Name  string
	Value string
}

// Event is the envelope every decoder produces: the System section of a
// Windows event plus its named data fields in their original order.
type Event struct {
	Time       time.Time  // always UTC location; see TimeSource
	TimeSource TimeSource // where Time came from
	Host       string     // Computer as recorded
	HostKey    string     // canonical host: lower-case short name (CanonicalHost)
	Channel    string     // canonical channel name ("Security", not "security")
	Provider   string     // Provider@Name
	EventID    uint32
	Version    uint8
	RecordID   uint64 // EventRecordID; 0 when the format lacks it
	UserID     string // System/Security@UserID SID, "" when absent
	ProcessID  uint32 // System/Execution@ProcessID
	ThreadID   uint32 // System/Execution@ThreadID
	Fields     []Field
}

// Get returns the value of the first field called name, matched exactly.
func (e *Event) Get(name string) (string, bool) {
	for i := range e.Fields {
		if e.Fields[i].Name == name {
			return e.Fields[i].Value, true
		}
	}
	return "", false
}

// Value returns the value of the field called name, or "" when absent.
func (e *Event) Value(name string) string {
	v, _ := e.Get(name)
	return v
}

// Key returns "<channel>:<event ID>" with Sysmon's channel shortened to
// "Sysmon", the form EXPECTATIONS.json and reports use.
func (e *Event) Key() string {
	ch := e.Channel
	if ch == ChannelSysmon {
		ch = "Sysmon"
	}
	return ch + ":" + uitoa(uint64(e.EventID))
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}
