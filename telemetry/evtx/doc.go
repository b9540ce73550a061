// Package evtx reads Windows XML Event Log (.evtx) files natively and yields
// the same telemetry.Event envelope as the event XML decoder.
//
// It decodes the file header, the 64 KiB chunks and their event records, and
// the binary XML (BinXml) of each record: names and templates interned per
// chunk, normal and optional substitutions, nested BinXml values and every
// value type Windows writes. Chunks are decoded concurrently by a pool of
// workers while records come out in file order; memory stays bounded by a
// few chunks per worker whatever the file size.
//
// Damage is reported, never fatal: a chunk without its signature yields one
// *telemetry.RecordError (and whatever records can be salvaged from it), an
// undecodable record likewise, and damage that costs no record (checksum
// mismatches, a dirty header, a zero record size recovered, records found
// past a chunk's free space offset) is listed by Reader.Damage.
//
//	f, _ := os.Open("System.evtx")
//	st, _ := f.Stat()
//	r, err := evtx.Open(f.Name(), f, st.Size())
//	if err != nil { ... }
//	defer r.Close()
//	for {
//		ev, err := r.Next()
//		if err == io.EOF { break }
//		if telemetry.IsRecordError(err) { report(err); continue }
//		if err != nil { ... }
//		use(ev)
//	}
//
// # Values
//
// Values are rendered as Windows' own XML rendering (EvtRender) writes them,
// so that an event read from .evtx equals the same event read from exported
// XML by the XML decoder: integers in decimal; hex32, hex64 and size_t as
// lower-case "0x…" without padding (evtxexport pads to "0x00000010", Windows
// writes "0x10"); GUIDs braced upper-case; FILETIME and SYSTEMTIME as RFC 3339
// UTC with 7 fractional digits ("2021-04-21T09:40:32.3633939Z"); SIDs as
// S-1-…; binary as upper-case hex; booleans as "true"/"false"; floats in Go's
// shortest round-trip form; ANSI strings as UTF-8 when valid, else Latin-1.
// Strings keep what the record holds, CR LF and control characters included.
//
// An element whose content is an array value is repeated once per item
// (<Data>a</Data><Data>b</Data>), as Windows and libevtx render it; an array
// inside an attribute or mixed content is joined with ", ". An optional
// substitution whose value is NULL drops its element or attribute
// ([MS-EVEN6]); an empty string value keeps an empty element.
//
// Fields: <Data Name="X"> gives field X; unnamed <Data> give "param1",
// "param2", … counted among the unnamed ones; <Binary> gives "Binary";
// under UserData the children of its child element become fields named
// after them. These are the XML decoder's conventions.
//
// # Damage
//
// Chunks are found by the file size, not the header's count, so the chunks
// of a dirty file (header not flushed) are all read; slots after the last
// chunk signature are Windows' preallocated space and are ignored. A slot
// with a wiped signature before the last chunk is salvaged: its records are
// found by their signatures and those whose names and templates survive are
// decoded. A checksum mismatch is noted and the chunk decoded anyway, since
// every offset is bounds-checked. A record with a size of 0 ends at the next
// record signature. A record whose size is not repeated at its end is
// skipped (its data is usually partly zeros). After a damaged stretch the
// reader resynchronises on the next record signature. Recursion into nested
// BinXml and templates is capped at 64 levels and each record's expansion
// by a work budget.
package evtx
