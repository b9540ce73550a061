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
// Damage is reported, never fatal: a chunk without its signature is skipped
// with a *telemetry.RecordError, an undecodable record likewise, and damage
// that costs no record (checksum mismatches, a dirty header, records found
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
// Values are rendered as Windows' own XML rendering writes them, so that an
// event read from .evtx equals the same event read from exported XML:
// integers in decimal; hex32, hex64 and size_t as lower-case "0x…" without
// padding (evtxexport pads: "0x00000010"); GUIDs braced upper-case; FILETIME
// and SYSTEMTIME as RFC 3339 UTC with 7 fractional digits; SIDs as S-1-…;
// binary as upper-case hex; booleans as "true"/"false"; floats in Go's
// shortest form; arrays as their items joined by ", ".
package evtx
