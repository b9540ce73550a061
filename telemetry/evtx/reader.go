package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync"

	"github.com/svcharness/svcharness/telemetry"
)

// errClosed is returned by Next after Close.
var errClosed = errors.New("evtx reader closed")

// fileMagic starts every EVTX file.
var fileMagic = []byte("ElfFile\x00")

// IsEVTX reports whether head, the first bytes of an input, starts with the
// EVTX file signature.
func IsEVTX(head []byte) bool { return bytes.HasPrefix(head, fileMagic) }

// Options tune a Reader. The zero value is ready to use.
type Options struct {
	// Workers is how many chunks are decoded at once; 0 means GOMAXPROCS.
	Workers int
}

// Reader decodes the records of one EVTX file in file order. It implements
// telemetry.Reader: Next returns each event, a *telemetry.RecordError for
// each record or chunk it had to skip, and io.EOF at the end.
type Reader struct {
	name    string
	src     io.ReaderAt
	size    int64
	chunks  int // chunk slots to decode: up to the last with a signature
	workers int

	started bool
	closed  bool
	jobs    chan job
	stop    chan struct{}
	wg      sync.WaitGroup
	queue   []chan chunkResult // in flight, in file order
	next    int                // next chunk to schedule
	cur     []item
	curPos  int

	mu     sync.Mutex
	damage []*telemetry.RecordError
}

type job struct {
	index int
	out   chan chunkResult
}

// Open reads the file header of an EVTX file of size bytes and returns a
// Reader over its chunks. name labels errors. The header is checked but not
// trusted: chunks are found by the file's size, not the header's count.
func Open(name string, r io.ReaderAt, size int64) (*Reader, error) {
	return OpenOptions(name, r, size, Options{})
}

// OpenOptions is Open with options.
func OpenOptions(name string, r io.ReaderAt, size int64, opts Options) (*Reader, error) {
	head := make([]byte, fileHeaderSize)
	if size < int64(len(fileMagic)) {
		return nil, fmt.Errorf("open evtx %q: %w", name, ErrNotEVTX)
	}
	n, err := r.ReadAt(head[:min(size, fileHeaderSize)], 0)
	if n < len(fileMagic) || !IsEVTX(head) {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read evtx header of %q: %w", name, err)
		}
		return nil, fmt.Errorf("open evtx %q: %w", name, ErrNotEVTX)
	}
	rd := &Reader{name: name, src: r, size: size, workers: opts.Workers}
	if rd.workers <= 0 {
		rd.workers = runtime.GOMAXPROCS(0)
	}
	slots := 0
	if size > fileHeaderSize {
		slots = int((size - fileHeaderSize + chunkSize - 1) / chunkSize)
	}
	rd.checkHeader(head, size)
	rd.chunks = rd.lastChunk(slots, head)
	return rd, nil
}

// lastChunk returns how many chunk slots hold the log: up to the last slot
// with a chunk signature, and at least the header's count. Windows
// preallocates the slots after them; they hold zeros or stale disk data,
// which is not damage and is not decoded.
func (r *Reader) lastChunk(slots int, head []byte) int {
	last := 0
	sig := make([]byte, len(chunkMagic))
	for i := range slots {
		off := int64(fileHeaderSize) + int64(i)*chunkSize
		if n, _ := r.src.ReadAt(sig, off); n == len(sig) && bytes.Equal(sig, chunkMagic) {
			last = i + 1
		}
	}
	count := int(binary.LittleEndian.Uint16(head[42:]))
	if last > count && count > 0 {
		r.note("file header", fmt.Errorf("%w: header counts %d chunks, chunks found up to %d",
			ErrDirty, count, last))
	}
	return max(last, min(count, slots))
}

// checkHeader notes the file header's damage: a wrong checksum, the dirty
// flag, a chunk count that disagrees with the file size, a partial chunk.
func (r *Reader) checkHeader(head []byte, size int64) {
	if size < fileHeaderSize {
		r.note("file header", fmt.Errorf("%w: file of %d bytes ends inside the header",
			ErrCorrupt, size))
		return
	}
	if crc32.ChecksumIEEE(head[:120]) != binary.LittleEndian.Uint32(head[124:]) {
		r.note("file header", fmt.Errorf("%w: file header", ErrChecksum))
	}
	if flags := binary.LittleEndian.Uint32(head[120:]); flags&1 != 0 {
		r.note("file header", fmt.Errorf("%w: dirty flag set", ErrDirty))
	}
	if rest := (size - fileHeaderSize) % chunkSize; rest != 0 {
		r.note("file header", fmt.Errorf("%w: file ends with a partial chunk of %d bytes",
			ErrCorrupt, rest))
	}
}

func (r *Reader) note(pos string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.damage = append(r.damage, &telemetry.RecordError{File: r.name, Pos: pos, Err: err})
}

// Damage returns the damage met so far that cost no record: checksum
// mismatches, a dirty header, records recovered past a chunk's free space.
// Skipped records and chunks are returned by Next instead.
func (r *Reader) Damage() []*telemetry.RecordError {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*telemetry.RecordError(nil), r.damage...)
}

// Next returns the next event in file order. Chunks are decoded ahead by a
// pool of workers; at most two chunks per worker are held at once.
func (r *Reader) Next() (*telemetry.Event, error) {
	if r.closed {
		return nil, errClosed
	}
	for {
		if r.curPos < len(r.cur) {
			it := r.cur[r.curPos]
			r.cur[r.curPos] = item{}
			r.curPos++
			return it.ev, it.err
		}
		r.schedule()
		if len(r.queue) == 0 {
			return nil, io.EOF
		}
		res := <-r.queue[0]
		r.queue = r.queue[1:]
		r.cur, r.curPos = res.items, 0
		for _, d := range res.damage {
			r.note(d.Pos, d.Err)
		}
	}
}

// schedule starts the workers on first use and keeps the window of chunks
// in flight full.
func (r *Reader) schedule() {
	window := 2 * r.workers
	if !r.started {
		r.started = true
		r.jobs = make(chan job, window)
		r.stop = make(chan struct{})
		for range r.workers {
			r.wg.Add(1)
			go r.work()
		}
	}
	for len(r.queue) < window && r.next < r.chunks {
		out := make(chan chunkResult, 1)
		r.jobs <- job{index: r.next, out: out}
		r.queue = append(r.queue, out)
		r.next++
	}
}

// work decodes chunks until the job channel closes. Each worker reuses one
// chunk buffer: events hold copies, never slices of it.
func (r *Reader) work() {
	defer r.wg.Done()
	buf := make([]byte, chunkSize)
	for j := range r.jobs {
		select {
		case <-r.stop:
			j.out <- chunkResult{}
			continue
		default:
		}
		j.out <- r.decodeChunk(j.index, buf)
	}
}

// decodeChunk reads chunk i and decodes it. A chunk cut short by the end of
// the file is padded with zeros so its complete records are still read.
func (r *Reader) decodeChunk(i int, buf []byte) (res chunkResult) {
	c := &chunk{file: r.name, index: i, data: buf,
		names: map[uint32]string{}, templates: map[uint32]templateEntry{}}
	defer func() {
		// A decoder bug must cost one chunk, not the process.
		if v := recover(); v != nil {
			res = chunkResult{}
			c.fail(&res, c.pos(), fmt.Errorf("%w: decoder fault: %v", ErrCorrupt, v))
		}
	}()
	off := int64(fileHeaderSize) + int64(i)*chunkSize
	n, err := r.src.ReadAt(buf, off)
	if n < len(buf) && err != nil && !errors.Is(err, io.EOF) {
		c.fail(&res, c.pos(), fmt.Errorf("read chunk: %w", err))
		return res
	}
	clear(buf[n:])
	return c.decode(true)
}

// Close stops the workers. It does not close the underlying file.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.started {
		close(r.stop)
		close(r.jobs)
		r.wg.Wait()
	}
	r.queue, r.cur = nil, nil
	return nil
}

var _ telemetry.Reader = (*Reader)(nil)
