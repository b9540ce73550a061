package evtx

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// BinXml tokens ([MS-EVEN6] 2.2.12). The 0x40 bit on some tokens says "more
// of the same follows"; the parser masks it off and peeks at the next token
// instead, which is what ends a list in practice.
const (
	tokEOF          = 0x00
	tokOpenStart    = 0x01
	tokCloseStart   = 0x02
	tokCloseEmpty   = 0x03
	tokEndElement   = 0x04
	tokValue        = 0x05
	tokAttribute    = 0x06
	tokCDATA        = 0x07
	tokCharRef      = 0x08
	tokEntityRef    = 0x09
	tokPITarget     = 0x0a
	tokPIData       = 0x0b
	tokTemplate     = 0x0c
	tokNormalSubst  = 0x0d
	tokOptionalSubs = 0x0e
	tokFragment     = 0x0f
	tokMore         = 0x40
)

// Limits on structures a hostile chunk could make expensive.
const (
	// maxNesting caps element depth plus nested BinXml and template depth.
	maxNesting = 64
	// maxTemplateValues caps the substitution array of one template instance.
	maxTemplateValues = 4096
)

// errMalformed is wrapped by every structural BinXml error.
var errMalformed = errors.New("malformed binary XML")

// kind says what a node of a parsed BinXml tree holds.
type kind uint8

const (
	kindElement  kind = iota // an element with attributes and content
	kindText                 // literal text (value, CDATA, references)
	kindSubst                // a substitution placeholder into the values
	kindInstance             // a template instance: template plus values
)

// node is one piece of a parsed BinXml tree. Templates are parsed once per
// chunk into such trees and instantiated for every record that uses them.
type node struct {
	kind     kind
	name     string  // element name
	attrs    []attr  // element attributes
	kids     []*node // element content, in order
	text     string  // kindText
	index    uint16  // kindSubst: index into the instance's values
	optional bool    // kindSubst: an optional substitution
	inst     *instance
}

// attr is one attribute: a name and the text or substitutions of its value.
type attr struct {
	name  string
	parts []*node
}

// instance is a template instance: the template's tree and the values that
// fill its substitutions. Values point into the chunk's bytes.
type instance struct {
	root   *node
	values []value
}

// value is one substitution value: its type byte and raw data.
type value struct {
	typ  byte
	off  int // offset of data in the chunk, for nested BinXml
	data []byte
}

// parser reads BinXml from a chunk. Offsets are relative to the chunk start,
// because names and templates are referenced by chunk offset.
type parser struct {
	c     *chunk
	pos   int
	end   int
	depth int
	// cached marks a template definition's parse: its tree outlives the
	// record, so values found in it must not use the per-record buffer.
	cached bool
}

func (p *parser) errorf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return fmt.Errorf("%w: %s at chunk offset 0x%x", errMalformed, msg, p.pos)
}

func (p *parser) need(n int) error {
	if n < 0 || p.pos+n > p.end || p.pos+n > len(p.c.data) {
		return p.errorf("%d bytes needed, data ends", n)
	}
	return nil
}

func (p *parser) u8() (byte, error) {
	if err := p.need(1); err != nil {
		return 0, err
	}
	p.pos++
	return p.c.data[p.pos-1], nil
}

func (p *parser) u16() (uint16, error) {
	if err := p.need(2); err != nil {
		return 0, err
	}
	p.pos += 2
	return binary.LittleEndian.Uint16(p.c.data[p.pos-2:]), nil
}

func (p *parser) u32() (uint32, error) {
	if err := p.need(4); err != nil {
		return 0, err
	}
	p.pos += 4
	return binary.LittleEndian.Uint32(p.c.data[p.pos-4:]), nil
}

func (p *parser) peek() (byte, error) {
	if err := p.need(1); err != nil {
		return 0, err
	}
	return p.c.data[p.pos], nil
}

// enter bounds the recursion of elements, nested BinXml and templates.
func (p *parser) enter() error {
	p.depth++
	if p.depth > maxNesting {
		return p.errorf("nesting deeper than %d", maxNesting)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// document parses a record's BinXml (or a nested BinXml value) up to its end
// of file token or the end of its data, returning the top-level nodes.
func (p *parser) document() ([]*node, error) {
	var top []*node
	for p.pos < p.end {
		tok, err := p.u8()
		if err != nil {
			return nil, err
		}
		n, done, err := p.topToken(tok)
		if err != nil {
			return nil, err
		}
		if n != nil {
			top = append(top, n)
		}
		if done {
			break
		}
	}
	return top, nil
}

// topToken handles one token at the document level.
func (p *parser) topToken(tok byte) (n *node, done bool, err error) {
	switch tok &^ tokMore {
	case tokEOF:
		return nil, true, nil
	case tokFragment:
		return nil, false, p.skip(3)
	case tokOpenStart:
		n, err = p.element(tok)
	case tokTemplate:
		n, err = p.templateInstance()
	case tokPITarget, tokPIData:
		err = p.pi(tok)
	default:
		err = p.errorf("unexpected token 0x%02x at document level", tok)
	}
	return n, false, err
}

func (p *parser) skip(n int) error {
	if err := p.need(n); err != nil {
		return err
	}
	p.pos += n
	return nil
}

// element parses an element start, its attributes and its content. The
// dependency identifier is absent inside nested BinXml values; like libfwevt,
// the parser tells the two layouts apart by whether the size fits in the
// chunk: read across an identifier (0xffff, or a small index) and the size's
// low half, the value is at least 64 Ki, more than any chunk holds.
func (p *parser) element(tok byte) (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()

	start := p.pos - 1
	if err := p.need(10); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(p.c.data[p.pos:])
	if int64(size) > int64(len(p.c.data)-start-7) {
		p.pos += 2 // dependency identifier
	}
	if _, err := p.u32(); err != nil { // data size
		return nil, err
	}
	name, err := p.nameRef()
	if err != nil {
		return nil, err
	}
	n := &node{kind: kindElement, name: name}
	if tok&tokMore != 0 {
		if err := p.attributes(n); err != nil {
			return nil, err
		}
	}
	return n, p.elementRest(n)
}

// attributes parses the attribute list that follows an element's name.
func (p *parser) attributes(n *node) error {
	if _, err := p.u32(); err != nil { // attribute list size
		return err
	}
	for {
		tok, err := p.peek()
		if err != nil {
			return err
		}
		if tok&^tokMore != tokAttribute {
			return nil
		}
		p.pos++
		name, err := p.nameRef()
		if err != nil {
			return err
		}
		parts, err := p.attrValue()
		if err != nil {
			return err
		}
		n.attrs = append(n.attrs, attr{name: name, parts: parts})
	}
}

// attrValue reads the value tokens of one attribute, up to the next
// attribute or the end of the element start.
func (p *parser) attrValue() ([]*node, error) {
	var parts []*node
	for {
		tok, err := p.peek()
		if err != nil {
			return nil, err
		}
		switch tok &^ tokMore {
		case tokValue, tokNormalSubst, tokOptionalSubs, tokCharRef, tokEntityRef:
			p.pos++
			part, err := p.contentToken(tok)
			if err != nil {
				return nil, err
			}
			parts = append(parts, part)
		default:
			return parts, nil
		}
	}
}

// elementRest parses what follows the attributes: an empty-element close or
// a start close, content and the end element token.
func (p *parser) elementRest(n *node) error {
	tok, err := p.u8()
	if err != nil {
		return err
	}
	switch tok {
	case tokCloseEmpty:
		return nil
	case tokCloseStart:
	default:
		return p.errorf("unexpected token 0x%02x after element start", tok)
	}
	for {
		tok, err := p.u8()
		if err != nil {
			return err
		}
		if tok == tokEndElement {
			return nil
		}
		if tok == tokEOF {
			return p.errorf("end of data inside element %q", n.name)
		}
		kid, err := p.contentToken(tok)
		if err != nil {
			return err
		}
		if kid != nil {
			n.kids = append(n.kids, kid)
		}
	}
}

// contentToken parses one token of element content or attribute value.
func (p *parser) contentToken(tok byte) (*node, error) {
	switch tok &^ tokMore {
	case tokOpenStart:
		return p.element(tok)
	case tokValue:
		return p.valueText()
	case tokCDATA:
		s, err := p.lenString()
		return &node{kind: kindText, text: s}, err
	case tokCharRef:
		v, err := p.u16()
		return &node{kind: kindText, text: string(rune(v))}, err
	case tokEntityRef:
		name, err := p.nameRef()
		return &node{kind: kindText, text: entity(name)}, err
	case tokNormalSubst, tokOptionalSubs:
		return p.substitution(tok)
	case tokTemplate:
		return p.templateInstance()
	case tokPITarget, tokPIData:
		return nil, p.pi(tok)
	case tokFragment:
		return nil, p.skip(3)
	}
	return nil, p.errorf("unexpected token 0x%02x in content", tok)
}

// valueText parses a literal value, which Windows always writes as a UTF-16
// string; other types are rendered like substitution values.
func (p *parser) valueText() (*node, error) {
	typ, err := p.u8()
	if err != nil {
		return nil, err
	}
	if typ != typeString {
		return nil, p.errorf("value token of type 0x%02x", typ)
	}
	s, err := p.lenString()
	return &node{kind: kindText, text: s}, err
}

func (p *parser) substitution(tok byte) (*node, error) {
	idx, err := p.u16()
	if err != nil {
		return nil, err
	}
	if _, err := p.u8(); err != nil { // declared type; the value's own wins
		return nil, err
	}
	opt := tok&^tokMore == tokOptionalSubs
	return &node{kind: kindSubst, index: idx, optional: opt}, nil
}

// pi skips a processing instruction target or data token.
func (p *parser) pi(tok byte) error {
	if tok == tokPITarget {
		_, err := p.nameRef()
		return err
	}
	_, err := p.lenString()
	return err
}

// lenString reads a UTF-16 string prefixed by its length in characters.
func (p *parser) lenString() (string, error) {
	n, err := p.u16()
	if err != nil {
		return "", err
	}
	if err := p.need(2 * int(n)); err != nil {
		return "", err
	}
	s := utf16String(p.c.data[p.pos : p.pos+2*int(n)])
	p.pos += 2 * int(n)
	return s, nil
}

// entity resolves the five predefined XML entities and keeps any other
// reference as written, since BinXml carries no DTD to resolve it against.
func entity(name string) string {
	switch name {
	case "lt":
		return "<"
	case "gt":
		return ">"
	case "amp":
		return "&"
	case "quot":
		return `"`
	case "apos":
		return "'"
	}
	return "&" + name + ";"
}
