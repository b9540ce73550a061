package sim

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// maxRecordsPerChannel bounds each channel like a circular Windows log (the
// default 20 MB Security and System logs hold a few tens of thousands of
// records): the oldest records go first once it is full.
const maxRecordsPerChannel = 50_000

// Record is one event as a simulated host's event log holds it.
type Record struct {
	Channel      string
	Provider     string
	ProviderGUID string // lower case with braces, as ToXml renders it
	SourceName   bool   // render EventSourceName (classic providers)
	EventID      uint32
	Qualifiers   string
	Version      uint8
	Level        uint8
	Task         uint16
	Keywords     string
	Time         time.Time
	RecordID     uint64
	ActivityID   string
	ProcessID    uint32
	ThreadID     uint32
	Computer     string
	UserID       string
	Data         []telemetry.Field
	Binary       string // hex, rendered after the Data elements
}

// Get returns the value of the data field called name, or "".
func (r *Record) Get(name string) string {
	for _, f := range r.Data {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// XML renders the record on one line the way Get-WinEvent's ToXml() and
// wevtutil /f:xml do: single-quoted attributes, no declaration.
func (r *Record) XML() string {
	return string(r.AppendXML(make([]byte, 0, 700+90*len(r.Data))))
}

// AppendXML appends the record's XML (see XML) to dst.
func (r *Record) AppendXML(b []byte) []byte {
	b = append(b, "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"+
		"<System><Provider Name='"...)
	b = appendEsc(b, r.Provider, true)
	b = append(b, '\'')
	if r.ProviderGUID != "" {
		b = append(b, " Guid='"...)
		b = append(b, r.ProviderGUID...)
		b = append(b, '\'')
	}
	if r.SourceName {
		b = append(b, " EventSourceName='"...)
		b = appendEsc(b, r.Provider, true)
		b = append(b, '\'')
	}
	b = append(b, "/><EventID"...)
	if r.Qualifiers != "" {
		b = append(b, " Qualifiers='"...)
		b = append(b, r.Qualifiers...)
		b = append(b, '\'')
	}
	b = append(b, '>')
	b = strconv.AppendUint(b, uint64(r.EventID), 10)
	b = append(b, "</EventID><Version>"...)
	b = strconv.AppendUint(b, uint64(r.Version), 10)
	b = append(b, "</Version><Level>"...)
	b = strconv.AppendUint(b, uint64(r.Level), 10)
	b = append(b, "</Level><Task>"...)
	b = strconv.AppendUint(b, uint64(r.Task), 10)
	b = append(b, "</Task><Opcode>0</Opcode><Keywords>"...)
	b = append(b, r.Keywords...)
	b = append(b, "</Keywords><TimeCreated SystemTime='"...)
	// Windows renders 100 ns ticks as nine digits, the last two zero.
	b = r.Time.UTC().Truncate(100).AppendFormat(b, "2006-01-02T15:04:05.000000000Z")
	b = append(b, "'/><EventRecordID>"...)
	b = strconv.AppendUint(b, r.RecordID, 10)
	b = append(b, "</EventRecordID>"...)
	return r.appendRest(b)
}

func (r *Record) appendRest(b []byte) []byte {
	if r.ActivityID != "" {
		b = append(b, "<Correlation ActivityID='"...)
		b = append(b, r.ActivityID...)
		b = append(b, "'/>"...)
	} else {
		b = append(b, "<Correlation/>"...)
	}
	b = append(b, "<Execution ProcessID='"...)
	b = strconv.AppendUint(b, uint64(r.ProcessID), 10)
	b = append(b, "' ThreadID='"...)
	b = strconv.AppendUint(b, uint64(r.ThreadID), 10)
	b = append(b, "'/><Channel>"...)
	b = appendEsc(b, r.Channel, false)
	b = append(b, "</Channel><Computer>"...)
	b = appendEsc(b, r.Computer, false)
	b = append(b, "</Computer>"...)
	if r.UserID != "" {
		b = append(b, "<Security UserID='"...)
		b = append(b, r.UserID...)
		b = append(b, "'/>"...)
	} else {
		b = append(b, "<Security/>"...)
	}
	b = append(b, "</System><EventData>"...)
	for _, f := range r.Data {
		b = append(b, "<Data Name='"...)
		b = append(b, f.Name...)
		b = append(b, "'>"...)
		b = appendEsc(b, f.Value, false)
		b = append(b, "</Data>"...)
	}
	if r.Binary != "" {
		b = append(b, "<Binary>"...)
		b = append(b, r.Binary...)
		b = append(b, "</Binary>"...)
	}
	return append(b, "</EventData></Event>"...)
}

// appendEsc appends s escaped for element text, or for a single-quoted
// attribute when attr is set.
func appendEsc(b []byte, s string, attr bool) []byte {
	if !strings.ContainsAny(s, "&<>'\"") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '&':
			b = append(b, "&amp;"...)
		case c == '<':
			b = append(b, "&lt;"...)
		case c == '>':
			b = append(b, "&gt;"...)
		case attr && c == '\'':
			b = append(b, "&apos;"...)
		case attr && c == '"':
			b = append(b, "&quot;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// eventLog is one channel of one host.
type eventLog struct {
	records []*Record
	nextID  uint64
}

func (l *eventLog) append(r *Record) {
	l.nextID++
	r.RecordID = l.nextID
	if len(l.records) >= maxRecordsPerChannel {
		// Drop the oldest tenth at once, so that a full log costs one copy
		// per many records rather than one per record.
		n := copy(l.records, l.records[maxRecordsPerChannel/10:])
		clear(l.records[n:])
		l.records = l.records[:n]
	}
	l.records = append(l.records, r)
}

// Filter selects records the way Get-WinEvent -FilterHashtable does. Empty
// fields match everything; Start and End are inclusive.
type Filter struct {
	Channels  []string
	IDs       []uint32
	Providers []string
	Start     time.Time
	End       time.Time
	// Match, when set, must also accept the record (wevtutil XPath).
	Match func(*Record) bool
}

func (f *Filter) matches(r *Record) bool {
	if len(f.IDs) > 0 && !containsID(f.IDs, r.EventID) {
		return false
	}
	if len(f.Providers) > 0 && !containsFold(f.Providers, r.Provider) {
		return false
	}
	if !f.Start.IsZero() && r.Time.Before(f.Start) {
		return false
	}
	if !f.End.IsZero() && r.Time.After(f.End) {
		return false
	}
	return f.Match == nil || f.Match(r)
}

func containsID(ids []uint32, id uint32) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func sysmonTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// hex64 renders a HexInt64 field as Windows' renderer does: 0x, no padding.
func hex64(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// sortRecords orders records of several channels by time, then channel and
// record ID, as a merged view of the logs.
func sortRecords(rs []Record) {
	slices.SortStableFunc(rs, func(a, b Record) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if c := strings.Compare(a.Channel, b.Channel); c != 0 {
			return c
		}
		return cmp.Compare(a.RecordID, b.RecordID)
	})
}
