package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// psDateLayouts are the forms DateTime.Parse accepts with the invariant
// culture (the culture PowerShell casts with), as Go layouts. Forms
// without a zone are local time; simulated hosts keep their clocks in UTC.
var psDateLayouts = []string{
	time.RFC3339Nano, // 2026-12-03T10:00:00Z, with a fraction or an offset
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z", // the "u" format
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"1/2/2006 15:04:05", // invariant short date and long time: MM/dd/yyyy HH:mm:ss
	"1/2/2006 3:04:05 PM",
	"1/2/2006 15:04",
	"1/2/2006 3:04 PM",
	"1/2/2006",
	time.RFC1123, // the "r" format
	"Monday, 02 January 2006 15:04:05",
	"Monday, January 2, 2006 3:04:05 PM",
	"January 2, 2006",
	"2 January 2006",
}

// psParseDate parses s as DateTime.Parse does with the invariant culture.
func psParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range psDateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// psCastError is the error PowerShell reports for a failed conversion.
func psCastError(v any, typ, reason string) error {
	return &psThrow{msg: fmt.Sprintf("Cannot convert value \"%s\" to type \"%s\". "+
		"Error: \"%s\"\n    + CategoryInfo          : InvalidArgument: (:) [], "+
		"RuntimeException\n    + FullyQualifiedErrorId : InvalidCastParseTargetInvocation",
		psString(v), typ, reason)}
}

// psCast converts v to the type a cast names ([int]'5', [DateTime]'…'),
// as PowerShell's conversions do with the invariant culture.
func psCast(name string, v any) (any, error) {
	typ := strings.ToLower(strings.TrimSpace(name))
	typ = strings.TrimPrefix(typ, "system.")
	if elem, ok := strings.CutSuffix(typ, "[]"); ok {
		return psCastArray(name, elem, v)
	}
	switch typ {
	case "void":
		return nil, nil
	case "object", "psobject", "pscustomobject", "ordered", "hashtable", "collections.hashtable":
		// TODO(sim-ps): [pscustomobject] and [ordered] change how a
		// hashtable prints and orders; the sim keeps it as it is.
		return v, nil
	case "array":
		return psFlatten([]any{v}), nil
	case "string":
		return psCastString(v), nil
	case "bool", "boolean":
		return psTrue(v), nil
	case "char":
		return psCastChar(v)
	case "datetime":
		return psCastDate(v)
	case "double", "single", "float", "decimal":
		return psCastFloat(v)
	}
	if lo, hi, full, ok := psIntRange(typ); ok {
		return psCastInt(v, lo, hi, full)
	}
	return nil, &psThrow{msg: fmt.Sprintf("Unable to find type [%s].\n"+
		"    + CategoryInfo          : InvalidOperation: (%s:TypeName) [], "+
		"RuntimeException\n    + FullyQualifiedErrorId : TypeNotFound", name, name)}
}

// psIntRange gives an integer type's bounds and its .NET name.
func psIntRange(typ string) (lo, hi int64, full string, ok bool) {
	switch typ {
	case "int", "int32":
		return math.MinInt32, math.MaxInt32, "System.Int32", true
	case "long", "int64":
		return math.MinInt64, math.MaxInt64, "System.Int64", true
	case "uint32":
		return 0, math.MaxUint32, "System.UInt32", true
	case "int16", "short":
		return math.MinInt16, math.MaxInt16, "System.Int16", true
	case "byte":
		return 0, math.MaxUint8, "System.Byte", true
	}
	return 0, 0, "", false
}

func psCastArray(name, elem string, v any) (any, error) {
	items := psFlatten([]any{v})
	if elem == "byte" {
		if b, ok := v.([]byte); ok {
			return b, nil
		}
		out := make([]byte, 0, len(items))
		for _, it := range items {
			n, err := psCastInt(it, 0, math.MaxUint8, "System.Byte")
			if err != nil {
				return nil, err
			}
			out = append(out, byte(n.(int64)))
		}
		return out, nil
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		c, err := psCast(strings.TrimSuffix(name, "[]"), it)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// psCastString converts as [string] does: arrays joined by spaces ($OFS),
// dates in the invariant culture's general format.
func psCastString(v any) string {
	switch t := v.(type) {
	case time.Time:
		return t.Format("01/02/2006 15:04:05")
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = psCastString(e)
		}
		return strings.Join(parts, " ")
	}
	return psString(v)
}

func psCastChar(v any) (any, error) {
	if s, ok := v.(string); ok && len([]rune(s)) == 1 {
		return s, nil
	}
	n, err := psCastInt(v, 0, math.MaxUint16, "System.Char")
	if err != nil {
		return nil, err
	}
	return string(rune(n.(int64))), nil
}

func psCastDate(v any) (any, error) {
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case string:
		if tm, ok := psParseDate(t); ok {
			return tm, nil
		}
		return nil, psCastError(v, "System.DateTime",
			"String was not recognized as a valid DateTime.")
	case int64:
		// An integer is a count of 100 ns ticks since 0001-01-01.
		if t < 0 || t > 3155378975999999999 {
			return nil, psCastError(v, "System.DateTime", "Ticks must be between "+
				"DateTime.MinValue.Ticks and DateTime.MaxValue.Ticks.")
		}
		return time.Unix(t/1e7-62135596800, t%1e7*100).UTC(), nil
	}
	return nil, psCastError(v, "System.DateTime", "Invalid cast.")
}

func psCastFloat(v any) (any, error) {
	switch t := v.(type) {
	case nil:
		return 0.0, nil
	case bool:
		if t {
			return 1.0, nil
		}
		return 0.0, nil
	case string:
		if strings.TrimSpace(t) == "" {
			return 0.0, nil
		}
	}
	if f, ok := psFloat(v); ok {
		return f, nil
	}
	return nil, psCastError(v, "System.Double", "Input string was not in a correct format.")
}

// psCastInt converts to an integer type: fractions round half to even, as
// .NET's Convert does; strings may be decimal, hexadecimal (0x) or
// fractional; a value out of the type's range is an error.
func psCastInt(v any, lo, hi int64, full string) (any, error) {
	var f float64
	switch t := v.(type) {
	case nil:
		return int64(0), nil
	case bool:
		if t {
			return int64(1), nil
		}
		return int64(0), nil
	case int64:
		f = float64(t)
		if t >= lo && t <= hi {
			return t, nil
		}
	case float64:
		f = math.RoundToEven(t)
	case string:
		s := strings.TrimSpace(t)
		if s == "" {
			return int64(0), nil
		}
		n, err := psParseInt(s)
		if err == nil && n >= lo && n <= hi {
			return n, nil
		}
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return nil, psCastError(v, full, "Input string was not in a correct format.")
		}
		f = math.RoundToEven(f)
	default:
		return nil, psCastError(v, full, "Invalid cast.")
	}
	if math.IsNaN(f) || f < float64(lo) || f > float64(hi) {
		return nil, psCastError(v, full, "Value was either too large or too small for "+
			strings.TrimPrefix(full, "System.")+".")
	}
	return int64(f), nil
}

// psParseInt parses a decimal or 0x-prefixed hexadecimal integer; unlike
// Go, PowerShell reads a leading zero as decimal.
func psParseInt(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimLeft(s, "+-")
	if h, ok := strings.CutPrefix(strings.ToLower(digits), "0x"); ok {
		n, err := strconv.ParseInt(h, 16, 64)
		if neg {
			n = -n
		}
		return n, err
	}
	return strconv.ParseInt(s, 10, 64)
}
