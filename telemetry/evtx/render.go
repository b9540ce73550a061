package evtx

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

// elem is one element of a record's rendered XML: templates instantiated,
// substitutions rendered to text. It is the input of toEvent.
type elem struct {
	name  string
	attrs []elemAttr
	text  string
	kids  []*elem
}

// elemAttr is a rendered attribute. A FILETIME value also keeps its raw
// form, so TimeCreated needs no parsing back.
type elemAttr struct {
	name, value string
	filetime    uint64
}

// newElem returns a cleared element from the chunk's pool. Elements live
// for one record; the pool is reset by the next record, so building a record
// allocates almost nothing but its values.
func (b *builder) newElem(name string) *elem {
	c := b.c
	if c.nextElem == len(c.elems) {
		c.elems = append(c.elems, &elem{})
	}
	e := c.elems[c.nextElem]
	c.nextElem++
	*e = elem{name: name, attrs: e.attrs[:0], kids: e.kids[:0]}
	return e
}

// attr returns the value of the attribute called name, or "".
func (e *elem) attr(name string) string {
	for _, a := range e.attrs {
		if a.name == name {
			return a.value
		}
	}
	return ""
}

// buildBudget caps the work of instantiating one record: one unit per
// element or value, one per 8 bytes of nested BinXml parsed. A template that
// substitutes one nested value several times, nested in itself, would
// otherwise expand exponentially within a 64 KiB record.
const buildBudget = 1 << 20

// builder instantiates parsed BinXml trees into elements.
type builder struct {
	c      *chunk
	fields int // text values produced, bounded by telemetry.MaxFields
	spent  int // work done, bounded by buildBudget
}

func (b *builder) spend(units int) error {
	b.spent += units
	if b.spent > buildBudget {
		return b.c.errorf("%w: record expands past the work limit", errMalformed)
	}
	return nil
}

// build instantiates n with vals, appending what it produces to parent.
func (b *builder) build(n *node, vals []value, parent *elem, depth int) error {
	if depth > maxNesting {
		return b.c.errorf("%w: nesting deeper than %d", errMalformed, maxNesting)
	}
	if err := b.spend(1); err != nil {
		return err
	}
	switch n.kind {
	case kindText:
		return b.addText(parent, n.text)
	case kindSubst:
		return b.substitute(n, vals, parent, depth)
	case kindInstance:
		return b.build(n.inst.root, n.inst.values, parent, depth+1)
	}
	if n.name == "" { // an unnamed element is a template's top-level list
		return b.buildKids(n, vals, parent, depth)
	}
	sub, v := soleSubst(n, vals)
	switch {
	case sub != nil && sub.optional && v.typ == typeNull:
		return nil // [MS-EVEN6]: an empty optional substitution drops its element
	case sub != nil && v.typ&typeArray != 0:
		return b.repeat(n, vals, parent, v)
	}
	e := b.newElem(n.name)
	b.buildAttrs(n, vals, e)
	parent.kids = append(parent.kids, e)
	return b.buildKids(n, vals, e, depth)
}

func (b *builder) buildKids(n *node, vals []value, e *elem, depth int) error {
	for _, kid := range n.kids {
		if err := b.build(kid, vals, e, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// soleSubst returns the substitution that is an element's only content, and
// its value.
func soleSubst(n *node, vals []value) (*node, value) {
	if len(n.kids) != 1 || n.kids[0].kind != kindSubst {
		return nil, value{}
	}
	return n.kids[0], lookup(vals, n.kids[0].index)
}

// repeat renders an element whose content is an array as one element per
// item, as Windows and libevtx do (<Data>a</Data><Data>b</Data>); an empty
// array still yields one empty element.
func (b *builder) repeat(n *node, vals []value, parent *elem, v value) error {
	items := arrayItems(v.typ&^typeArray, v.data)
	if len(items) == 0 {
		items = []string{""}
	}
	for _, item := range items {
		e := b.newElem(n.name)
		b.buildAttrs(n, vals, e)
		if err := b.addText(e, item); err != nil {
			return err
		}
		parent.kids = append(parent.kids, e)
	}
	return nil
}

// buildAttrs renders n's attributes. An attribute made only of optional
// substitutions whose values are empty is dropped, as [MS-EVEN6] says.
func (b *builder) buildAttrs(n *node, vals []value, e *elem) {
	for _, a := range n.attrs {
		if len(a.parts) == 1 { // the common case: one value, no builder
			if at, ok := attrPart(a.name, a.parts[0], vals); ok {
				e.attrs = append(e.attrs, at)
			}
			continue
		}
		var sb strings.Builder
		present := false
		for _, part := range a.parts {
			at, ok := attrPart(a.name, part, vals)
			sb.WriteString(at.value)
			present = present || ok
		}
		if present {
			e.attrs = append(e.attrs, elemAttr{name: a.name, value: sb.String()})
		}
	}
}

// attrPart renders one part of an attribute value; ok is false for an
// optional substitution with no value.
func attrPart(name string, part *node, vals []value) (elemAttr, bool) {
	if part.kind != kindSubst {
		return elemAttr{name: name, value: part.text}, true
	}
	v := lookup(vals, part.index)
	at := elemAttr{name: name}
	if v.typ == typeFileTime && len(v.data) == 8 {
		at.filetime = binary.LittleEndian.Uint64(v.data)
	}
	if v.typ != typeBinXML {
		at.value = render(v.typ, v.data)
	}
	return at, v.typ != typeNull || !part.optional
}

// substitute renders one substitution into parent's content. A nested BinXml
// value is parsed and instantiated in place, with its own values.
func (b *builder) substitute(n *node, vals []value, parent *elem, depth int) error {
	v := lookup(vals, n.index)
	if v.typ != typeBinXML {
		if v.typ == typeNull {
			return nil
		}
		return b.addText(parent, render(v.typ, v.data))
	}
	if err := b.spend(len(v.data)/8 + 1); err != nil {
		return err
	}
	p := parser{c: b.c, pos: v.off, end: v.off + len(v.data), depth: depth}
	top, err := p.document()
	if err != nil {
		return err
	}
	for _, kid := range top {
		if err := b.build(kid, nil, parent, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) addText(e *elem, s string) error {
	if len(e.text)+len(s) > telemetry.MaxFieldSize {
		return telemetry.ErrFieldTooLarge
	}
	b.fields++
	if b.fields > 4*telemetry.MaxFields {
		return b.c.errorf("%w: more than %d values", errMalformed, 4*telemetry.MaxFields)
	}
	e.text += s
	return nil
}

// lookup returns value i, or a null value when the record has fewer values,
// which Windows does for trailing optional substitutions.
func lookup(vals []value, i uint16) value {
	if int(i) < len(vals) {
		return vals[i]
	}
	return value{}
}

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
			ev.Provider = e.attr("Name")
		case "EventID":
			ev.EventID = uint32(parseUint(e.text, 32))
		case "Version":
			ev.Version = uint8(parseUint(e.text, 8))
		case "EventRecordID":
			ev.RecordID = parseUint(e.text, 64)
		case "TimeCreated":
			systemTime(e, ev)
		case "Execution":
			ev.ProcessID = uint32(parseUint(e.attr("ProcessID"), 32))
			ev.ThreadID = uint32(parseUint(e.attr("ThreadID"), 32))
		case "Channel":
			ev.Channel = telemetry.CanonicalChannel(e.text)
		case "Computer":
			ev.Host = e.text
			ev.HostKey = telemetry.CanonicalHost(e.text)
		case "Security":
			ev.UserID = e.attr("UserID")
		}
	}
}

// systemTime sets the event's time from TimeCreated@SystemTime: the raw
// FILETIME when the attribute was one, else its text.
func systemTime(e *elem, ev *telemetry.Event) {
	for _, a := range e.attrs {
		if a.name != "SystemTime" {
			continue
		}
		if a.filetime != 0 {
			ev.Time, ev.TimeSource = filetime(a.filetime), telemetry.TimeUTC
		} else if t, err := time.Parse(time.RFC3339Nano, a.value); err == nil {
			ev.Time, ev.TimeSource = t.UTC(), telemetry.TimeUTC
		}
	}
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
			name = e.attr("Name")
			if name == "" {
				unnamed++
				name = "param" + strconv.Itoa(unnamed)
			}
		}
		ev.Fields = append(ev.Fields, telemetry.Field{Name: name, Value: e.text})
	}
}

// flatten adds the elements under a UserData child as fields named after
// them, with their own text, in document order, as the XML decoder does.
func flatten(kids []*elem, ev *telemetry.Event) {
	for _, e := range kids {
		ev.Fields = append(ev.Fields, telemetry.Field{Name: e.name, Value: e.text})
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
