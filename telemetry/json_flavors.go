package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// jsonSlot is the envelope member a JSON key maps to.
type jsonSlot uint8

const (
	slotNone jsonSlot = iota
	slotTimeUTC
	slotTimeLocal
	slotEventID
	slotEventIDAlt // used only when the primary event ID key is absent
	slotChannel
	slotHost
	slotProvider
	slotRecordID
	slotVersion
	slotPID
	slotTID
	slotUser
	slotMeta // NXLog metadata: dropped
)

// ecsSlot maps Winlogbeat 7+ / ECS paths to the envelope.
func ecsSlot(key []byte) jsonSlot {
	switch string(key) {
	case "@timestamp":
		return slotTimeUTC
	case "winlog.event_id":
		return slotEventID
	case "event.code":
		return slotEventIDAlt
	case "winlog.channel":
		return slotChannel
	case "winlog.computer_name":
		return slotHost
	case "winlog.provider_name":
		return slotProvider
	case "winlog.record_id":
		return slotRecordID
	case "winlog.version":
		return slotVersion
	case "winlog.process.pid":
		return slotPID
	case "winlog.process.thread.id":
		return slotTID
	case "winlog.user.identifier":
		return slotUser
	}
	return slotNone
}

var ecsFieldPrefixes = [][]byte{[]byte("winlog.event_data."), []byte("winlog.user_data.")}

// beat6Slot maps Winlogbeat 6 (pre-ECS) keys to the envelope.
func beat6Slot(key []byte) jsonSlot {
	switch string(key) {
	case "@timestamp":
		return slotTimeUTC
	case "event_id":
		return slotEventID
	case "log_name":
		return slotChannel
	case "computer_name":
		return slotHost
	case "source_name":
		return slotProvider
	case "record_number":
		return slotRecordID
	case "version":
		return slotVersion
	case "process_id":
		return slotPID
	case "thread_id":
		return slotTID
	case "user.identifier":
		return slotUser
	}
	return slotNone
}

var beat6FieldPrefixes = [][]byte{[]byte("event_data."), []byte("user_data.")}

// nxlogSlot maps the keys NXLog's im_msvistalog adds beside the EventData
// fields of a flattened record. Every top-level key not listed here is an
// event field, in the order of the record. The NXLog keys that are dropped
// (slotMeta) describe the collector or repeat the rendered message.
func nxlogSlot(key []byte) jsonSlot {
	switch string(key) {
	case "EventID":
		return slotEventID
	case "Channel":
		return slotChannel
	case "Hostname":
		return slotHost
	case "SourceName":
		return slotProvider
	case "RecordNumber":
		return slotRecordID
	case "Version":
		return slotVersion
	case "ExecutionProcessID":
		return slotPID
	case "ThreadID":
		return slotTID
	case "UserID":
		return slotUser
	case "@timestamp":
		return slotTimeUTC
	case "EventTime", "TimeCreated":
		return slotTimeLocal
	// NXLog metadata. EventTypeOrignal (sic) is NXLog's EventType, renamed
	// by the pipeline when Sysmon's EventType took its place.
	case "tags", "@version", "EventTypeOrignal", "Task", "OpcodeValue", "Opcode", "Category",
		"Message", "SourceModuleName", "SourceModuleType", "EventReceivedTime", "port", "host",
		"Severity", "SeverityValue", "ProviderGuid", "Keywords", "ActivityID",
		"RelatedActivityID", "Level", "ERROR_EVT_UNRESOLVED":
		return slotMeta
	}
	return slotNone
}

// jsonMapper turns a parsed record into an Event.
type jsonMapper struct {
	r        *jsonRecord // the record being mapped
	root     int32       // the object holding the event: -1, or "_source"
	names    interner
	vals     interner
	hosts    hostKeys
	channels channelNames
	arena    fieldArena
	scratch  []byte
	times    [3][]byte // UTC field, Sysmon UtcTime, local field
}

// event maps r by its flavour.
func (m *jsonMapper) event(r *jsonRecord) (*Event, error) {
	m.arena.reset()
	m.times = [3][]byte{}
	m.r = r
	m.root = sourceRoot(r)
	ev := &Event{}
	var err error
	switch jsonFlavour(r, m.root) {
	case "envelope":
		err = m.envelope(r, ev)
	case "ecs":
		err = m.beat(r, ev, ecsSlot, ecsFieldPrefixes)
	case "beat6":
		err = m.beat(r, ev, beat6Slot, beat6FieldPrefixes)
	case "nxlog":
		err = m.nxlog(r, ev)
	default:
		return nil, errors.New("unknown JSON event layout (no winlog, event_data, " +
			"log_name, EventID or time_source key)")
	}
	if err != nil {
		return nil, err
	}
	ev.Fields = m.arena.fields()
	return ev, nil
}

// sourceRoot returns the index of a top-level "_source" object, which wraps
// the event in documents exported from Elasticsearch, or -1.
func sourceRoot(r *jsonRecord) int32 {
	for i := range r.nodes {
		n := &r.nodes[i]
		if n.parent == -1 && n.kind == 'o' && string(r.key(n)) == "_source" {
			return int32(i)
		}
	}
	return -1
}

// jsonFlavour names the layout of r from the keys of its root object.
func jsonFlavour(r *jsonRecord, root int32) string {
	var ecs, beat6, nxlog bool
	for i := range r.nodes {
		n := &r.nodes[i]
		if n.parent != root {
			continue
		}
		switch k := string(r.key(n)); {
		case k == "time_source":
			return "envelope"
		case k == "winlog" || bytes.HasPrefix(r.key(n), []byte("winlog.")):
			ecs = true
		case k == "event_data" || k == "log_name":
			beat6 = true
		case k == "EventID":
			nxlog = true
		}
	}
	switch {
	case ecs:
		return "ecs"
	case beat6:
		return "beat6"
	case nxlog:
		return "nxlog"
	}
	return ""
}

// beat maps a Winlogbeat record: slots by dotted path, fields under prefixes.
func (m *jsonMapper) beat(r *jsonRecord, ev *Event, slots func([]byte) jsonSlot,
	prefixes [][]byte) error {
	var altID []byte
	for i := range r.nodes {
		n := &r.nodes[i]
		if n.parent >= 0 && r.nodes[n.parent].underField {
			n.underField = true
			continue
		}
		path := r.path(n)
		if m.root >= 0 {
			if !bytes.HasPrefix(path, []byte("_source.")) {
				continue
			}
			path = path[len("_source."):]
		}
		if name, ok := underPrefix(path, prefixes); ok {
			n.underField = true
			if err := m.field(m.names.bytes(name), n); err != nil {
				return err
			}
			continue
		}
		slot := slots(path)
		if slot == slotNone {
			continue
		}
		if slot == slotEventIDAlt {
			altID = m.keep(n)
			continue
		}
		if err := m.slot(ev, slot, n); err != nil {
			return err
		}
	}
	if ev.EventID == 0 && altID != nil {
		if err := m.setUint(ev, slotEventID, altID); err != nil {
			return err
		}
	}
	return m.chooseTime(ev)
}

func underPrefix(path []byte, prefixes [][]byte) ([]byte, bool) {
	for _, p := range prefixes {
		if len(path) > len(p) && bytes.HasPrefix(path, p) {
			return path[len(p):], true
		}
	}
	return nil, false
}

// nxlog maps a flattened NXLog record. NXLog writes its own EventType
// (INFO, AUDIT_SUCCESS) over Sysmon's unless the pipeline renamed it to
// EventTypeOrignal, and its own AccountName, AccountType and Domain (the
// user of Security@UserID) over the event's: those keys are metadata when
// the record says so, and event fields otherwise.
func (m *jsonMapper) nxlog(r *jsonRecord, ev *Event) error {
	var renamedType, hasUser bool
	for i := range r.nodes {
		if r.nodes[i].parent == m.root {
			switch string(r.key(&r.nodes[i])) {
			case "EventTypeOrignal":
				renamedType = true
			case "UserID":
				hasUser = true
			}
		}
	}
	for i := range r.nodes {
		n := &r.nodes[i]
		if n.parent != m.root {
			continue // nested values are kept whole as their parent's raw JSON
		}
		slot := nxlogSlot(r.key(n))
		switch string(r.key(n)) {
		case "EventType":
			if !renamedType {
				slot = slotMeta
			}
		case "AccountName", "AccountType", "Domain":
			if hasUser {
				slot = slotMeta
			}
		case "UtcTime":
			m.times[1] = m.keep(n)
		}
		if err := m.slot(ev, slot, n); err != nil {
			return err
		}
	}
	return m.chooseTime(ev)
}

// slot stores n in the envelope member slot, or as a field for slotNone.
func (m *jsonMapper) slot(ev *Event, slot jsonSlot, n *jsonNode) error {
	switch slot {
	case slotMeta:
		return nil
	case slotNone:
		if n.parent == m.root {
			return m.field(m.names.bytes(m.r.key(n)), n)
		}
		return nil
	case slotTimeUTC:
		m.times[0] = m.keep(n)
	case slotTimeLocal:
		m.times[2] = m.keep(n)
	case slotChannel:
		ev.Channel = m.channels.canonical(m.value(n))
	case slotHost:
		ev.Host = m.vals.bytes(m.value(n))
		ev.HostKey = m.hosts.key(ev.Host)
	case slotProvider:
		ev.Provider = m.vals.bytes(m.value(n))
	case slotUser:
		ev.UserID = m.vals.bytes(m.value(n))
	default:
		if err := m.setUint(ev, slot, m.value(n)); err != nil {
			return fmt.Errorf("key %q: %w", decClip(m.r.key(n)), err)
		}
	}
	return nil
}

// setUint stores a numeric envelope member from a number or numeric string.
func (m *jsonMapper) setUint(ev *Event, slot jsonSlot, v []byte) error {
	bits := 32
	switch slot {
	case slotRecordID:
		bits = 64
	case slotVersion:
		bits = 8
	case slotEventID, slotPID, slotTID:
	default:
		return nil
	}
	u, err := optUint(v, bits)
	if err != nil {
		return err
	}
	switch slot {
	case slotEventID:
		ev.EventID = uint32(u)
	case slotRecordID:
		ev.RecordID = u
	case slotVersion:
		ev.Version = uint8(u)
	case slotPID:
		ev.ProcessID = uint32(u)
	case slotTID:
		ev.ThreadID = uint32(u)
	}
	return nil
}

// chooseTime sets the event time, preferring UTC: Sysmon's UtcTime (the
// event's own clock) first, then @timestamp (UTC; in NXLog records the
// collector's receive time, seconds later), and only then a host-local
// EventTime or TimeCreated, marked TimeLocal.
func (m *jsonMapper) chooseTime(ev *Event) error {
	order := [3]struct {
		v      []byte
		source TimeSource
	}{{m.times[1], TimeUTC}, {m.times[0], TimeUTC}, {m.times[2], TimeLocal}}
	for i, c := range order {
		if len(c.v) == 0 {
			continue
		}
		t, hasZone, err := decodeTimestamp(c.v)
		if err != nil && i == 0 {
			continue // a bad Sysmon UtcTime is only a field; the others decide
		}
		if err != nil {
			return err
		}
		ev.Time, ev.TimeSource = t, c.source
		if hasZone {
			ev.TimeSource = TimeUTC
		}
		return nil
	}
	return nil
}

// value returns the text of a scalar node: a decoded string, a number's text,
// "true"/"false", nil for null, or the raw JSON of an object or array. The
// bytes are valid until the next call.
func (m *jsonMapper) value(n *jsonNode) []byte {
	switch n.kind {
	case 'z':
		return nil
	case 's':
		if n.esc {
			m.scratch = appendJSONString(m.scratch[:0], m.r.val(n))
			return m.scratch
		}
	}
	return m.r.val(n)
}

// keep is value for bytes that must outlive the next call to value.
func (m *jsonMapper) keep(n *jsonNode) []byte {
	if n.kind == 's' && n.esc {
		return bytes.Clone(m.value(n))
	}
	return m.value(n)
}

// field appends n as the event field name.
func (m *jsonMapper) field(name string, n *jsonNode) error {
	start := len(m.arena.vals)
	switch {
	case n.kind == 'z':
	case n.kind == 's' && n.esc:
		m.arena.vals = appendJSONString(m.arena.vals, m.r.val(n))
	default:
		m.arena.vals = append(m.arena.vals, m.r.val(n)...)
	}
	return m.arena.add(name, start)
}

// envelope reads svcharness's own NDJSON, written by AppendEventJSON.
func (m *jsonMapper) envelope(r *jsonRecord, ev *Event) error {
	var source, when []byte
	fields := int32(-1)
	for i := range r.nodes {
		n := &r.nodes[i]
		if n.parent != m.root {
			continue
		}
		switch string(r.key(n)) {
		case "time":
			when = bytes.Clone(m.value(n))
		case "time_source":
			source = bytes.Clone(m.value(n))
		case "host_key":
			ev.HostKey = m.vals.bytes(m.value(n))
		case "fields":
			fields = int32(i)
		default:
			if err := m.slot(ev, envelopeSlot(r.key(n)), n); err != nil {
				return err
			}
		}
	}
	if ev.HostKey == "" {
		ev.HostKey = m.hosts.key(ev.Host)
	}
	if err := envelopeTime(ev, source, when); err != nil {
		return err
	}
	if fields < 0 {
		return nil
	}
	return m.envelopeFields(r, fields)
}

func envelopeSlot(key []byte) jsonSlot {
	switch string(key) {
	case "host":
		return slotHost
	case "channel":
		return slotChannel
	case "provider":
		return slotProvider
	case "event_id":
		return slotEventID
	case "version":
		return slotVersion
	case "record_id":
		return slotRecordID
	case "user_id":
		return slotUser
	case "process_id":
		return slotPID
	case "thread_id":
		return slotTID
	case "time":
		return slotMeta
	}
	return slotNone
}

func envelopeTime(ev *Event, source, when []byte) error {
	switch string(source) {
	case "utc", "local":
	case "unknown", "":
		return nil
	default:
		return fmt.Errorf("unknown time_source %q", decClip(source))
	}
	t, hasZone, err := decodeTimestamp(when)
	if err != nil {
		return err
	}
	ev.Time, ev.TimeSource = t, TimeLocal
	if string(source) == "utc" {
		if !hasZone {
			return errors.New("time_source utc needs a time with a zone")
		}
		ev.TimeSource = TimeUTC
	}
	return nil
}

// envelopeFields reads "fields": [["name","value"], …].
func (m *jsonMapper) envelopeFields(r *jsonRecord, fields int32) error {
	nodes := r.nodes
	if nodes[fields].kind != 'a' {
		return errors.New(`"fields" is not an array`)
	}
	for i := int(fields) + 1; i < len(nodes); i++ {
		pair := &nodes[i]
		if pair.parent != fields {
			continue
		}
		if pair.kind != 'a' || i+2 >= len(nodes) || nodes[i+1].parent != int32(i) ||
			nodes[i+2].parent != int32(i) || nodes[i+1].kind != 's' ||
			(i+3 < len(nodes) && nodes[i+3].parent == int32(i)) {
			return errors.New(`"fields" entries must be ["name", "value"] pairs`)
		}
		name := m.names.bytes(m.value(&nodes[i+1]))
		if err := m.field(name, &nodes[i+2]); err != nil {
			return err
		}
	}
	return nil
}

// envelopeTimeLayout is the zoneless layout of TimeLocal times in the
// envelope; TimeUTC times use RFC 3339 with "Z".
const envelopeTimeLayout = "2006-01-02T15:04:05.999999999"

// AppendEventJSON appends e to dst as one line of svcharness's events NDJSON
// (with the trailing newline) and returns the extended slice. The shape is:
//
//	{"time":"2021-04-21T09:40:32.3633939Z","time_source":"utc",
//	 "host":"SRV01.corp.lan","host_key":"srv01","channel":"Security",
//	 "provider":"Microsoft-Windows-Security-Auditing","event_id":4697,
//	 "version":0,"record_id":123,"user_id":"S-1-5-18","process_id":596,
//	 "thread_id":4516,"fields":[["ServiceName","PSEXESVC"],…]}
//
// time is RFC 3339 in UTC with "Z" when time_source is "utc", the zoneless
// host wall clock when it is "local", and "" when it is "unknown". Fields
// keep their order; duplicates are kept. JSONReader reads it back into an
// equal Event (invalid UTF-8, which decoders never produce, becomes U+FFFD).
func AppendEventJSON(dst []byte, e *Event) []byte {
	dst = append(dst, `{"time":`...)
	dst = appendQuoted(dst, eventTimeText(e))
	dst = appendMember(dst, "time_source", e.TimeSource.String())
	dst = appendMember(dst, "host", e.Host)
	dst = appendMember(dst, "host_key", e.HostKey)
	dst = appendMember(dst, "channel", e.Channel)
	dst = appendMember(dst, "provider", e.Provider)
	dst = appendNumber(dst, `,"event_id":`, uint64(e.EventID))
	dst = appendNumber(dst, `,"version":`, uint64(e.Version))
	dst = appendNumber(dst, `,"record_id":`, e.RecordID)
	dst = appendMember(dst, "user_id", e.UserID)
	dst = appendNumber(dst, `,"process_id":`, uint64(e.ProcessID))
	dst = appendNumber(dst, `,"thread_id":`, uint64(e.ThreadID))
	dst = append(dst, `,"fields":[`...)
	for i, f := range e.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = appendQuoted(dst, f.Name)
		dst = append(dst, ',')
		dst = appendQuoted(dst, f.Value)
		dst = append(dst, ']')
	}
	return append(dst, "]}\n"...)
}

func eventTimeText(e *Event) string {
	switch e.TimeSource {
	case TimeUTC:
		return e.Time.UTC().Format(time.RFC3339Nano)
	case TimeLocal:
		return e.Time.UTC().Format(envelopeTimeLayout)
	}
	return ""
}

func appendMember(dst []byte, key, v string) []byte {
	dst = append(dst, `,"`...)
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	return appendQuoted(dst, v)
}

func appendNumber(dst []byte, prefix string, v uint64) []byte {
	dst = append(dst, prefix...)
	return append(dst, uitoa(v)...)
}

// appendQuoted appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// control characters and the line separators U+2028/U+2029 are escaped.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c < 0x80 {
			dst = append(dst, s[start:i]...)
			dst = appendEscaped(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			if r == utf8.RuneError {
				r = 0xfffd
			}
			dst = append(dst, `\u`...)
			dst = append(dst, hexDigits[r>>12&0xf], hexDigits[r>>8&0xf],
				hexDigits[r>>4&0xf], hexDigits[r&0xf])
			start = i + size
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

func appendEscaped(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}
