package source

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/svcharness/svcharness/telemetry"
)

// Limits bound what an archive or a spooled stream may make svcharness read
// or write. Zero fields take the DefaultLimits value.
type Limits struct {
	MaxMember  int64 // uncompressed bytes of one member (also the spool limit)
	MaxTotal   int64 // uncompressed bytes of one input, all members together
	MaxRatio   int64 // uncompressed:compressed bytes of one member
	MaxMembers int   // members of one archive
}

// DefaultLimits suit the recordings svcharness reads: the OTRF zips hold
// JSON at about 14:1, EVTX files are at most a few GiB, and a real log
// rarely compresses beyond 100:1, while a zip bomb reaches 1000:1.
var DefaultLimits = Limits{
	MaxMember:  4 << 30,
	MaxTotal:   16 << 30,
	MaxRatio:   200,
	MaxMembers: 100000,
}

// ratioGrace is the output a member may reach before its ratio is checked,
// so that tiny, highly compressible members are not refused.
const ratioGrace = 1 << 20

func (l Limits) withDefaults() Limits {
	if l.MaxMember <= 0 {
		l.MaxMember = DefaultLimits.MaxMember
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = DefaultLimits.MaxTotal
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultLimits.MaxRatio
	}
	if l.MaxMembers <= 0 {
		l.MaxMembers = DefaultLimits.MaxMembers
	}
	return l
}

// Errors for archives that break Limits. A member over its limits is skipped
// (reported as a *telemetry.RecordError); ErrTotalLimit ends the input.
var (
	ErrMemberLimit = errors.New("archive member exceeds the size limit")
	ErrRatioLimit  = errors.New("archive member exceeds the compression ratio limit")
	ErrTotalLimit  = errors.New("archive exceeds the total size limit")
	ErrMembers     = errors.New("archive has too many members")
)

// budget counts the uncompressed bytes of one input.
type budget struct {
	used, total int64
}

// limitReader enforces Limits on one decompressed member.
type limitReader struct {
	r          io.Reader
	n          int64
	compressed func() int64 // compressed bytes behind the output so far
	lim        Limits
	b          *budget
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	l.b.used += int64(n)
	switch {
	case l.b.used > l.b.total:
		return 0, ErrTotalLimit
	case l.n > l.lim.MaxMember:
		return 0, ErrMemberLimit
	case l.n > ratioGrace && l.n > l.lim.MaxRatio*max(l.compressed(), 1):
		return 0, ErrRatioLimit
	}
	return n, err
}

// countingReader counts the compressed bytes a decompressor consumed.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// member is one archive member ready to read.
type member struct {
	name string
	r    io.Reader
}

// memberIter walks an archive's members.
type memberIter interface {
	next() (member, error) // io.EOF after the last
	current() string       // name of the member last returned
}

// zipIter walks a zip archive held in a ReaderAt.
type zipIter struct {
	name  string
	files []*zip.File
	i     int
	cur   string
	lim   Limits
	b     *budget
}

func (in *Input) openZip(name string, r io.Reader, ra io.ReaderAt, size int64) error {
	if ra == nil {
		f, n, err := in.spool(name, r)
		if err != nil {
			return err
		}
		ra, size = f, n
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return fmt.Errorf("read zip %s: %w", name, err)
	}
	if len(zr.File) > in.limits.MaxMembers {
		return fmt.Errorf("read zip %s: %d members: %w", name, len(zr.File), ErrMembers)
	}
	in.members = &zipIter{name: name, files: zr.File, lim: in.limits, b: in.budget}
	return nil
}

func (z *zipIter) current() string { return z.cur }

func (z *zipIter) next() (member, error) {
	for ; z.i < len(z.files); z.i++ {
		f := z.files[z.i]
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") {
			continue
		}
		z.i++
		z.cur = z.name + "!" + f.Name
		rc, err := f.Open()
		if err != nil {
			return member{}, memberError(z.cur, fmt.Errorf("open member: %w", err))
		}
		compressed := int64(f.CompressedSize64)
		lr := &limitReader{r: rc, compressed: func() int64 { return compressed },
			lim: z.lim, b: z.b}
		return member{name: z.cur, r: lr}, nil
	}
	return member{}, io.EOF
}

// tarIter walks a tar stream, gzip-compressed or not.
type tarIter struct {
	name  string
	tr    *tar.Reader
	gz    *countingReader // nil for an uncompressed tar
	cur   string
	count int
	lim   Limits
	b     *budget
}

func newTarIter(name string, r io.Reader, lim Limits, b *budget,
	gz *countingReader) *tarIter {
	return &tarIter{name: name, tr: tar.NewReader(r), gz: gz, lim: lim, b: b}
}

func (t *tarIter) current() string { return t.cur }

func (t *tarIter) next() (member, error) {
	for {
		h, err := t.tr.Next()
		if err == io.EOF {
			return member{}, io.EOF
		}
		if err != nil {
			if errors.Is(err, ErrTotalLimit) {
				return member{}, err
			}
			return member{}, fmt.Errorf("read tar %s: %w", t.name, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if t.count++; t.count > t.lim.MaxMembers {
			return member{}, fmt.Errorf("read tar %s: %w", t.name, ErrMembers)
		}
		t.cur = t.name + "!" + h.Name
		return member{name: t.cur, r: t.memberReader(h.Size)}, nil
	}
}

// memberReader bounds one tar member. Inside a .tar.gz the ratio counts the
// compressed bytes consumed since the member began.
func (t *tarIter) memberReader(size int64) io.Reader {
	compressed := func() int64 { return size }
	if t.gz != nil {
		start := t.gz.n
		compressed = func() int64 { return t.gz.n - start }
	}
	return &limitReader{r: t.tr, compressed: compressed, lim: t.lim, b: t.b}
}

// openGzip reads a .gz: a tar inside becomes members, anything else one
// stream.
func (in *Input) openGzip(name string, r io.Reader) error {
	cr := &countingReader{r: r}
	zr, err := gzip.NewReader(cr)
	if err != nil {
		return fmt.Errorf("read gzip %s: %w", name, err)
	}
	lr := &limitReader{r: zr, compressed: func() int64 { return cr.n }, lim: in.limits,
		b: in.budget}
	br := bufio.NewReaderSize(lr, 64<<10)
	head, _ := br.Peek(DetectSize)
	if Detect(head) == Tar {
		// The tar members carry their own limits; the whole stream only
		// counts against the total.
		lr.lim.MaxMember, lr.lim.MaxRatio = 1<<62, 1<<40
		in.members = newTarIter(name, br, in.limits, &budget{total: 1 << 62}, cr)
		return nil
	}
	in.cur, err = in.stream(name, br, nil, 0, true)
	return err
}

// spool copies r to a temporary file, removed on Close, for formats that
// need random access. It stops at MaxMember bytes.
func (in *Input) spool(name string, r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "svcharness-spool-*")
	if err != nil {
		return nil, 0, fmt.Errorf("spool %s: %w", name, err)
	}
	in.closers = append(in.closers, removeOnClose{f})
	n, err := io.Copy(f, io.LimitReader(r, in.limits.MaxMember+1))
	if err != nil {
		return nil, 0, fmt.Errorf("spool %s: %w", name, err)
	}
	if n > in.limits.MaxMember {
		return nil, 0, fmt.Errorf("spool %s: %w", name, ErrMemberLimit)
	}
	return f, n, nil
}

type removeOnClose struct{ f *os.File }

func (r removeOnClose) Close() error {
	return errors.Join(r.f.Close(), os.Remove(r.f.Name()))
}

// openEVTX opens EVTX content, spooling it when it is not a regular file.
func (in *Input) openEVTX(name string, r io.Reader, ra io.ReaderAt,
	size int64) (telemetry.Reader, error) {
	if ra == nil {
		f, n, err := in.spool(name, r)
		if err != nil {
			return nil, err
		}
		ra, size = f, n
	}
	rd, closer, err := openEVTXReader(name, ra, size)
	if err != nil {
		return nil, err
	}
	in.closers = append(in.closers, closer)
	return rd, nil
}
