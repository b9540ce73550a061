package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// XMLReader decodes Windows event XML: Get-WinEvent's ToXml() and wevtutil's
// one-event-per-line form with single-quoted attributes, and the
// pretty-printed double-quoted form of evtxexport and python-evtx, with or
// without an <Events> root.
//
// It is a streaming scanner over a bounded buffer, not a general XML parser:
// it frames each <Event> element, reads System, EventData and UserData, and
// skips RenderingInfo and anything else. Entity and character references and
// CDATA are decoded; DOCTYPE and ENTITY declarations are rejected, never
// expanded; nesting is capped at MaxDepth, records at MaxRecordSize, values
// at MaxFieldSize; invalid UTF-8 is replaced with U+FFFD. A malformed record
// is reported as a *RecordError and decoding resumes at the next <Event.
//
// Field names: <Data Name="X"> gives field X; an unnamed <Data> (old-style
// EventData) gives "param1", "param2", … by its position among the unnamed
// Data elements, the names NXLog and the message templates (%1, %2) use;
// <Binary> gives the field "Binary". Under UserData, the children of each
// child element become fields named by their local names, in order.
type XMLReader struct {
	name     string
	w        *recordWindow
	names    interner // field names
	vals     interner // hosts, channels, providers, SIDs
	hosts    hostKeys
	channels channelNames
	p        xmlParser
	// resyncing is set after a bad record until the next <Event: the bytes
	// in between belong to the record already reported.
	resyncing bool
	// absent[i]-1 is an offset after which terminator i ("]]>", "-->",
	// "?>", "]>") is known not to occur; 0 means unknown.
	absent [4]int64
}

// NewXMLReader returns a reader of the event XML in r. name is used in
// errors ("Security.xml", "logs.zip!Security.xml").
func NewXMLReader(name string, r io.Reader) *XMLReader {
	x := &XMLReader{name: name, w: newRecordWindow(r)}
	x.p.r = x
	return x
}

// Next returns the next event, a *RecordError for a skipped record, or io.EOF.
func (x *XMLReader) Next() (*Event, error) {
	for {
		if err := x.seekEvent(); err != nil {
			return nil, err
		}
		ev, n, err := x.p.record(x.w.data())
		if errors.Is(err, errXMLShort) {
			if x.w.fill() {
				continue
			}
			if x.w.err != nil {
				return nil, x.w.endErr()
			}
			err = io.ErrUnexpectedEOF
			if x.w.full() {
				err = ErrRecordTooLarge
			}
		}
		if err != nil {
			rerr := x.recordError(err)
			x.w.advance(1) // resync: search for the next <Event after this one
			x.resyncing = true
			return nil, rerr
		}
		x.w.advance(n)
		return ev, nil
	}
}

func (x *XMLReader) recordError(err error) error {
	pos := fmt.Sprintf("line %d (offset %d)", x.w.line, x.w.offset)
	return &RecordError{File: x.name, Pos: pos, Err: fmt.Errorf("decode event: %w", err)}
}

// seekEvent consumes input up to the next "<Event" start tag, skipping the
// prolog, comments, processing instructions, the <Events> root and stray text.
func (x *XMLReader) seekEvent() error {
	for {
		d := x.w.data()
		i := bytes.IndexByte(d, '<')
		if i < 0 {
			x.w.advance(len(d))
			if !x.w.fill() {
				return x.w.endErr()
			}
			continue
		}
		x.w.advance(i)
		if d = x.w.data(); len(d) < 16 && !x.w.eof {
			x.w.fill()
			continue
		}
		switch {
		case isEventStart(d, x.w.eof):
			x.resyncing = false
			return nil
		case bytes.HasPrefix(d, []byte("<!--")):
			x.skipPast(4, "-->")
		case bytes.HasPrefix(d, []byte("<?")):
			x.skipPast(2, "?>")
		case bytes.HasPrefix(d, []byte("<!")) && x.resyncing:
			x.w.advance(2) // part of the record already reported
		case bytes.HasPrefix(d, []byte("<!")):
			rerr := x.recordError(ErrDoctype)
			x.skipDeclaration()
			return rerr
		default:
			x.w.advance(1)
		}
	}
}

// index returns the index of terminator end in the unconsumed input after
// its first from bytes, relative to from, or -1.
//
// Once the whole input is buffered, a terminator found missing after some
// offset is missing after every later offset too. Remembering that keeps
// resynchronisation linear: without it, input such as "<Event><![CDATA["
// repeated would rescan the rest of the file once per repetition.
func (x *XMLReader) index(from int, end string) int {
	at := x.w.offset + int64(from)
	slot := terminatorSlot(end)
	if x.w.eof && x.absent[slot] > 0 && at >= x.absent[slot]-1 {
		return -1
	}
	j := bytes.Index(x.w.data()[from:], []byte(end))
	if j < 0 && x.w.eof && (x.absent[slot] == 0 || at < x.absent[slot]-1) {
		x.absent[slot] = at + 1
	}
	return j
}

// terminatorSlot numbers the terminators index remembers.
func terminatorSlot(end string) int {
	switch end {
	case "]]>":
		return 0
	case "-->":
		return 1
	case "?>":
		return 2
	}
	return 3
}

// skipDeclaration consumes a rejected declaration, its internal subset
// ("[…]>") included, so that the entities inside are not reported again.
func (x *XMLReader) skipDeclaration() {
	d := x.w.data()
	gt := bytes.IndexByte(d, '>')
	if br := bytes.IndexByte(d, '['); br >= 0 && (gt < 0 || br < gt) {
		x.skipPast(br, "]>")
		return
	}
	x.skipPast(2, ">")
}

// skipPast consumes a construct that ends with end, reading more input as
// needed. One that never ends within MaxRecordSize is stepped over by one
// byte so the scan goes on inside it.
func (x *XMLReader) skipPast(from int, end string) {
	for {
		if j := x.index(from, end); j >= 0 {
			x.w.advance(from + j + len(end))
			return
		}
		if x.w.full() || !x.w.fill() {
			x.w.advance(1)
			return
		}
	}
}

// isEventStart reports whether d begins with an <Event> start tag, with or
// without a namespace prefix (and not <EventData> or <Events>).
func isEventStart(d []byte, eof bool) bool {
	n := nameEnd(d, 1)
	if n <= 1 || string(localName(d[1:n])) != "Event" {
		return false
	}
	if n >= len(d) {
		return eof // a record cut off in its tag: decoding reports it
	}
	switch d[n] {
	case ' ', '\t', '\r', '\n', '>', '/':
		return true
	}
	return false
}

// errXMLShort means the record continues past the bytes at hand.
var errXMLShort = errors.New("record continues past the buffered input")

// xmlParser decodes one <Event> element held whole in b.
type xmlParser struct {
	r       *XMLReader
	b       []byte
	i       int
	depth   int
	unnamed int
	inEvent bool // past the record's own <Event> start tag
	arena   fieldArena
	scratch []byte
}

// xmlToken is one node: text, CDATA, a start tag or an end tag.
type xmlToken struct {
	kind  byte // 't' text, 'c' CDATA, 's' start tag, 'e' end tag
	name  []byte
	attrs []byte // raw attribute text of a start tag
	empty bool   // start tag closed with "/>"
	data  []byte // raw text or CDATA content
}

// record decodes the <Event> element at the start of b and returns the event
// and the number of bytes it spanned.
func (p *xmlParser) record(b []byte) (*Event, int, error) {
	p.b, p.i, p.depth, p.unnamed = b, 0, 0, 0
	p.arena.reset()
	p.inEvent = false
	t, err := p.token()
	if err != nil {
		return nil, 0, err
	}
	if t.empty {
		return nil, 0, errors.New("empty <Event/> element")
	}
	p.inEvent = true
	ev := &Event{}
	if err := p.eventContent(ev, t.name); err != nil {
		return nil, 0, err
	}
	ev.Fields = p.arena.fields()
	return ev, p.i, nil
}

// eventContent reads the children of <Event> up to its end tag.
func (p *xmlParser) eventContent(ev *Event, name []byte) error {
	sawSystem := false
	for {
		t, err := p.token()
		if err != nil {
			return err
		}
		switch t.kind {
		case 'e':
			if !bytes.Equal(t.name, name) {
				return fmt.Errorf("end tag </%s> closes <%s>", decClip(t.name), decClip(name))
			}
			if !sawSystem {
				return errors.New("event has no System element")
			}
			return nil
		case 's':
			if err := p.eventChild(ev, t, &sawSystem); err != nil {
				return err
			}
		}
	}
}

func (p *xmlParser) eventChild(ev *Event, t xmlToken, sawSystem *bool) error {
	if t.empty {
		return nil
	}
	switch string(localName(t.name)) {
	case "System":
		*sawSystem = true
		return p.nested(t.name, func(c xmlToken) error { return p.systemChild(ev, c) })
	case "EventData":
		return p.nested(t.name, p.eventDataChild)
	case "UserData":
		return p.nested(t.name, p.userDataChild)
	}
	return p.skip(t.name) // RenderingInfo, ProcessingErrorData, DebugData
}

// nested calls child for each child element of the element named name, whose
// start tag was just read, and consumes its end tag. Text is ignored.
func (p *xmlParser) nested(name []byte, child func(xmlToken) error) error {
	if err := p.enter(); err != nil {
		return err
	}
	for {
		t, err := p.token()
		if err != nil {
			return err
		}
		switch t.kind {
		case 'e':
			p.depth--
			return matchEnd(t.name, name)
		case 's':
			if err := child(t); err != nil {
				return err
			}
		}
	}
}

func (p *xmlParser) enter() error {
	p.depth++
	if p.depth >= MaxDepth {
		return ErrTooDeep
	}
	return nil
}

func matchEnd(got, want []byte) error {
	if !bytes.Equal(got, want) {
		return fmt.Errorf("end tag </%s> closes <%s>", decClip(got), decClip(want))
	}
	return nil
}

// systemChild reads one child of <System> into the envelope.
func (p *xmlParser) systemChild(ev *Event, t xmlToken) error {
	var err error
	switch string(localName(t.name)) {
	case "Provider":
		ev.Provider = p.r.vals.bytes(p.attr(t.attrs, "Name"))
		return p.finish(t)
	case "TimeCreated":
		err = p.timeCreated(ev, p.attr(t.attrs, "SystemTime"))
		return errors.Join(err, p.finish(t))
	case "Execution":
		ev.ProcessID, err = optUint32(p.attr(t.attrs, "ProcessID"), "Execution@ProcessID")
		if err == nil {
			ev.ThreadID, err = optUint32(p.attr(t.attrs, "ThreadID"), "Execution@ThreadID")
		}
		return errors.Join(err, p.finish(t))
	case "Security":
		ev.UserID = p.r.vals.bytes(p.attr(t.attrs, "UserID"))
		return p.finish(t)
	case "EventID", "Version", "EventRecordID", "Channel", "Computer":
		return p.systemText(ev, t)
	}
	return p.finish(t)
}

// systemText reads a System child whose value is its text.
func (p *xmlParser) systemText(ev *Event, t xmlToken) error {
	var err error
	v := p.scratch[:0]
	if !t.empty {
		if v, err = p.text(t.name, v); err != nil {
			return err
		}
		p.scratch = v
	}
	switch string(localName(t.name)) {
	case "EventID":
		var id uint64
		id, err = decodeUint(v, 32)
		ev.EventID = uint32(id)
	case "Version":
		var ver uint64
		ver, err = optUint(v, 8)
		ev.Version = uint8(ver)
	case "EventRecordID":
		ev.RecordID, err = optUint(v, 64)
	case "Channel":
		ev.Channel = p.r.channels.canonical(v)
	case "Computer":
		ev.Host = p.r.vals.bytes(v)
		ev.HostKey = p.r.hosts.key(ev.Host)
	}
	if err != nil {
		return fmt.Errorf("element %s: %w", localName(t.name), err)
	}
	return nil
}

// timeCreated sets the event time from TimeCreated@SystemTime, which Windows
// defines as UTC even when a renderer (python-evtx) drops the "Z".
func (p *xmlParser) timeCreated(ev *Event, v []byte) error {
	if len(v) == 0 {
		return nil
	}
	t, _, err := decodeTimestamp(v)
	if err != nil {
		return fmt.Errorf("TimeCreated@SystemTime: %w", err)
	}
	ev.Time, ev.TimeSource = t, TimeUTC
	return nil
}

// eventDataChild reads one <Data>, <Binary> or other child of <EventData>.
func (p *xmlParser) eventDataChild(t xmlToken) error {
	var name string
	switch local := localName(t.name); string(local) {
	case "Data":
		if raw, ok := p.rawAttr(t.attrs, "Name"); ok {
			name = p.r.names.bytes(p.unescapeAttr(raw))
		} else {
			p.unnamed++
			name = p.r.names.str("param" + strconv.Itoa(p.unnamed))
		}
	default: // Binary, and anything a newer schema adds
		name = p.r.names.bytes(local)
	}
	return p.field(name, t)
}

// userDataChild flattens one child of <UserData>: its own children become
// fields named by their local names.
func (p *xmlParser) userDataChild(t xmlToken) error {
	if t.empty {
		return nil
	}
	return p.nested(t.name, func(c xmlToken) error {
		return p.field(p.r.names.bytes(localName(c.name)), c)
	})
}

// field appends the text of the element t as the field name.
func (p *xmlParser) field(name string, t xmlToken) error {
	start := len(p.arena.vals)
	if !t.empty {
		v, err := p.text(t.name, p.arena.vals)
		if err != nil {
			return err
		}
		p.arena.vals = v
	}
	return p.arena.add(name, start)
}

// text appends the decoded character data of the element named name, whose
// start tag was just read, to dst, and consumes its end tag. Child elements
// are skipped.
func (p *xmlParser) text(name, dst []byte) ([]byte, error) {
	start := len(dst)
	for {
		t, err := p.token()
		if err != nil {
			return dst, err
		}
		switch t.kind {
		case 't':
			if dst, err = appendUnescaped(dst, t.data); err != nil {
				return dst, err
			}
		case 'c':
			dst = append(dst, t.data...)
		case 's':
			if err := p.finish(t); err != nil {
				return dst, err
			}
		case 'e':
			return dst, matchEnd(t.name, name)
		}
		if len(dst)-start > MaxFieldSize {
			return dst, fmt.Errorf("element %s: %w", decClip(localName(name)), ErrFieldTooLarge)
		}
	}
}

// finish consumes the rest of element t: nothing for <x/>, else its content.
func (p *xmlParser) finish(t xmlToken) error {
	if t.empty {
		return nil
	}
	return p.skip(t.name)
}

// skip consumes the content and end tag of the element named name.
func (p *xmlParser) skip(name []byte) error {
	return p.nested(name, p.finish)
}

// token reads the next node at p.i, skipping comments and processing
// instructions.
func (p *xmlParser) token() (xmlToken, error) {
	for {
		if p.i >= len(p.b) {
			return xmlToken{}, errXMLShort
		}
		if p.b[p.i] != '<' {
			j := bytes.IndexByte(p.b[p.i:], '<')
			if j < 0 {
				return xmlToken{}, errXMLShort
			}
			t := xmlToken{kind: 't', data: p.b[p.i : p.i+j]}
			p.i += j
			return t, nil
		}
		rest := p.b[p.i:]
		switch {
		case len(rest) < 2:
			return xmlToken{}, errXMLShort
		case rest[1] == '/':
			return p.endTag()
		case rest[1] == '?':
			if err := p.skipTo(2, "?>"); err != nil {
				return xmlToken{}, err
			}
		case rest[1] == '!':
			t, ok, err := p.bang(rest)
			if ok || err != nil {
				return t, err
			}
		default:
			return p.startTag()
		}
	}
}

// bang reads a "<!" construct: a comment (skipped, ok false), CDATA, or a
// declaration, which is rejected.
func (p *xmlParser) bang(rest []byte) (xmlToken, bool, error) {
	const cdata = "<![CDATA["
	switch {
	case len(rest) < len(cdata):
		return xmlToken{}, false, errXMLShort
	case bytes.HasPrefix(rest, []byte("<!--")):
		return xmlToken{}, false, p.skipTo(4, "-->")
	case bytes.HasPrefix(rest, []byte(cdata)):
		j := p.r.index(p.i+len(cdata), "]]>")
		if j < 0 {
			return xmlToken{}, false, errXMLShort
		}
		t := xmlToken{kind: 'c', data: rest[len(cdata) : len(cdata)+j]}
		p.i += len(cdata) + j + 3
		return t, true, nil
	}
	return xmlToken{}, false, ErrDoctype
}

func (p *xmlParser) skipTo(from int, end string) error {
	j := p.r.index(p.i+from, end)
	if j < 0 {
		return errXMLShort
	}
	p.i += from + j + len(end)
	return nil
}

// startTag reads "<name attr='v' …>" or "…/>".
func (p *xmlParser) startTag() (xmlToken, error) {
	b, i := p.b, p.i+1
	n := nameEnd(b, i)
	if n >= len(b) {
		return xmlToken{}, errXMLShort // the name may go on
	}
	if n == i {
		return xmlToken{}, fmt.Errorf("bad start tag at byte %d", p.i)
	}
	t := xmlToken{kind: 's', name: b[i:n]}
	if p.depth+1 >= MaxDepth {
		return t, ErrTooDeep
	}
	if p.inEvent && string(localName(t.name)) == "Event" {
		// Events never nest; failing here keeps resynchronisation linear.
		return t, errors.New("<Event> inside an event")
	}
	end, empty, err := scanAttrs(b, n)
	if err != nil {
		return t, err
	}
	t.attrs, t.empty = b[n:end], empty
	p.i = end + 1
	if empty {
		p.i++
	}
	return t, nil
}

// scanAttrs checks the attribute list from i and returns the index of the
// closing '>' or "/>".
func scanAttrs(b []byte, i int) (end int, empty bool, err error) {
	for {
		for i < len(b) && decSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			return 0, false, errXMLShort
		}
		switch b[i] {
		case '>':
			return i, false, nil
		case '/':
			if i+1 >= len(b) {
				return 0, false, errXMLShort
			}
			if b[i+1] != '>' {
				return 0, false, fmt.Errorf("bad '/' in tag at byte %d", i)
			}
			return i, true, nil
		}
		if i, err = scanAttr(b, i); err != nil {
			return 0, false, err
		}
	}
}

// scanAttr checks one name="value" from i and returns the index after it.
func scanAttr(b []byte, i int) (int, error) {
	n := nameEnd(b, i)
	if n == i {
		return 0, fmt.Errorf("bad attribute at byte %d", i)
	}
	for n < len(b) && decSpace(b[n]) {
		n++
	}
	if n >= len(b) {
		return 0, errXMLShort
	}
	if b[n] != '=' {
		return 0, fmt.Errorf("attribute without value at byte %d", i)
	}
	n++
	for n < len(b) && decSpace(b[n]) {
		n++
	}
	if n >= len(b) {
		return 0, errXMLShort
	}
	q := b[n]
	if q != '"' && q != '\'' {
		return 0, fmt.Errorf("unquoted attribute value at byte %d", n)
	}
	j := bytes.IndexByte(b[n+1:], q)
	if j < 0 {
		return 0, errXMLShort
	}
	if bytes.IndexByte(b[n+1:n+1+j], '<') >= 0 {
		return 0, fmt.Errorf("'<' in attribute value at byte %d", n)
	}
	end := n + 1 + j + 1
	if end < len(b) && !decSpace(b[end]) && b[end] != '>' && b[end] != '/' {
		return 0, fmt.Errorf("no space after attribute at byte %d", end)
	}
	return end, nil
}

// endTag reads "</name>".
func (p *xmlParser) endTag() (xmlToken, error) {
	b, i := p.b, p.i+2
	n := nameEnd(b, i)
	for n < len(b) && decSpace(b[n]) {
		n++
	}
	if n >= len(b) {
		return xmlToken{}, errXMLShort
	}
	if b[n] != '>' || n == i {
		return xmlToken{}, fmt.Errorf("bad end tag at byte %d", p.i)
	}
	t := xmlToken{kind: 'e', name: trimRightSpace(b[i:n])}
	p.i = n + 1
	return t, nil
}

// nameEnd returns the index after the XML name starting at i.
func nameEnd(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case ' ', '\t', '\r', '\n', '/', '>', '=', '<', '"', '\'':
			return i
		}
	}
	return i
}

func trimRightSpace(b []byte) []byte {
	for len(b) > 0 && decSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func localName(name []byte) []byte {
	if i := bytes.LastIndexByte(name, ':'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// rawAttr finds attribute key in a checked attribute list and returns its
// value undecoded.
func (p *xmlParser) rawAttr(attrs []byte, key string) ([]byte, bool) {
	i := 0
	for i < len(attrs) {
		for i < len(attrs) && decSpace(attrs[i]) {
			i++
		}
		n := nameEnd(attrs, i)
		if n >= len(attrs) {
			return nil, false
		}
		name := attrs[i:n]
		q := bytes.IndexAny(attrs[n:], `"'`) + n
		j := bytes.IndexByte(attrs[q+1:], attrs[q]) + q + 1
		if string(name) == key {
			return attrs[q+1 : j], true
		}
		i = j + 1
	}
	return nil, false
}

// attr returns the decoded value of attribute key, or nil.
func (p *xmlParser) attr(attrs []byte, key string) []byte {
	raw, _ := p.rawAttr(attrs, key)
	return p.unescapeAttr(raw)
}

func (p *xmlParser) unescapeAttr(raw []byte) []byte {
	if bytes.IndexByte(raw, '&') < 0 {
		return raw
	}
	v, err := appendUnescaped(p.scratch[:0], raw)
	if err != nil {
		return raw // an undecodable attribute keeps its raw text
	}
	p.scratch = v
	return v
}

// appendUnescaped appends text to dst with entity and character references
// decoded. Only the five predefined entities exist: declarations are
// rejected, so any other name is an error.
func appendUnescaped(dst, text []byte) ([]byte, error) {
	for {
		i := bytes.IndexByte(text, '&')
		if i < 0 {
			return append(dst, text...), nil
		}
		dst = append(dst, text[:i]...)
		text = text[i:]
		j := bytes.IndexByte(text, ';')
		if j < 0 || j > 12 {
			return dst, fmt.Errorf("unterminated reference %q", decClip(text))
		}
		var err error
		if dst, err = appendReference(dst, text[1:j]); err != nil {
			return dst, err
		}
		text = text[j+1:]
	}
}

func appendReference(dst, ref []byte) ([]byte, error) {
	switch string(ref) {
	case "lt":
		return append(dst, '<'), nil
	case "gt":
		return append(dst, '>'), nil
	case "amp":
		return append(dst, '&'), nil
	case "apos":
		return append(dst, '\''), nil
	case "quot":
		return append(dst, '"'), nil
	}
	if len(ref) < 2 || ref[0] != '#' {
		return dst, fmt.Errorf("undefined entity &%s;", decClip(ref))
	}
	var v uint64
	var err error
	if ref[1] == 'x' || ref[1] == 'X' {
		v, err = decodeUint(append([]byte("0x"), ref[2:]...), 32)
	} else {
		v, err = decodeUint(ref[1:], 32)
	}
	if err != nil {
		return dst, fmt.Errorf("bad character reference &%s;", decClip(ref))
	}
	r := rune(v)
	if v == 0 || v > utf8.MaxRune || !utf8.ValidRune(r) {
		r = utf8.RuneError
	}
	return utf8.AppendRune(dst, r), nil
}

// optUint parses a number that may be absent (empty means 0).
func optUint(b []byte, bits int) (uint64, error) {
	if len(decTrim(b)) == 0 {
		return 0, nil
	}
	return decodeUint(b, bits)
}

func optUint32(b []byte, what string) (uint32, error) {
	v, err := optUint(b, 32)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return uint32(v), nil
}
