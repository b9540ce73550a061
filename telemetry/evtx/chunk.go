package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/svcharness/svcharness/telemetry"
)

// Layout constants of the EVTX format (libevtx "File header", "Chunk").
const (
	fileHeaderSize  = 4096
	chunkSize       = 64 << 10
	chunkHeaderSize = 512
	recordHeader    = 24 // signature, size, identifier, written time
	recordMinSize   = recordHeader + 4
)

var (
	chunkMagic  = []byte("ElfChnk\x00")
	recordMagic = []byte("**\x00\x00")
)

// chunk is one 64 KiB chunk being decoded. Names and templates are interned
// per chunk: records refer to them by their offset in the chunk.
type chunk struct {
	file      string
	index     int
	data      []byte
	names     map[uint32]string
	templates map[uint32]templateEntry

	// Per-record scratch, reset by each record.
	elems    []*elem
	nextElem int
	values   []value
}

func (c *chunk) errorf(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// item is one result of a chunk, in file order: an event or a RecordError.
type item struct {
	ev  *telemetry.Event
	err error
}

// chunkResult is what decoding one chunk produced: records and skipped
// records in order, and the damage that did not cost a record.
type chunkResult struct {
	items  []item
	damage []*telemetry.RecordError
}

func (c *chunk) pos() string { return fmt.Sprintf("chunk %d", c.index) }

func (c *chunk) recordPos(id uint64, off int) string {
	if id == 0 {
		return fmt.Sprintf("chunk %d offset 0x%x", c.index, off)
	}
	return fmt.Sprintf("chunk %d record %d", c.index, id)
}

func (c *chunk) fail(res *chunkResult, pos string, err error) {
	res.items = append(res.items, item{err: &telemetry.RecordError{File: c.file, Pos: pos, Err: err}})
}

func (c *chunk) note(res *chunkResult, pos string, err error) {
	res.damage = append(res.damage, &telemetry.RecordError{File: c.file, Pos: pos, Err: err})
}

// decode decodes every record of the chunk. A chunk without its signature is
// salvaged when salvage is set (a wiped header inside the log): its records
// are found by their signatures and those that decode are kept.
func (c *chunk) decode(salvage bool) chunkResult {
	var res chunkResult
	if !bytes.HasPrefix(c.data, chunkMagic) {
		if salvage && !allZero(c.data) {
			c.salvage(&res)
		}
		return res
	}
	limit := c.checkHeader(&res)
	c.records(&res, limit)
	return res
}

// salvage decodes the records of a chunk whose header is gone. Names and
// templates that lived in wiped parts make records undecodable; they are
// counted in one RecordError for the chunk rather than one each.
func (c *chunk) salvage(res *chunkResult) {
	lost := 0
	for pos := c.resync(chunkHeaderSize); pos+recordMinSize <= len(c.data); {
		size := int(binary.LittleEndian.Uint32(c.data[pos+4:]))
		if !c.plausible(pos, size, 0, 0) {
			pos = c.resync(pos + 4)
			continue
		}
		id := binary.LittleEndian.Uint64(c.data[pos+8:])
		written := binary.LittleEndian.Uint64(c.data[pos+16:])
		if ev, err := c.event(pos+recordHeader, pos+size-4, id, written); err == nil {
			res.items = append(res.items, item{ev: ev})
		} else {
			lost++
		}
		pos += size
	}
	c.fail(res, c.pos(), fmt.Errorf("%w: salvaged %d records, %d undecodable",
		ErrBadChunkMagic, len(res.items), lost))
}

// checkHeader verifies the chunk's two checksums and returns where its
// records end. A checksum mismatch is noted, not fatal: the decoder checks
// every offset itself, so a structurally sound chunk still yields records.
func (c *chunk) checkHeader(res *chunkResult) int {
	h := crc32.NewIEEE()
	h.Write(c.data[:120])
	h.Write(c.data[128:chunkHeaderSize])
	if h.Sum32() != binary.LittleEndian.Uint32(c.data[124:]) {
		c.note(res, c.pos(), fmt.Errorf("%w: chunk header", ErrChecksum))
	}
	free := int(binary.LittleEndian.Uint32(c.data[48:]))
	if free < chunkHeaderSize || free > len(c.data) {
		c.note(res, c.pos(), fmt.Errorf("%w: free space offset 0x%x", ErrCorrupt, free))
		return len(c.data)
	}
	sum := crc32.ChecksumIEEE(c.data[chunkHeaderSize:free])
	if sum != binary.LittleEndian.Uint32(c.data[52:]) {
		c.note(res, c.pos(), fmt.Errorf("%w: event records", ErrChecksum))
	}
	return free
}

// records walks the records from the end of the header to limit, then on
// past limit while valid records follow (a chunk header that was not
// flushed after its last writes).
func (c *chunk) records(res *chunkResult, limit int) {
	pos := chunkHeaderSize
	var last uint64
	for pos+recordMinSize <= len(c.data) {
		if !bytes.HasPrefix(c.data[pos:], recordMagic) {
			if pos >= limit || allZero(c.data[pos:]) {
				return
			}
			next := c.resync(pos + 1)
			c.fail(res, c.recordPos(0, pos), fmt.Errorf("%w: %d bytes without a record signature",
				ErrCorrupt, next-pos))
			pos = next
			continue
		}
		size := int(binary.LittleEndian.Uint32(c.data[pos+4:]))
		id := binary.LittleEndian.Uint64(c.data[pos+8:])
		if pos >= limit && !c.plausible(pos, size, id, last) {
			return
		}
		if size < recordMinSize || size > len(c.data)-pos {
			pos = c.badSize(res, pos, size, id)
			continue
		}
		if pos >= limit {
			c.note(res, c.recordPos(id, pos), ErrBeyondFreeSpace)
		}
		c.record(res, pos, size, id)
		last = id
		pos += size
	}
}

// badSize handles a record whose size field is out of range (Windows has
// been seen writing 0): the record is taken to end where the next record
// signature starts, and decoded if that works. It returns where to go on.
func (c *chunk) badSize(res *chunkResult, pos, size int, id uint64) int {
	next := c.resync(pos + 4)
	where := c.recordPos(id, pos)
	written := binary.LittleEndian.Uint64(c.data[pos+16:])
	ev, err := c.event(pos+recordHeader, next-4, id, written)
	if err != nil {
		c.fail(res, where, fmt.Errorf("%w: record size %d", ErrCorrupt, size))
		return next
	}
	c.note(res, where, fmt.Errorf("%w: record size %d, recovered as %d by the next signature",
		ErrCorrupt, size, next-pos))
	res.items = append(res.items, item{ev: ev})
	return next
}

// plausible reports whether a record signature found past the free space
// offset starts a real record: its size fits and is repeated at its end, and
// it continues the identifiers of the records before it.
func (c *chunk) plausible(pos, size int, id, last uint64) bool {
	if size < recordMinSize || size > len(c.data)-pos {
		return false
	}
	if binary.LittleEndian.Uint32(c.data[pos+size-4:]) != uint32(size) {
		return false
	}
	return last == 0 || id == last+1
}

// resync returns the offset of the next record signature at or after from,
// or the end of the chunk.
func (c *chunk) resync(from int) int {
	if from >= len(c.data) {
		return len(c.data)
	}
	i := bytes.Index(c.data[from:], recordMagic)
	if i < 0 {
		return len(c.data)
	}
	return from + i
}

// record decodes one record and appends the event or the error. A record
// whose size is not repeated at its end is skipped: seen in files with
// wiped disk blocks, its data is partly zeros and would decode to an event
// with silently missing values.
func (c *chunk) record(res *chunkResult, pos, size int, id uint64) {
	if copySize := binary.LittleEndian.Uint32(c.data[pos+size-4:]); copySize != uint32(size) {
		c.fail(res, c.recordPos(id, pos),
			fmt.Errorf("%w: size %d, copy of size %d", ErrCorrupt, size, copySize))
		return
	}
	written := binary.LittleEndian.Uint64(c.data[pos+16:])
	ev, err := c.event(pos+recordHeader, pos+size-4, id, written)
	if err != nil {
		c.fail(res, c.recordPos(id, pos), fmt.Errorf("decode record: %w", err))
		return
	}
	res.items = append(res.items, item{ev: ev})
}

// event decodes the BinXml of one record into an Event. The record header's
// identifier and written time stand in when the XML lacks them.
func (c *chunk) event(start, end int, id, written uint64) (*telemetry.Event, error) {
	if end <= start {
		return nil, ErrEmptyRecord
	}
	c.nextElem, c.values = 0, c.values[:0]
	p := parser{c: c, pos: start, end: end}
	top, err := p.document()
	if err != nil {
		return nil, err
	}
	b := builder{c: c}
	root := b.newElem("")
	for _, n := range top {
		if err := b.build(n, nil, root, 0); err != nil {
			return nil, err
		}
	}
	if len(root.kids) == 0 || root.kids[0].name != "Event" {
		return nil, fmt.Errorf("%w: no Event element", errMalformed)
	}
	ev := &telemetry.Event{}
	toEvent(root.kids[0], ev)
	if ev.RecordID == 0 {
		ev.RecordID = id
	}
	if ev.TimeSource == telemetry.TimeUnknown && written != 0 {
		ev.Time, ev.TimeSource = filetime(written), telemetry.TimeUTC
	}
	return ev, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Errors wrapped in the RecordErrors that Next returns and Damage lists.
var (
	// ErrNotEVTX means the input does not start with the EVTX signature.
	ErrNotEVTX = errors.New("not an EVTX file")
	// ErrBadChunkMagic means a chunk slot holds data without the chunk
	// signature; the whole chunk is skipped.
	ErrBadChunkMagic = errors.New("chunk signature missing")
	// ErrChecksum means a stored CRC32 does not match the data. The data is
	// still decoded; every offset in it is checked anyway.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrCorrupt means a size or offset is out of range or a structure does
	// not match its own description.
	ErrCorrupt = errors.New("corrupt structure")
	// ErrEmptyRecord means a record holds no binary XML at all.
	ErrEmptyRecord = errors.New("record has no event data")
	// ErrDirty means the file header was not flushed after the last writes
	// (its dirty flag is set or its chunk count is stale); chunks past the
	// header's count are read anyway.
	ErrDirty = errors.New("file header not flushed")
	// ErrBeyondFreeSpace notes a record found past its chunk's free space
	// offset, recovered because it continues the chunk's records.
	ErrBeyondFreeSpace = errors.New("record past the chunk's free space offset")
)
