package evtx

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// This file reads evtxexport's XML rendering (libevtx) independently of the
// decoder under test, and compares values parsed, not as strings: renderers
// differ in time precision, GUID case and hex padding.

// xnode is a generic XML element.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []xnode    `xml:",any"`
}

func (n *xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// refEvent is one reference record: System values and data fields as text.
type refEvent struct {
	system map[string]string
	fields []telemetry.Field
}

// parseRefXML splits evtxexport output into <Event> documents and parses
// each; a document encoding/xml cannot read is returned as an error string.
func parseRefXML(b []byte) ([]refEvent, []string) {
	var refs []refEvent
	var bad []string
	for {
		i := bytes.Index(b, []byte("<Event"))
		if i < 0 {
			return refs, bad
		}
		j := bytes.Index(b[i:], []byte("</Event>"))
		if j < 0 {
			return refs, append(bad, "unterminated <Event>")
		}
		doc := escapeControls(b[i : i+j+len("</Event>")])
		b = b[i+j:]
		var n xnode
		if err := xml.Unmarshal(doc, &n); err != nil {
			bad = append(bad, err.Error())
			continue
		}
		refs = append(refs, refFromXML(&n))
	}
}

func refFromXML(ev *xnode) refEvent {
	r := refEvent{system: map[string]string{}}
	for i := range ev.Kids {
		sec := &ev.Kids[i]
		switch sec.XMLName.Local {
		case "System":
			refSystem(sec, r.system)
		case "EventData":
			unnamed := 0
			for _, d := range sec.Kids {
				name := d.XMLName.Local
				if name == "Data" {
					if name = d.attr("Name"); name == "" {
						unnamed++
						name = fmt.Sprintf("param%d", unnamed)
					}
				}
				r.fields = append(r.fields, telemetry.Field{Name: name, Value: d.Text})
			}
		case "UserData":
			for _, k := range sec.Kids {
				r.fields = appendLeaves(r.fields, k.Kids)
			}
		}
	}
	return r
}

func appendLeaves(fields []telemetry.Field, kids []xnode) []telemetry.Field {
	for _, k := range kids {
		fields = append(fields, telemetry.Field{Name: k.XMLName.Local, Value: k.Text})
	}
	return fields
}

func refSystem(sys *xnode, m map[string]string) {
	for _, k := range sys.Kids {
		switch name := k.XMLName.Local; name {
		case "Provider":
			m["Provider"] = k.attr("Name")
		case "TimeCreated":
			m["Time"] = k.attr("SystemTime")
		case "Execution":
			m["ProcessID"], m["ThreadID"] = k.attr("ProcessID"), k.attr("ThreadID")
		case "Security":
			m["UserID"] = k.attr("UserID")
		case "EventID", "Version", "EventRecordID", "Channel", "Computer":
			m[name] = k.Text
		}
	}
}

// systemOf renders the System values of ev under refSystem's keys.
func systemOf(ev *telemetry.Event) map[string]string {
	m := map[string]string{
		"Provider":      ev.Provider,
		"EventID":       strconv.FormatUint(uint64(ev.EventID), 10),
		"Version":       strconv.FormatUint(uint64(ev.Version), 10),
		"EventRecordID": strconv.FormatUint(ev.RecordID, 10),
		"Channel":       ev.Channel,
		"Computer":      ev.Host,
		"UserID":        ev.UserID,
		"Time":          ev.Time.Format(time.RFC3339Nano),
		"ProcessID":     strconv.FormatUint(uint64(ev.ProcessID), 10),
		"ThreadID":      strconv.FormatUint(uint64(ev.ThreadID), 10),
	}
	return m
}

// compareRef returns the differences between a reference record and ours.
func compareRef(ref refEvent, ev *telemetry.Event) []string {
	var diffs []string
	ours := systemOf(ev)
	for key, want := range ref.system {
		if want == "" && (key == "Version" || key == "ProcessID" || key == "ThreadID") {
			continue // element absent: ours is 0
		}
		if key == "Channel" {
			want = telemetry.CanonicalChannel(want)
		}
		if !sameValue(want, ours[key]) {
			diffs = append(diffs, fmt.Sprintf("System %s: got %q; want %q", key, ours[key], want))
		}
	}
	if len(ev.Fields) != len(ref.fields) {
		diffs = append(diffs, fmt.Sprintf("got %d fields; want %d", len(ev.Fields), len(ref.fields)))
	}
	for i := 0; i < min(len(ev.Fields), len(ref.fields)); i++ {
		got, want := ev.Fields[i], ref.fields[i]
		if got.Name != want.Name || !sameValue(want.Value, got.Value) {
			diffs = append(diffs, fmt.Sprintf("field %d: got %s=%q; want %s=%q",
				i, got.Name, got.Value, want.Name, want.Value))
		}
	}
	return diffs
}

// sameValue compares two renderings of one value: equal text, or equal as
// hex numbers, times to 100 ns, or GUIDs ignoring case.
//
// An XML parser turns the CR LF that evtxexport writes into LF (XML 1.0
// section 2.11), so ours is compared with CR LF turned into LF as well; the
// event itself keeps the CR LF that Windows recorded.
func sameValue(want, got string) bool {
	got = string(escapeControls([]byte(strings.ReplaceAll(got, "\r\n", "\n"))))
	if want == got {
		return true
	}
	if strings.HasPrefix(want, "0x") && strings.HasPrefix(got, "0x") {
		w, err1 := strconv.ParseUint(want[2:], 16, 64)
		g, err2 := strconv.ParseUint(got[2:], 16, 64)
		return err1 == nil && err2 == nil && w == g
	}
	if strings.HasPrefix(want, "{") && strings.HasSuffix(want, "}") {
		return strings.EqualFold(want, got)
	}
	wt, err1 := time.Parse(time.RFC3339Nano, want)
	gt, err2 := time.Parse(time.RFC3339Nano, got)
	if err1 == nil && err2 == nil {
		return wt.Truncate(100 * time.Nanosecond).Equal(gt.Truncate(100 * time.Nanosecond))
	}
	return false
}

// escapeControls moves the control characters that XML 1.0 forbids but
// evtxexport writes as found (Security 4739 stores "\x03") to private-use
// runes U+E000+c, so encoding/xml can read the document; sameValue maps ours
// the same way.
func escapeControls(doc []byte) []byte {
	return bytes.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return 0xE000 + r
		}
		return r
	}, doc)
}

// diffEvents compares two events exactly, for tests where both come from
// this decoder.
func diffEvents(want, got *telemetry.Event) string {
	w, g := fmt.Sprintf("%+v", *want), fmt.Sprintf("%+v", *got)
	if w == g {
		return ""
	}
	return fmt.Sprintf("got %s; want %s", g, w)
}

func TestSameValue(t *testing.T) {
	tests := []struct {
		want, got string
		same      bool
	}{
		{"0x00000010", "0x10", true},
		{"0x00000010", "0x11", false},
		{"{b8c3a477-69db-d96f-f0c0-889ccecb69ee}", "{B8C3A477-69DB-D96F-F0C0-889CCECB69EE}", true},
		{"2017-07-12T17:16:05.499259900Z", "2017-07-12T17:16:05.4992599Z", true},
		{"2017-07-12T17:16:05.499259900Z", "2017-07-12T17:16:05.4992598Z", false},
		{"abc", "ABC", false},
	}
	for _, tt := range tests {
		if got := sameValue(tt.want, tt.got); got != tt.same {
			t.Errorf("sameValue(%q, %q) = %v; want %v", tt.want, tt.got, got, tt.same)
		}
	}
}
