package evtx

import (
	"strings"

	"github.com/svcharness/svcharness/telemetry"
)

// elem is one element of a record's XML: templates instantiated,
// substitutions resolved. It is the input of toEvent.
//
// Content that is a single substitution value is kept raw and rendered only
// when read: most System values (Level, Task, Keywords, the provider GUID)
// are never read, and numbers and times are read without text in between.
type elem struct {
	name  string
	attrs []elemAttr
	text  string
	raw   value // the content when it is one value, if hasRaw
	kids  []*elem

	hasRaw bool
}

// elemAttr is an attribute: literal text, or one raw value.
type elemAttr struct {
	name   string
	text   string
	raw    value
	hasRaw bool
}

// value returns the element's text content.
func (e *elem) value() string {
	if e.hasRaw {
		return render(e.raw.typ, e.raw.data)
	}
	return e.text
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

// attr returns the attribute called name and whether it is present.
func (e *elem) attr(name string) (elemAttr, bool) {
	for _, a := range e.attrs {
		if a.name == name {
			return a, true
		}
	}
	return elemAttr{}, false
}

// attrText returns the text of the attribute called name, or "".
func (e *elem) attrText(name string) string {
	a, _ := e.attr(name)
	return a.value()
}

func (a elemAttr) value() string {
	if a.hasRaw {
		return render(a.raw.typ, a.raw.data)
	}
	return a.text
}

// buildBudget caps the work of instantiating one record: one unit per
// element or value, one per 8 bytes of nested BinXml parsed. A template that
// substitutes one nested value several times, nested in itself, would
// otherwise expand exponentially within a 64 KiB record. Real records spend
// well under a thousand; the cap also bounds the element pool of a worker.
const buildBudget = 1 << 17

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
	if sub != nil && v.typ != typeBinXML {
		return b.setRaw(e, v)
	}
	return b.buildKids(n, vals, e, depth)
}

// setRaw keeps a single value as the element's content, unrendered.
func (b *builder) setRaw(e *elem, v value) error {
	if v.typ == typeNull {
		return nil
	}
	if len(v.data) > telemetry.MaxFieldSize/2 {
		return telemetry.ErrFieldTooLarge
	}
	e.raw, e.hasRaw = v, true
	return b.countValue()
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
			sb.WriteString(at.value())
			present = present || ok
		}
		if present {
			e.attrs = append(e.attrs, elemAttr{name: a.name, text: sb.String()})
		}
	}
}

// attrPart renders one part of an attribute value; ok is false for an
// optional substitution with no value.
func attrPart(name string, part *node, vals []value) (elemAttr, bool) {
	if part.kind != kindSubst {
		return elemAttr{name: name, text: part.text}, true
	}
	v := lookup(vals, part.index)
	at := elemAttr{name: name}
	if v.typ != typeBinXML && v.typ != typeNull {
		at.raw, at.hasRaw = v, true
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
	if e.hasRaw { // mixed content after a raw value: render it first
		e.text, e.hasRaw = e.value(), false
	}
	if len(e.text)+len(s) > telemetry.MaxFieldSize {
		return telemetry.ErrFieldTooLarge
	}
	e.text += s
	return b.countValue()
}

func (b *builder) countValue() error {
	b.fields++
	if b.fields > 4*telemetry.MaxFields {
		return b.c.errorf("%w: more than %d values", errMalformed, 4*telemetry.MaxFields)
	}
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
