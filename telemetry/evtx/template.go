package evtx

import "encoding/binary"

// templateEntry caches one template definition of a chunk, or the error that
// parsing it met, so a broken template costs one parse, not one per record.
type templateEntry struct {
	root *node
	err  error
}

// nameRef reads a name offset and returns the name it points at. A name is
// stored inline, right after its offset, the first time the chunk uses it;
// later uses point back at that copy.
func (p *parser) nameRef() (string, error) {
	off, err := p.u32()
	if err != nil {
		return "", err
	}
	if int(off) != p.pos {
		return p.c.name(off)
	}
	s, size, err := p.c.readName(off)
	if err != nil {
		return "", err
	}
	p.pos += size
	return s, nil
}

// name returns the interned name at a chunk offset, reading it on first use.
func (c *chunk) name(off uint32) (string, error) {
	if s, ok := c.names[off]; ok {
		return s, nil
	}
	s, _, err := c.readName(off)
	return s, err
}

// readName decodes the name structure at off (next offset, hash, length,
// UTF-16 characters, terminator), caches it and reports its size.
func (c *chunk) readName(off uint32) (string, int, error) {
	o := int(off)
	if o < chunkHeaderSize || o+8 > len(c.data) {
		return "", 0, c.errorf("name offset 0x%x outside the chunk", off)
	}
	n := int(binary.LittleEndian.Uint16(c.data[o+6:]))
	size := 8 + 2*n + 2
	if o+size > len(c.data) {
		return "", 0, c.errorf("name at 0x%x runs past the chunk", off)
	}
	if s, ok := c.names[off]; ok {
		return s, size, nil
	}
	if n == 0 {
		// Every element, attribute and entity has a name; an empty one
		// means the offset points at wiped or foreign data.
		return "", 0, c.errorf("%w: empty name at chunk offset 0x%x", errMalformed, off)
	}
	s := utf16String(c.data[o+8 : o+8+2*n])
	c.names[off] = s
	return s, size, nil
}

// templateInstance parses a template instance token: a reference to a
// template definition (inline on first use in the chunk) and its values.
func (p *parser) templateInstance() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()

	if err := p.skip(5); err != nil { // unknown byte, template identifier
		return nil, err
	}
	defOff, err := p.u32()
	if err != nil {
		return nil, err
	}
	if int(defOff) == p.pos {
		if err := p.skipInlineTemplate(); err != nil {
			return nil, err
		}
	}
	root, err := p.template(defOff)
	if err != nil {
		return nil, err
	}
	values, err := p.values()
	if err != nil {
		return nil, err
	}
	return &node{kind: kindInstance, inst: &instance{root: root, values: values}}, nil
}

// skipInlineTemplate moves past a template definition stored at the
// current position: next offset, GUID, data size and data.
func (p *parser) skipInlineTemplate() error {
	if err := p.need(24); err != nil {
		return err
	}
	size := binary.LittleEndian.Uint32(p.c.data[p.pos+20:])
	if int64(size) > int64(p.end-p.pos-24) {
		return p.errorf("template definition of %d bytes runs past the data", size)
	}
	p.pos += 24 + int(size)
	return nil
}

// template returns the parsed definition at a chunk offset, from the
// chunk's cache when an earlier record already used it.
func (p *parser) template(off uint32) (*node, error) {
	if e, ok := p.c.templates[off]; ok {
		return e.root, e.err
	}
	root, err := p.parseTemplate(off)
	p.c.templates[off] = templateEntry{root: root, err: err}
	return root, err
}

func (p *parser) parseTemplate(off uint32) (*node, error) {
	o := int(off)
	if o < chunkHeaderSize || o+24 > len(p.c.data) {
		return nil, p.errorf("template offset 0x%x outside the chunk", off)
	}
	size := int(binary.LittleEndian.Uint32(p.c.data[o+20:]))
	if size > len(p.c.data)-o-24 {
		return nil, p.errorf("template at 0x%x runs past the chunk", off)
	}
	sub := parser{c: p.c, pos: o + 24, end: o + 24 + size, depth: p.depth, cached: true}
	top, err := sub.document()
	if err != nil {
		return nil, err
	}
	return &node{kind: kindElement, kids: top}, nil
}

// values reads a template instance's substitution array: a count, a size and
// type per value, then the data of each value in order.
func (p *parser) values() ([]value, error) {
	count, err := p.u32()
	if err != nil {
		return nil, err
	}
	if count > maxTemplateValues || int64(count)*4 > int64(p.end-p.pos) {
		return nil, p.errorf("%d template values do not fit", count)
	}
	desc := p.pos
	p.pos += 4 * int(count)
	// Values live in the chunk's per-record buffer; a slice handed out
	// stays valid when a later append moves the buffer.
	var values []value
	if p.cached {
		values = make([]value, count)
	} else {
		start := len(p.c.values)
		p.c.values = append(p.c.values, make([]value, count)...)
		values = p.c.values[start:]
	}
	for i := range values {
		d := p.c.data[desc+4*i:]
		size := int(binary.LittleEndian.Uint16(d))
		if err := p.need(size); err != nil {
			return nil, err
		}
		values[i] = value{typ: d[2], off: p.pos, data: p.c.data[p.pos : p.pos+size]}
		p.pos += size
	}
	return values, nil
}
