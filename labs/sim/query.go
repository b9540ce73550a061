package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// xpathMaxLen bounds a structured query, as the event log service does.
const xpathMaxLen = 32 << 10

// compileXPath compiles the subset of the event log's XPath 1.0 dialect
// that wevtutil /q: and Get-WinEvent -FilterXPath queries use:
// *[System[(EventID=1 or EventID=3) and Provider[@Name='…'] and
// TimeCreated[@SystemTime>='…' or timediff(@SystemTime) <= n]]] and
// *[EventData[Data[@Name='…']='…']].
func compileXPath(q string, now time.Time) (func(*Record) bool, error) {
	if len(q) > xpathMaxLen {
		return nil, fmt.Errorf("query of %d bytes is too long", len(q))
	}
	p := &xpParser{toks: xpTokens(q), now: now}
	if len(p.toks) == 0 || (len(p.toks) == 1 && p.toks[0] == "*") {
		return func(*Record) bool { return true }, nil
	}
	f, err := p.step("")
	if err != nil {
		return nil, err
	}
	if p.i > len(p.toks) {
		return nil, fmt.Errorf("unexpected end of query")
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.i])
	}
	return f, nil
}

func xpTokens(q string) []string {
	var toks []string
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				toks = append(toks, q[i:])
				i = len(q)
				break
			}
			toks = append(toks, q[i:i+2+end])
			i += end + 2
		case strings.IndexByte("[]()=", c) >= 0:
			toks = append(toks, string(c))
			i++
		case c == '<' || c == '>' || c == '!':
			if i+1 < len(q) && q[i+1] == '=' {
				toks = append(toks, q[i:i+2])
				i += 2
			} else {
				toks = append(toks, string(c))
				i++
			}
		default:
			j := i
			for j < len(q) && strings.IndexByte(" \t\r\n[]()=<>!'\"", q[j]) < 0 {
				j++
			}
			toks = append(toks, q[i:j])
			i = j
		}
	}
	return toks
}

type xpParser struct {
	toks []string
	i    int
	now  time.Time
}

func (p *xpParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *xpParser) next() string {
	t := p.peek()
	p.i++
	return t
}

func (p *xpParser) expect(t string) error {
	if got := p.next(); got != t {
		return fmt.Errorf("expected %q, got %q", t, got)
	}
	return nil
}

// step parses "Name[pred]" (the name is a context for the predicate) or a
// comparison within ctx.
func (p *xpParser) step(ctx string) (func(*Record) bool, error) {
	name := p.next()
	if name == "(" {
		f, err := p.or(ctx)
		if err != nil {
			return nil, err
		}
		return f, p.expect(")")
	}
	if strings.HasPrefix(name, "timediff") {
		return p.timediff()
	}
	if name == "Data" && p.peek() == "[" {
		return p.namedData()
	}
	if p.peek() == "[" {
		p.next()
		inner := strings.TrimPrefix(strings.TrimPrefix(name, "Event/"), "*")
		if inner == "" || inner == "Event" {
			inner = ctx
		}
		f, err := p.or(inner)
		if err != nil {
			return nil, err
		}
		return f, p.expect("]")
	}
	op := p.next()
	if !isCompare(op) {
		p.i--
		return p.existence(ctx, name)
	}
	return p.compare(ctx, name, op, unquote(p.next()))
}

func (p *xpParser) or(ctx string) (func(*Record) bool, error) {
	left, err := p.and(ctx)
	for err == nil && p.peek() == "or" {
		p.next()
		var right func(*Record) bool
		right, err = p.and(ctx)
		l, r := left, right
		left = func(rec *Record) bool { return l(rec) || r(rec) }
	}
	return left, err
}

func (p *xpParser) and(ctx string) (func(*Record) bool, error) {
	left, err := p.step(ctx)
	for err == nil && p.peek() == "and" {
		p.next()
		var right func(*Record) bool
		right, err = p.step(ctx)
		l, r := left, right
		left = func(rec *Record) bool { return l(rec) && r(rec) }
	}
	return left, err
}

func isCompare(op string) bool {
	switch op {
	case "=", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') {
		return s[1 : len(s)-1]
	}
	return s
}

// namedData parses Data[@Name='n']='v' (or without the comparison, which
// only asks that the field exists).
func (p *xpParser) namedData() (func(*Record) bool, error) {
	p.next()
	if p.next() != "@Name" || p.next() != "=" {
		return nil, fmt.Errorf("expected Data[@Name='…']")
	}
	name := unquote(p.next())
	if err := p.expect("]"); err != nil {
		return nil, err
	}
	if !isCompare(p.peek()) {
		return func(r *Record) bool {
			for _, f := range r.Data {
				if f.Name == name {
					return true
				}
			}
			return false
		}, nil
	}
	op := p.next()
	val := unquote(p.next())
	return func(r *Record) bool {
		v, ok := "", false
		for _, f := range r.Data {
			if f.Name == name {
				v, ok = f.Value, true
				break
			}
		}
		return ok && cmpOrdered(op, v, val)
	}, nil
}

// existence handles a bare name such as Data[@Name='x'] without a value.
func (p *xpParser) existence(ctx, name string) (func(*Record) bool, error) {
	return nil, fmt.Errorf("unsupported term %q in %s", name, ctx)
}

// compare builds one comparison of a System or EventData field.
func (p *xpParser) compare(ctx, name, op, val string) (func(*Record) bool, error) {
	switch ctx + "/" + name {
	case "System/EventID":
		return numCompare(op, val, func(r *Record) uint64 { return uint64(r.EventID) })
	case "System/EventRecordID":
		return numCompare(op, val, func(r *Record) uint64 { return r.RecordID })
	case "System/Level":
		return numCompare(op, val, func(r *Record) uint64 { return uint64(r.Level) })
	case "System/Task":
		return numCompare(op, val, func(r *Record) uint64 { return uint64(r.Task) })
	case "System/Version":
		return numCompare(op, val, func(r *Record) uint64 { return uint64(r.Version) })
	case "System/Computer":
		return strCompare(op, val, func(r *Record) string { return r.Computer })
	case "System/Channel":
		return strCompare(op, val, func(r *Record) string { return r.Channel })
	case "Provider/@Name":
		return strCompare(op, val, func(r *Record) string { return r.Provider })
	case "Provider/@Guid":
		return strCompare(op, val, func(r *Record) string { return r.ProviderGUID })
	case "Security/@UserID":
		return strCompare(op, val, func(r *Record) string { return r.UserID })
	case "Execution/@ProcessID":
		return numCompare(op, val, func(r *Record) uint64 { return uint64(r.ProcessID) })
	case "TimeCreated/@SystemTime":
		t, err := time.Parse(time.RFC3339Nano, val)
		if err != nil {
			return nil, fmt.Errorf("parse SystemTime %q: %w", val, err)
		}
		return timeCompare(op, t)
	case "EventData/Data":
		return func(r *Record) bool { return dataMatches(r, val, op) }, nil
	}
	return nil, fmt.Errorf("unsupported field %s in %s", name, ctx)
}

// dataMatches reports whether any Data value compares to val.
func dataMatches(r *Record, val, op string) bool {
	for _, f := range r.Data {
		if (op == "=" && f.Value == val) || (op == "!=" && f.Value != val) {
			return true
		}
	}
	return false
}

func (p *xpParser) timediff() (func(*Record) bool, error) {
	if p.next() != "(" || p.next() != "@SystemTime" || p.next() != ")" {
		return nil, fmt.Errorf("bad timediff")
	}
	op := p.next()
	ms, err := strconv.ParseInt(p.next(), 10, 64)
	if err != nil || (op != "<=" && op != "<") {
		return nil, fmt.Errorf("bad timediff comparison")
	}
	now := p.now
	return func(r *Record) bool {
		return now.Sub(r.Time) <= time.Duration(ms)*time.Millisecond
	}, nil
}

func numCompare(op, val string, get func(*Record) uint64) (func(*Record) bool, error) {
	n, err := strconv.ParseUint(val, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("parse number %q: %w", val, err)
	}
	return func(r *Record) bool { return cmpOrdered(op, get(r), n) }, nil
}

func strCompare(op, val string, get func(*Record) string) (func(*Record) bool, error) {
	return func(r *Record) bool { return cmpOrdered(op, get(r), val) }, nil
}

func timeCompare(op string, t time.Time) (func(*Record) bool, error) {
	return func(r *Record) bool {
		return cmpOrdered(op, r.Time.UnixNano(), t.UnixNano())
	}, nil
}

func cmpOrdered[T uint64 | int64 | string](op string, a, b T) bool {
	switch op {
	case "=":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	}
	return a >= b
}

// runWevtutil is wevtutil qe (query events) and el (enumerate logs).
func runWevtutil(x *execCtx) int {
	if len(x.args) == 0 {
		x.errf("Windows Events Command Line Utility.\n")
		return 0
	}
	switch strings.ToLower(x.args[0]) {
	case "el", "enum-logs":
		for _, ch := range []string{"Application", "Security", "System"} {
			x.outf("%s\n", ch)
		}
		if !x.h.cfg.Sensors.NoSysmon {
			x.outf("Microsoft-Windows-Sysmon/Operational\n")
		}
		return 0
	case "qe", "query-events":
		if len(x.args) < 2 {
			x.errf("The parameter is incorrect.\n")
			return 87
		}
		return x.wevtutilQuery(x.args[1], x.args[2:])
	}
	x.errf("Failed to execute the command. The parameter is incorrect.\n")
	return 87
}

func (x *execCtx) wevtutilQuery(channel string, opts []string) int {
	if !x.h.hasChannel(channel) {
		x.errf("Failed to read events. The specified channel could not be found.\n")
		return 15007
	}
	query, count, reverse, format, root := "*", -1, false, "xml", ""
	for _, o := range opts {
		k, v, _ := strings.Cut(strings.TrimLeft(o, "/-"), ":")
		switch strings.ToLower(k) {
		case "q", "query":
			query = v
		case "c", "count":
			count, _ = strconv.Atoi(v)
		case "rd", "reversedirection":
			reverse = strings.EqualFold(v, "true")
		case "f", "format":
			format = strings.ToLower(v)
		case "e", "element":
			root = v
		}
	}
	match, err := compileXPath(query, x.h.now())
	if err != nil {
		x.errf("Failed to read events. The specified query is invalid.\n")
		return 15001
	}
	recs := x.h.events(Filter{Channels: []string{channel}, Match: match})
	if reverse {
		reverseRecords(recs)
	}
	if count >= 0 && len(recs) > count {
		recs = recs[:count]
	}
	if root != "" && format != "text" {
		x.outf("<%s>", root)
		defer x.outf("</%s>", root)
	}
	for i := range recs {
		if format == "text" {
			x.outf("Event[%d]:\n  Log Name: %s\n  Source: %s\n  Event ID: %d\n\n", i,
				recs[i].Channel, recs[i].Provider, recs[i].EventID)
			continue
		}
		_, _ = x.stdout.Write([]byte(recs[i].XML() + "\r\n"))
	}
	return 0
}

func reverseRecords(rs []Record) {
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
}
