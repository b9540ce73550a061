package sim

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// maxRecordsPerChannel bounds each channel like a circular Windows log: the
// oldest records go first once it is full.
const maxRecordsPerChannel = 200_000

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
	var b strings.Builder
	b.Grow(600 + 80*len(r.Data))
	b.WriteString("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>")
	b.WriteString("<Provider Name='" + escAttr(r.Provider) + "'")
	if r.ProviderGUID != "" {
		b.WriteString(" Guid='" + r.ProviderGUID + "'")
	}
	if r.SourceName {
		b.WriteString(" EventSourceName='" + escAttr(r.Provider) + "'")
	}
	b.WriteString("/><EventID")
	if r.Qualifiers != "" {
		b.WriteString(" Qualifiers='" + r.Qualifiers + "'")
	}
	b.WriteString(">" + u64(uint64(r.EventID)) + "</EventID>")
	b.WriteString("<Version>" + u64(uint64(r.Version)) + "</Version>")
	b.WriteString("<Level>" + u64(uint64(r.Level)) + "</Level>")
	b.WriteString("<Task>" + u64(uint64(r.Task)) + "</Task><Opcode>0</Opcode>")
	b.WriteString("<Keywords>" + r.Keywords + "</Keywords>")
	b.WriteString("<TimeCreated SystemTime='" + systemTime(r.Time) + "'/>")
	b.WriteString("<EventRecordID>" + u64(r.RecordID) + "</EventRecordID>")
	if r.ActivityID != "" {
		b.WriteString("<Correlation ActivityID='" + r.ActivityID + "'/>")
	} else {
		b.WriteString("<Correlation/>")
	}
	b.WriteString("<Execution ProcessID='" + u64(uint64(r.ProcessID)) +
		"' ThreadID='" + u64(uint64(r.ThreadID)) + "'/>")
	b.WriteString("<Channel>" + escText(r.Channel) + "</Channel>")
	b.WriteString("<Computer>" + escText(r.Computer) + "</Computer>")
	if r.UserID != "" {
		b.WriteString("<Security UserID='" + r.UserID + "'/>")
	} else {
		b.WriteString("<Security/>")
	}
	b.WriteString("</System><EventData>")
	for _, f := range r.Data {
		b.WriteString("<Data Name='" + f.Name + "'>" + escText(f.Value) + "</Data>")
	}
	if r.Binary != "" {
		b.WriteString("<Binary>" + r.Binary + "</Binary>")
	}
	b.WriteString("</EventData></Event>")
	return b.String()
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
		copy(l.records, l.records[1:])
		l.records = l.records[:len(l.records)-1]
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

func systemTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

func sysmonTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// hex64 renders a HexInt64 field as Windows' renderer does: 0x, no padding.
func hex64(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;",
	"'", "&apos;", `"`, "&quot;")

func escText(s string) string { return textEscaper.Replace(s) }

func escAttr(s string) string { return attrEscaper.Replace(s) }

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
