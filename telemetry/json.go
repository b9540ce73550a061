package telemetry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// JSONReader decodes Windows events held as JSON, one record per line
// (NDJSON) or as a JSON array or a series of pretty-printed objects. Each
// record's flavour is recognised from its keys, so files may mix them:
//
//   - svcharness's own envelope NDJSON (a "time_source" key; see
//     AppendEventJSON), read back exactly as written;
//   - Winlogbeat 7+ / Elastic ECS (a "winlog" object or "winlog.*" keys);
//   - Winlogbeat 6 (an "event_data" object or a "log_name" key);
//   - NXLog im_msvistalog flattened to one object (an "EventID" key), as in
//     the OTRF Security-Datasets (Mordor) recordings.
//
// The tokenizer is hand-written: it keeps key order (event fields stay in the
// order of the record) and slices the input instead of building maps. Lines
// are capped at MaxRecordSize and values at MaxFieldSize; a longer line is
// skipped without being held in memory. Invalid UTF-8 is replaced with U+FFFD.
type JSONReader struct {
	name   string
	w      *recordWindow
	framed bool // records are framed by braces, not by lines
	begun  bool
	rec    jsonRecord
	m      jsonMapper
}

// NewJSONReader returns a reader of the JSON records in r. name is used in
// errors.
func NewJSONReader(name string, r io.Reader) *JSONReader {
	j := &JSONReader{name: name, w: newRecordWindow(r)}
	return j
}

// Next returns the next event, a *RecordError for a skipped record, or io.EOF.
func (j *JSONReader) Next() (*Event, error) {
	if !j.begun {
		j.begun = true
		j.framed = j.detectFramed()
	}
	for {
		rec, line, off, err := j.frame()
		if err != nil {
			return nil, err
		}
		if len(decTrim(rec)) == 0 {
			continue
		}
		ev, err := j.decode(rec)
		if err != nil {
			pos := fmt.Sprintf("line %d (offset %d)", line, off)
			return nil, &RecordError{File: j.name, Pos: pos, Err: err}
		}
		return ev, nil
	}
}

func (j *JSONReader) decode(rec []byte) (*Event, error) {
	if err := j.rec.parse(rec); err != nil {
		return nil, fmt.Errorf("decode JSON record: %w", err)
	}
	ev, err := j.m.event(&j.rec)
	if err != nil {
		return nil, fmt.Errorf("decode JSON record: %w", err)
	}
	return ev, nil
}

// detectFramed looks at the start of the input: a '[' or a first line that
// holds only '{' means records span lines.
func (j *JSONReader) detectFramed() bool {
	for {
		d := j.w.data()
		d = bytes.TrimLeft(d, " \t\r\n\ufeff")
		if len(d) == 0 {
			if !j.w.fill() {
				return false
			}
			continue
		}
		if d[0] == '[' {
			return true
		}
		nl := bytes.IndexByte(d, '\n')
		if nl < 0 && !j.w.eof && !j.w.full() {
			j.w.fill()
			continue
		}
		return d[0] == '{' && nl > 0 && len(decTrim(d[:nl])) == 1
	}
}

// frame returns the next record's bytes, its line and offset. The bytes stay
// valid until the next call.
func (j *JSONReader) frame() (rec []byte, line int, off int64, err error) {
	if j.framed {
		return j.nextObject()
	}
	return j.nextLine()
}

// nextLine returns the next line without its newline. A line longer than
// MaxRecordSize is consumed in pieces and reported as a *RecordError.
func (j *JSONReader) nextLine() ([]byte, int, int64, error) {
	scanned := 0
	for {
		d := j.w.data()
		if i := bytes.IndexByte(d[scanned:], '\n'); i >= 0 {
			line, off := j.w.line, j.w.offset
			j.w.advance(scanned + i + 1)
			if scanned+i > MaxRecordSize {
				return nil, 0, 0, j.tooLong(line, off)
			}
			return d[:scanned+i], line, off, nil
		}
		scanned = len(d)
		if j.w.full() {
			return nil, 0, 0, j.skipLongLine()
		}
		if !j.w.fill() {
			if len(d) == 0 {
				return nil, 0, 0, j.w.endErr()
			}
			line, off := j.w.line, j.w.offset
			j.w.advance(len(d))
			return d, line, off, nil
		}
	}
}

func (j *JSONReader) tooLong(line int, off int64) error {
	return &RecordError{File: j.name, Pos: fmt.Sprintf("line %d (offset %d)", line, off),
		Err: fmt.Errorf("decode JSON record: line longer than %d bytes: %w",
			MaxRecordSize, ErrRecordTooLarge)}
}

// skipLongLine discards the rest of an over-long line.
func (j *JSONReader) skipLongLine() error {
	rerr := j.tooLong(j.w.line, j.w.offset)
	for {
		d := j.w.data()
		if i := bytes.IndexByte(d, '\n'); i >= 0 {
			j.w.advance(i + 1)
			return rerr
		}
		j.w.advance(len(d))
		if !j.w.fill() {
			return rerr
		}
	}
}

// nextObject frames the next {…} of an array or a series of objects by
// tracking strings and brace depth.
func (j *JSONReader) nextObject() ([]byte, int, int64, error) {
	for {
		if err := j.skipBetween(); err != nil {
			return nil, 0, 0, err
		}
		d := j.w.data()
		line, off := j.w.line, j.w.offset
		if d[0] != '{' {
			skip := bytes.IndexByte(d, '{')
			if skip < 0 {
				skip = len(d)
			}
			j.w.advance(skip)
			return nil, 0, 0, &RecordError{File: j.name,
				Pos: fmt.Sprintf("line %d (offset %d)", line, off),
				Err: fmt.Errorf("decode JSON record: %w: expected '{'", errJSONSyntax)}
		}
		n, err := objectEnd(d)
		if errors.Is(err, errJSONShort) {
			if !j.w.full() && j.w.fill() {
				continue
			}
			err = io.ErrUnexpectedEOF
			if j.w.full() {
				err = ErrRecordTooLarge
			}
		}
		if err != nil {
			// A truncated object swallows the rest of the input; rescanning
			// from each later brace would be quadratic.
			skip := 1
			if errors.Is(err, io.ErrUnexpectedEOF) {
				skip = len(d)
			}
			j.w.advance(skip)
			return nil, 0, 0, &RecordError{File: j.name,
				Pos: fmt.Sprintf("line %d (offset %d)", line, off),
				Err: fmt.Errorf("decode JSON record: %w", err)}
		}
		j.w.advance(n)
		return d[:n], line, off, nil
	}
}

// skipBetween consumes white space, commas, a byte-order mark and array
// brackets between framed records.
func (j *JSONReader) skipBetween() error {
	for {
		d := j.w.data()
		i := 0
		for i < len(d) && (decSpace(d[i]) || d[i] == ',' || d[i] == '[' || d[i] == ']' ||
			d[i] >= 0x80 && bytes.HasPrefix(d[i:], []byte("\ufeff"))) {
			if d[i] >= 0x80 {
				i += 2
			}
			i++
		}
		j.w.advance(min(i, len(d)))
		if len(j.w.data()) > 0 {
			return nil
		}
		if !j.w.fill() {
			return j.w.endErr()
		}
	}
}

var errJSONShort = errors.New("object continues past the buffered input")

// objectEnd returns the length of the object at the start of d.
func objectEnd(d []byte) (int, error) {
	depth, inStr := 0, false
	for i := 0; i < len(d); i++ {
		c := d[i]
		switch {
		case inStr && c == '\\':
			i++
		case inStr:
			inStr = c != '"'
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			if depth++; depth > MaxDepth {
				return 0, ErrTooDeep
			}
		case c == '}' || c == ']':
			if depth--; depth == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, errJSONShort
}
