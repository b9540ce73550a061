// Package source opens telemetry inputs for svcharness: a file path or "-"
// for standard input, whose format is recognised from its content, never its
// name. It reads Windows event XML (UTF-8 or UTF-16), the JSON flavours of
// telemetry.JSONReader, EVTX files, and .zip, .tar, .tar.gz and .gz archives
// of those, member by member, as one stream of records.
//
// Archives come from hosts an attacker may control, so decompression is
// bounded: per member, in total, and by compression ratio (Limits). EVTX
// needs random access, so EVTX read from standard input or an archive member
// is first spooled to a temporary file, within the same limits.
//
//	in, err := source.Open("logs.zip", source.DefaultLimits)
//	if err != nil { … }
//	defer in.Close()
//	for {
//		ev, err := in.Next()
//		if err == io.EOF { break }
//		if telemetry.IsRecordError(err) { report(err); continue }
//		if err != nil { … }
//		use(ev)
//	}
package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/svcharness/svcharness/telemetry"
)

// Format is an input format recognised from content.
type Format int

// The formats Detect recognises.
const (
	Unknown  Format = iota
	XML             // Windows event XML, UTF-8
	XMLUTF16        // Windows event XML, UTF-16 with a byte-order mark
	JSON            // one of telemetry.JSONReader's JSON flavours
	EVTX            // Windows XML event log file ("ElfFile\x00")
	Zip
	Gzip
	Tar
)

var formatNames = [...]string{"unknown", "xml", "xml-utf16", "json", "evtx", "zip", "gzip",
	"tar"}

// String returns the lower-case name of f.
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return "unknown"
	}
	return formatNames[f]
}

// DetectSize is how many leading bytes Detect needs to decide.
const DetectSize = 512

// Detect recognises a format from the first bytes of an input (up to
// DetectSize; fewer only at the end of a short input).
func Detect(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte("ElfFile\x00")):
		return EVTX
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return Zip
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return Gzip
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return Tar
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}), bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return XMLUTF16
	}
	text := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case len(text) == 0:
		return Unknown
	case text[0] == '<':
		return XML
	case text[0] == '{' || text[0] == '[':
		return JSON
	}
	return Unknown
}

// ErrUnknownFormat means the content matched no supported format.
var ErrUnknownFormat = errors.New("unrecognised input format")

// Input is one opened input, read as a single stream of records across
// archive members. It implements telemetry.Reader.
type Input struct {
	name    string
	limits  Limits
	cur     telemetry.Reader
	members memberIter // nil unless the input is an archive
	budget  *budget
	closers []io.Closer
	// memberFrom is where the current member's closers (spool file, EVTX
	// workers) start in closers; they are released when the member ends.
	memberFrom int
	damage     []*telemetry.RecordError
}

// Open opens path, or standard input for "-", and recognises its format.
func Open(path string, limits Limits) (*Input, error) {
	if path == "-" {
		return OpenReader("-", os.Stdin, limits)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open input: %w", err)
	}
	in := newInput(path, limits)
	in.closers = append(in.closers, f)
	if st.Mode().IsRegular() {
		err = in.start(path, f, f, st.Size())
	} else {
		err = in.start(path, f, nil, 0)
	}
	if err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

// OpenReader reads an input from r, named name in errors. Formats that need
// random access (EVTX, zip) are spooled to a temporary file first.
func OpenReader(name string, r io.Reader, limits Limits) (*Input, error) {
	in := newInput(name, limits)
	if err := in.start(name, r, nil, 0); err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

func newInput(name string, limits Limits) *Input {
	return &Input{name: name, limits: limits.withDefaults(),
		budget: &budget{total: limits.withDefaults().MaxTotal}}
}

// Name returns the input's name as given to Open.
func (in *Input) Name() string { return in.name }

// Next returns the next event, a *telemetry.RecordError for a skipped record
// (or a skipped archive member), or io.EOF.
func (in *Input) Next() (*telemetry.Event, error) {
	for {
		if in.cur != nil {
			ev, err := in.cur.Next()
			if err == nil || telemetry.IsRecordError(err) {
				return ev, err
			}
			in.collectDamage()
			in.cur = nil
			if cerr := in.closeMember(); cerr != nil && err == io.EOF {
				err = cerr
			} else if cerr != nil {
				err = errors.Join(err, cerr)
			}
			if err != io.EOF {
				if in.members == nil || errors.Is(err, ErrTotalLimit) {
					return nil, err
				}
				return nil, memberError(in.members.current(), err)
			}
		}
		if in.members == nil {
			return nil, io.EOF
		}
		if err := in.nextMember(); err != nil {
			return nil, err
		}
	}
}

// nextMember opens the next archive member as in.cur.
func (in *Input) nextMember() error {
	m, err := in.members.next()
	if err != nil {
		if err == io.EOF {
			in.members = nil
		}
		return err
	}
	in.memberFrom = len(in.closers)
	r, err := in.stream(m.name, m.r, nil, 0, true)
	if err != nil {
		err = errors.Join(err, in.closeMember())
		if errors.Is(err, ErrTotalLimit) {
			return err
		}
		return memberError(m.name, err)
	}
	in.cur = r
	return nil
}

func memberError(name string, err error) error {
	var re *telemetry.RecordError
	if errors.As(err, &re) {
		return err
	}
	return &telemetry.RecordError{File: name, Pos: "archive member", Err: err}
}

// damaged is a reader that reports damage that cost no record, as
// telemetry/evtx does for checksum mismatches and dirty headers.
type damaged interface {
	Damage() []*telemetry.RecordError
}

func (in *Input) collectDamage() {
	if d, ok := in.cur.(damaged); ok {
		in.damage = append(in.damage, d.Damage()...)
	}
}

// Damage returns the damage met in the records read so far that cost no
// record (an EVTX checksum mismatch, a dirty file header): worth a warning,
// not a skip.
func (in *Input) Damage() []*telemetry.RecordError {
	return in.damage
}

// closeMember releases what the finished member held.
func (in *Input) closeMember() error {
	if in.members == nil {
		return nil
	}
	var errs []error
	for _, c := range in.closers[in.memberFrom:] {
		errs = append(errs, c.Close())
	}
	in.closers = in.closers[:in.memberFrom]
	return errors.Join(errs...)
}

// Close releases the input's files, temporary files included.
func (in *Input) Close() error {
	var errs []error
	for i := len(in.closers) - 1; i >= 0; i-- {
		errs = append(errs, in.closers[i].Close())
	}
	in.closers = nil
	return errors.Join(errs...)
}

// start recognises the top-level input and prepares the first reader.
func (in *Input) start(name string, r io.Reader, ra io.ReaderAt, size int64) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(DetectSize)
	switch Detect(head) {
	case Zip:
		return in.openZip(name, br, ra, size)
	case Tar:
		in.members = newTarIter(name, br, in.limits, in.budget, nil)
		return nil
	case Gzip:
		return in.openGzip(name, br)
	}
	cur, err := in.stream(name, br, ra, size, false)
	in.cur = cur
	return err
}

// stream returns the reader for one non-archive stream. member is true inside
// an archive, where a nested archive is refused.
func (in *Input) stream(name string, r io.Reader, ra io.ReaderAt, size int64,
	member bool) (telemetry.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(DetectSize)
	if len(head) == 0 && err != nil && err != io.EOF {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	switch f := Detect(head); f {
	case XML:
		return telemetry.NewXMLReader(name, br), nil
	case XMLUTF16:
		return in.stream(name, newUTF16Reader(br), nil, 0, member)
	case JSON:
		return telemetry.NewJSONReader(name, br), nil
	case EVTX:
		return in.openEVTX(name, br, ra, size)
	case Gzip:
		if member {
			return nil, fmt.Errorf("read %s: nested archives are not supported", name)
		}
		return nil, fmt.Errorf("read %s: %w", name, ErrUnknownFormat)
	case Zip, Tar:
		return nil, fmt.Errorf("read %s: nested archives are not supported", name)
	}
	if len(head) == 0 {
		return emptyReader{}, nil
	}
	return nil, fmt.Errorf("read %s: %w", name, ErrUnknownFormat)
}

// emptyReader is an input with no records.
type emptyReader struct{}

func (emptyReader) Next() (*telemetry.Event, error) { return nil, io.EOF }
