package evtx

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Value types ([MS-EVEN6] 2.2.12, libevtx "Value types"). Bit 0x80 marks an
// array of the base type.
const (
	typeNull     = 0x00
	typeString   = 0x01
	typeANSI     = 0x02
	typeInt8     = 0x03
	typeUint8    = 0x04
	typeInt16    = 0x05
	typeUint16   = 0x06
	typeInt32    = 0x07
	typeUint32   = 0x08
	typeInt64    = 0x09
	typeUint64   = 0x0a
	typeFloat32  = 0x0b
	typeFloat64  = 0x0c
	typeBool     = 0x0d
	typeBinary   = 0x0e
	typeGUID     = 0x0f
	typeSizeT    = 0x10
	typeFileTime = 0x11
	typeSysTime  = 0x12
	typeSID      = 0x13
	typeHex32    = 0x14
	typeHex64    = 0x15
	typeBinXML   = 0x21
	typeArray    = 0x80
)

// arraySep joins the items of an array value into one field value.
const arraySep = ", "

// render returns the text of a substitution value, in the form Windows'
// own XML rendering (EvtRender) uses; see doc.go for each type's choice.
func render(typ byte, b []byte) string {
	if typ&typeArray != 0 {
		return renderArray(typ&^typeArray, b)
	}
	switch typ {
	case typeNull:
		return ""
	case typeString:
		return utf16String(b)
	case typeANSI:
		return ansiString(b)
	case typeBinary, typeBinXML:
		return hexUpper(b)
	}
	if s, ok := renderNumber(typ, b); ok {
		return s
	}
	return renderStruct(typ, b)
}

// renderNumber renders the fixed-size numeric types; ok is false for other
// types or a size that does not match the type.
func renderNumber(typ byte, b []byte) (string, bool) {
	switch {
	case typ == typeInt8 && len(b) == 1:
		return strconv.Itoa(int(int8(b[0]))), true
	case typ == typeUint8 && len(b) == 1:
		return strconv.Itoa(int(b[0])), true
	case typ == typeInt16 && len(b) == 2:
		return strconv.Itoa(int(int16(binary.LittleEndian.Uint16(b)))), true
	case typ == typeUint16 && len(b) == 2:
		return strconv.Itoa(int(binary.LittleEndian.Uint16(b))), true
	case typ == typeInt32 && len(b) == 4:
		return strconv.Itoa(int(int32(binary.LittleEndian.Uint32(b)))), true
	case typ == typeUint32 && len(b) == 4:
		return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 10), true
	case typ == typeInt64 && len(b) == 8:
		return strconv.FormatInt(int64(binary.LittleEndian.Uint64(b)), 10), true
	case typ == typeUint64 && len(b) == 8:
		return strconv.FormatUint(binary.LittleEndian.Uint64(b), 10), true
	case typ == typeFloat32 && len(b) == 4:
		f := math.Float32frombits(binary.LittleEndian.Uint32(b))
		return strconv.FormatFloat(float64(f), 'g', -1, 32), true
	case typ == typeFloat64 && len(b) == 8:
		f := math.Float64frombits(binary.LittleEndian.Uint64(b))
		return strconv.FormatFloat(f, 'g', -1, 64), true
	case (typ == typeHex32 || typ == typeHex64 || typ == typeSizeT) &&
		(len(b) == 4 || len(b) == 8):
		return "0x" + strconv.FormatUint(leUint(b), 16), true
	case typ == typeBool && (len(b) == 4 || len(b) == 1 || len(b) == 2 || len(b) == 8):
		return strconv.FormatBool(leUint(b) != 0), true
	}
	return "", false
}

// renderStruct renders GUIDs, times and SIDs. A value whose size does not fit
// its type is rendered as hex, so no byte of evidence is lost.
func renderStruct(typ byte, b []byte) string {
	switch {
	case typ == typeGUID && len(b) == 16:
		return guidString(b)
	case typ == typeFileTime && len(b) == 8:
		return formatTime(filetime(binary.LittleEndian.Uint64(b)))
	case typ == typeSysTime && len(b) == 16:
		if t, ok := systemtime(b); ok {
			return formatTime(t)
		}
	case typ == typeSID:
		if s, n := sidString(b); n == len(b) {
			return s
		}
	}
	return hexUpper(b)
}

// renderArray renders an array value as its items joined by arraySep, the
// form used where an array cannot repeat its element (attributes, mixed
// content).
func renderArray(base byte, b []byte) string {
	return strings.Join(arrayItems(base, b), arraySep)
}

// arrayItems renders each item of an array value. Strings are terminated by
// NULs; other items have the base type's size.
func arrayItems(base byte, b []byte) []string {
	var items []string
	switch base {
	case typeString:
		items = splitUTF16(b)
	case typeANSI:
		items = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		for i := range items {
			items[i] = ansiString([]byte(items[i]))
		}
	case typeSID:
		items = splitSIDs(b)
	default:
		items = splitFixed(base, b)
	}
	return items
}

func splitUTF16(b []byte) []string {
	var items []string
	start := 0
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			items = append(items, utf16String(b[start:i]))
			start = i + 2
		}
	}
	if start < len(b)-1 {
		items = append(items, utf16String(b[start:]))
	}
	return items
}

func splitSIDs(b []byte) []string {
	var items []string
	for len(b) > 0 {
		s, n := sidString(b)
		if n == 0 {
			return append(items, hexUpper(b))
		}
		items = append(items, s)
		b = b[n:]
	}
	return items
}

func splitFixed(base byte, b []byte) []string {
	size := fixedSize(base, len(b))
	if size == 0 || len(b)%size != 0 {
		return []string{hexUpper(b)}
	}
	items := make([]string, 0, len(b)/size)
	for i := 0; i < len(b); i += size {
		items = append(items, render(base, b[i:i+size]))
	}
	return items
}

// fixedSize is the item size of an array of base; size_t arrays are taken
// as 64-bit when the length allows, since 32-bit writers use hex32 instead.
func fixedSize(base byte, n int) int {
	switch base {
	case typeInt8, typeUint8:
		return 1
	case typeInt16, typeUint16:
		return 2
	case typeInt32, typeUint32, typeFloat32, typeBool, typeHex32:
		return 4
	case typeInt64, typeUint64, typeFloat64, typeFileTime, typeHex64:
		return 8
	case typeGUID, typeSysTime:
		return 16
	case typeSizeT:
		if n%8 == 0 {
			return 8
		}
		return 4
	}
	return 0
}

func leUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// utf16String decodes little-endian UTF-16 and drops trailing NULs, which
// some writers count in a value's size. Unpaired surrogates become U+FFFD.
func utf16String(b []byte) string {
	n := len(b) / 2
	for n > 0 && b[2*n-2] == 0 && b[2*n-1] == 0 {
		n--
	}
	ascii := true
	for i := 0; i < n; i++ {
		if b[2*i+1] != 0 || b[2*i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = b[2*i]
		}
		return string(buf)
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// ansiString decodes a codepage string. The codepage is not recorded, so
// valid UTF-8 is kept and anything else is read as Windows-1252's Latin-1
// subset.
func ansiString(b []byte) string {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

const hexDigits = "0123456789ABCDEF"

func hexUpper(b []byte) string {
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i] = hexDigits[c>>4]
		out[2*i+1] = hexDigits[c&0x0f]
	}
	return string(out)
}

// guidString renders a little-endian GUID braced and upper-case.
func guidString(b []byte) string {
	var out [38]byte
	out[0] = '{'
	order := [16]int{3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11}
	j := 1
	for _, i := range order {
		if i < 0 {
			out[j] = '-'
			j++
			continue
		}
		out[j], out[j+1] = hexDigits[b[i]>>4], hexDigits[b[i]&0x0f]
		j += 2
	}
	for i := 12; i < 16; i++ {
		out[j], out[j+1] = hexDigits[b[i]>>4], hexDigits[b[i]&0x0f]
		j += 2
	}
	out[j] = '}'
	return string(out[:])
}

// filetimeEpoch is 1601-01-01 in Unix seconds.
const filetimeEpoch = -11644473600

// filetime converts 100-nanosecond intervals since 1601 to UTC time.
func filetime(v uint64) time.Time {
	sec := int64(v/10_000_000) + filetimeEpoch
	return time.Unix(sec, int64(v%10_000_000)*100).UTC()
}

// systemtime converts a SYSTEMTIME (year, month, weekday, day, hour, minute,
// second, millisecond) to UTC time; ok is false when a field is out of range.
func systemtime(b []byte) (time.Time, bool) {
	f := func(i int) int { return int(binary.LittleEndian.Uint16(b[2*i:])) }
	y, mo, d, h, mi, s, ms := f(0), f(1), f(3), f(4), f(5), f(6), f(7)
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || ms > 999 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ms*1e6, time.UTC), true
}

// formatTime renders a time as RFC 3339 with the 7 fractional digits of
// FILETIME's 100 ns resolution, as Windows does. It is written out by hand:
// time.Format costs a third of a record's decoding in time-heavy logs.
func formatTime(t time.Time) string {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 0 || y > 9999 {
		return t.Format("2006-01-02T15:04:05.0000000Z07:00")
	}
	b := make([]byte, 0, 28)
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/100, 7)
	return string(append(b, 'Z'))
}

// appendDigits appends v as exactly n decimal digits.
func appendDigits(b []byte, v, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, 0)
	}
	for i := len(b) - 1; i >= len(b)-n; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// sidString renders a binary SID as S-1-…; n is the bytes it used, 0 when b
// does not hold a SID.
func sidString(b []byte) (s string, n int) {
	if len(b) < 8 || b[0] != 1 {
		return "", 0
	}
	count := int(b[1])
	n = 8 + 4*count
	if count > 15 || len(b) < n {
		return "", 0
	}
	auth := uint64(0)
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	sb.WriteString("S-1-")
	if auth >= 1<<32 {
		sb.WriteString("0x" + strings.ToUpper(strconv.FormatUint(auth, 16)))
	} else {
		sb.WriteString(strconv.FormatUint(auth, 10))
	}
	for i := 0; i < count; i++ {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return sb.String(), n
}
