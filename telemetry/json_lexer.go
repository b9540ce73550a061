package telemetry

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonNode is one value of a parsed JSON record. Objects and arrays are nodes
// too; their members follow them with parent set to their index, in the order
// of the input, so that field order survives.
type jsonNode struct {
	parent     int32
	kind       byte // 's' string, 'n' number, 't' true, 'f' false, 'z' null, 'o' object, 'a' array
	esc        bool // string value holds escapes
	keyEsc     bool
	underField bool // an ancestor is already taken whole as a field
	// Offsets into the record rather than slices: a node holds no pointer,
	// so filling the node list costs no GC write barriers.
	keyStart, keyEnd   int32 // key without quotes; empty for array elements
	valStart, valEnd   int32 // string content without quotes, number text, or the raw object/array
	pathStart, pathEnd int32 // dotted path of the node in jsonRecord.paths
}

func (r *jsonRecord) key(n *jsonNode) []byte { return r.b[n.keyStart:n.keyEnd] }
func (r *jsonRecord) val(n *jsonNode) []byte { return r.b[n.valStart:n.valEnd] }

// jsonRecord holds one parsed record: a flat list of nodes over the input
// bytes, reused from record to record.
type jsonRecord struct {
	b     []byte
	i     int
	nodes []jsonNode
	paths []byte
	depth int
}

var errJSONSyntax = errors.New("invalid JSON")

// parse reads one top-level object from b, which must hold nothing else but
// white space.
func (r *jsonRecord) parse(b []byte) error {
	r.b, r.i, r.nodes, r.paths, r.depth = b, 0, r.nodes[:0], r.paths[:0], 0
	r.space()
	if r.i >= len(r.b) || r.b[r.i] != '{' {
		return fmt.Errorf("%w: record is not an object", errJSONSyntax)
	}
	if err := r.object(-1); err != nil {
		return err
	}
	r.space()
	if r.i != len(r.b) {
		return fmt.Errorf("%w: data after the object at byte %d", errJSONSyntax, r.i)
	}
	return nil
}

func (r *jsonRecord) space() {
	for r.i < len(r.b) && decSpace(r.b[r.i]) {
		r.i++
	}
}

// object reads {…} at r.i; its members get parent.
func (r *jsonRecord) object(parent int32) error {
	if r.depth++; r.depth > MaxDepth {
		return ErrTooDeep
	}
	r.i++
	r.space()
	if r.i < len(r.b) && r.b[r.i] == '}' {
		r.i++
		r.depth--
		return nil
	}
	for {
		r.space()
		ks, ke, esc, err := r.str()
		if err != nil {
			return fmt.Errorf("object key: %w", err)
		}
		r.space()
		if r.i >= len(r.b) || r.b[r.i] != ':' {
			return fmt.Errorf("%w: expected ':' at byte %d", errJSONSyntax, r.i)
		}
		r.i++
		if err := r.value(parent, ks, ke, esc); err != nil {
			return err
		}
		if done, err := r.next('}'); done || err != nil {
			r.depth--
			return err
		}
	}
}

// next consumes ',' (more members) or the closing byte (done).
func (r *jsonRecord) next(closing byte) (done bool, err error) {
	r.space()
	if r.i >= len(r.b) {
		return false, fmt.Errorf("%w: unexpected end of record", errJSONSyntax)
	}
	switch r.b[r.i] {
	case ',':
		r.i++
		return false, nil
	case closing:
		r.i++
		return true, nil
	}
	return false, fmt.Errorf("%w: expected ',' or '%c' at byte %d", errJSONSyntax, closing, r.i)
}

// array reads […]; its elements get parent and no key.
func (r *jsonRecord) array(parent int32) error {
	if r.depth++; r.depth > MaxDepth {
		return ErrTooDeep
	}
	r.i++
	r.space()
	if r.i < len(r.b) && r.b[r.i] == ']' {
		r.i++
		r.depth--
		return nil
	}
	for {
		if err := r.value(parent, 0, 0, false); err != nil {
			return err
		}
		if done, err := r.next(']'); done || err != nil {
			r.depth--
			return err
		}
	}
}

// value reads any value and appends its node.
func (r *jsonRecord) value(parent int32, keyStart, keyEnd int32, keyEsc bool) error {
	r.space()
	if r.i >= len(r.b) {
		return fmt.Errorf("%w: unexpected end of record", errJSONSyntax)
	}
	if len(r.nodes) >= 4*MaxFields {
		return fmt.Errorf("more than %d values in one record", 4*MaxFields)
	}
	idx := int32(len(r.nodes))
	r.nodes = append(r.nodes, jsonNode{parent: parent, keyStart: keyStart, keyEnd: keyEnd,
		keyEsc: keyEsc})
	r.setPath(idx)
	n := &r.nodes[idx]
	start := r.i
	switch c := r.b[r.i]; {
	case c == '"':
		vs, ve, esc, err := r.str()
		n.kind, n.valStart, n.valEnd, n.esc = 's', vs, ve, esc
		return err
	case c == '{':
		n.kind = 'o'
		err := r.object(idx)
		r.nodes[idx].valStart, r.nodes[idx].valEnd = int32(start), int32(r.i)
		return err
	case c == '[':
		n.kind = 'a'
		err := r.array(idx)
		r.nodes[idx].valStart, r.nodes[idx].valEnd = int32(start), int32(r.i)
		return err
	case c == 't':
		return r.literal(n, "true", 't')
	case c == 'f':
		return r.literal(n, "false", 'f')
	case c == 'n':
		return r.literal(n, "null", 'z')
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number(n)
	}
	return fmt.Errorf("%w: unexpected %q at byte %d", errJSONSyntax, r.b[r.i], r.i)
}

// setPath gives node idx its dotted path: the parent's path, a dot, its key.
func (r *jsonRecord) setPath(idx int32) {
	n := &r.nodes[idx]
	start := int32(len(r.paths))
	if n.parent >= 0 {
		p := &r.nodes[n.parent]
		r.paths = append(r.paths, r.paths[p.pathStart:p.pathEnd]...)
		r.paths = append(r.paths, '.')
	}
	if n.keyEsc {
		r.paths = appendJSONString(r.paths, r.key(n))
	} else {
		r.paths = append(r.paths, r.key(n)...)
	}
	n.pathStart, n.pathEnd = start, int32(len(r.paths))
}

func (r *jsonRecord) path(n *jsonNode) []byte { return r.paths[n.pathStart:n.pathEnd] }

func (r *jsonRecord) literal(n *jsonNode, word string, kind byte) error {
	if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
		return fmt.Errorf("%w: bad literal at byte %d", errJSONSyntax, r.i)
	}
	n.kind, n.valStart, n.valEnd = kind, int32(r.i), int32(r.i+len(word))
	r.i += len(word)
	return nil
}

// number reads a JSON number, keeping its text.
func (r *jsonRecord) number(n *jsonNode) error {
	start := r.i
	if r.b[r.i] == '-' {
		r.i++
	}
	digits := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
			r.i++
			continue
		}
		break
	}
	if r.i == digits || r.b[digits] < '0' || r.b[digits] > '9' || r.i-start > 64 {
		return fmt.Errorf("%w: bad number at byte %d", errJSONSyntax, start)
	}
	n.kind, n.valStart, n.valEnd = 'n', int32(start), int32(r.i)
	return nil
}

// str reads a string at r.i and returns the offsets of its raw content and
// whether it holds escapes. Control characters are rejected as JSON
// requires.
func (r *jsonRecord) str() (start, end int32, esc bool, err error) {
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return 0, 0, false, fmt.Errorf("%w: expected string at byte %d", errJSONSyntax, r.i)
	}
	from := r.i + 1
	for i := from; i < len(r.b); i++ {
		for i < len(r.b) && jsonPlain[r.b[i]] {
			i++ // the common bytes, one table load each
		}
		if i >= len(r.b) {
			break
		}
		switch c := r.b[i]; {
		case c == '"':
			r.i = i + 1
			if i-from > MaxFieldSize {
				return 0, 0, false, ErrFieldTooLarge
			}
			return int32(from), int32(i), esc, nil
		case c == '\\':
			esc = true
			i++
		case c < 0x20:
			return 0, 0, false, fmt.Errorf("%w: control character in string at byte %d",
				errJSONSyntax, i)
		}
	}
	return 0, 0, false, fmt.Errorf("%w: unterminated string", errJSONSyntax)
}

// jsonPlain marks the bytes a string body holds as they are: everything but
// the quote, the backslash and control characters.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends the decoded form of a raw JSON string body.
// Invalid escapes and lone surrogates become U+FFFD.
func appendJSONString(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		if i+1 >= len(s) {
			return utf8.AppendRune(dst, utf8.RuneError)
		}
		i++
		switch s[i] {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			var r rune
			r, i = jsonUnicode(s, i)
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/', and anything invalid kept literally
			dst = append(dst, s[i])
		}
	}
	return dst
}

// jsonUnicode decodes \uXXXX (and a following low surrogate) whose 'u' is at
// s[i]; it returns the rune and the index of the last byte used.
func jsonUnicode(s []byte, i int) (rune, int) {
	r1, ok := hex4(s, i+1)
	if !ok {
		return utf8.RuneError, i
	}
	i += 4
	if !utf16.IsSurrogate(r1) {
		return r1, i
	}
	if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
		if r2, ok := hex4(s, i+3); ok {
			if r := utf16.DecodeRune(r1, r2); r != utf8.RuneError {
				return r, i + 6
			}
		}
	}
	return utf8.RuneError, i
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		d, ok := hexDigit(c)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}
