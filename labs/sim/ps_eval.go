package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// psRun is one powershell.exe session.
type psRun struct {
	x      *execCtx
	vars   map[string]any
	ok     bool // $?
	script string
	depth  int // nested string expansions, bounded by psMaxDepth
}

// psExit ends the script with a code (exit N).
type psExit struct{ code int }

func (e *psExit) Error() string { return "exit " + strconv.Itoa(e.code) }

// psThrow is a terminating error.
type psThrow struct{ msg string }

func (e *psThrow) Error() string { return e.msg }

func newPSRun(x *execCtx) *psRun {
	return &psRun{x: x, ok: true, vars: map[string]any{
		"true": true, "false": false, "null": nil,
		"erroractionpreference": "Continue", "lastexitcode": int64(0),
		"pshome": `C:\Windows\System32\WindowsPowerShell\v1.0`,
		"psversiontable": &psObj{keys: []string{"PSVersion", "PSEdition"},
			vals: map[string]any{"psversion": "5.1.17763.1", "psedition": "Desktop"}},
	}}
}

// runScript parses and runs src, writing output and errors, and returns
// powershell.exe's exit code.
func (r *psRun) runScript(src string) int {
	r.script = src
	b, err := parsePS(src)
	if err != nil {
		r.x.errf("At line:1 char:1\n+ %s\n%s\n    + CategoryInfo          : ParserError: (:) [], "+
			"ParentContainsErrorRecordException\n    + FullyQualifiedErrorId : "+
			"UnexpectedToken\n\n", firstLine(src), err)
		return 1
	}
	err = r.block(b, r.print)
	var ex *psExit
	var th *psThrow
	switch {
	case errors.As(err, &ex):
		return ex.code
	case errors.As(err, &th):
		r.x.errf("%s\n", th.msg)
		return 1
	case err != nil:
		r.x.errf("%s\n", err)
		return 1
	}
	if !r.ok {
		return 1
	}
	return 0
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// print writes values reaching the top of the script to stdout.
func (r *psRun) print(items []any) {
	if len(items) == 0 {
		return
	}
	r.x.outf("%s", psFormat(items))
}

// block runs statements, sending each one's output to out.
func (r *psRun) block(b *psNode, out func([]any)) error {
	for _, st := range b.kids {
		if r.x.ctx.Err() != nil {
			return &psExit{code: 1}
		}
		r.ok = true // $? describes the last statement
		vals, err := r.statement(st)
		if err != nil {
			return err
		}
		out(vals)
	}
	return nil
}

func (r *psRun) statement(st *psNode) ([]any, error) {
	switch st.kind {
	case "assign":
		vals, err := r.pipeline(st.kids[0], nil)
		if err != nil {
			return nil, err
		}
		r.vars[strings.ToLower(st.s)] = psCollapse(vals)
		return nil, nil
	case "if":
		return r.ifStatement(st)
	case "exit":
		code := 0
		if len(st.kids) > 0 {
			v, err := r.eval(st.kids[0])
			if err != nil {
				return nil, err
			}
			n, _ := psInt(v)
			code = int(n)
		}
		return nil, &psExit{code: code}
	case "try":
		return r.tryStatement(st)
	case "foreach":
		return r.foreachStatement(st)
	}
	return r.pipeline(st, nil)
}

func (r *psRun) ifStatement(st *psNode) ([]any, error) {
	for i := 0; i+1 < len(st.kids); i += 2 {
		cond, err := r.pipeline(st.kids[i], nil)
		if err != nil {
			return nil, err
		}
		if psTrue(psCollapse(cond)) {
			return r.collect(st.kids[i+1])
		}
	}
	if len(st.kids)%2 == 1 {
		return r.collect(st.kids[len(st.kids)-1])
	}
	return nil, nil
}

func (r *psRun) tryStatement(st *psNode) ([]any, error) {
	out, err := r.collect(st.kids[0])
	var th *psThrow
	if errors.As(err, &th) && len(st.kids) > 1 {
		r.vars["_"] = th.msg
		more, err := r.collect(st.kids[1])
		return append(out, more...), err
	}
	return out, err
}

func (r *psRun) foreachStatement(st *psNode) ([]any, error) {
	coll, err := r.pipeline(st.kids[0], nil)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, v := range psFlatten(coll) {
		r.vars[strings.ToLower(st.s)] = v
		vals, err := r.collect(st.kids[1])
		if err != nil {
			return out, err
		}
		out = append(out, vals...)
	}
	return out, nil
}

// collect runs a block and returns all its output.
func (r *psRun) collect(b *psNode) ([]any, error) {
	var out []any
	err := r.block(b, func(v []any) { out = append(out, v...) })
	return out, err
}

// pipeline runs the elements of a pipeline, each taking the previous
// element's output as input.
func (r *psRun) pipeline(n *psNode, input []any) ([]any, error) {
	if n.kind != "pipeline" {
		v, err := r.eval(n)
		return psFlatten([]any{v}), err
	}
	cur := input
	for i, el := range n.kids {
		var err error
		if el.kind == "command" {
			cur, err = r.command(el, cur)
		} else {
			var v any
			v, err = r.eval(el)
			if i == 0 {
				cur = psFlatten([]any{v})
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if last := n.kids[len(n.kids)-1]; last.kind != "command" {
		r.ok = true // an expression succeeds whatever its operands did
	}
	return cur, nil
}

// eval evaluates an expression node.
func (r *psRun) eval(n *psNode) (any, error) {
	switch n.kind {
	case "num":
		v, ok := psNumber(n.s)
		if !ok {
			return n.s, nil
		}
		return v, nil
	case "str":
		return n.s, nil
	case "estr":
		return r.expand(n.s)
	case "var":
		return r.variable(n.s), nil
	case "type":
		return psType(n.s), nil
	case "cast":
		v, err := r.eval(n.kids[0])
		if err != nil {
			return nil, err
		}
		return psCast(n.s, v)
	case "array":
		return r.evalList(n.kids)
	case "paren", "pipeline", "subexpr":
		return r.evalGroup(n)
	case "scriptblock":
		return &psBlock{body: n.kids[0]}, nil
	case "hash":
		return r.evalHash(n)
	case "not":
		v, err := r.eval(n.kids[0])
		return !psTrue(v), err
	case "binop":
		return r.evalBinary(n)
	case "member", "membercall", "static", "staticcall":
		return r.evalMember(n)
	case "command", "assign", "if", "exit", "try", "foreach":
		vals, err := r.statement(n)
		return psCollapse(vals), err
	}
	return nil, fmt.Errorf("cannot evaluate %s", n.kind)
}

func (r *psRun) evalList(kids []*psNode) (any, error) {
	out := make([]any, 0, len(kids))
	for _, k := range kids {
		v, err := r.eval(k)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (r *psRun) evalGroup(n *psNode) (any, error) {
	switch n.kind {
	case "paren":
		vals, err := r.statement(n.kids[0])
		return psCollapse(vals), err
	case "subexpr":
		vals, err := r.collect(n.kids[0])
		if len(vals) == 1 {
			return vals[0], err
		}
		return vals, err
	}
	vals, err := r.pipeline(n, nil)
	return psCollapse(vals), err
}

func (r *psRun) evalHash(n *psNode) (any, error) {
	h := &psObj{vals: map[string]any{}}
	for i := 0; i+1 < len(n.kids); i += 2 {
		v, err := r.eval(n.kids[i+1])
		if err != nil {
			return nil, err
		}
		h.set(n.kids[i].s, v)
	}
	return h, nil
}

// variable reads $name, including $env:NAME.
func (r *psRun) variable(name string) any {
	lname := strings.ToLower(name)
	if env, ok := strings.CutPrefix(lname, "env:"); ok {
		if v, ok := r.x.h.env(r.x.p)[strings.ToUpper(env)]; ok {
			return v
		}
		return nil
	}
	switch lname {
	case "?":
		return r.ok
	case "pwd":
		return r.x.p.CurrentDir
	}
	return r.vars[lname]
}

// expand interpolates $var, ${var}, $(…) and backtick escapes.
func (r *psRun) expand(s string) (any, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > psMaxDepth {
		return nil, fmt.Errorf("strings nested too deep: %w", errPSSyntax)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '`' && i+1 < len(s):
			i++
			b.WriteString(map[byte]string{'n': "\n", 't': "\t", 'r': "\r", '0': "\x00",
				'a': "\a"}[s[i]])
			if !strings.ContainsRune("ntr0a", rune(s[i])) {
				b.WriteByte(s[i])
			}
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			end := matchParen(s, i+1)
			if end < 0 {
				return nil, fmt.Errorf("missing ')' in string: %w", errPSSyntax)
			}
			blk, err := parsePS(s[i+2 : end])
			if err != nil {
				return nil, err
			}
			vals, err := r.collect(blk)
			if err != nil {
				return nil, err
			}
			b.WriteString(psString(psCollapse(vals)))
			i = end
		case c == '$' && i+1 < len(s) && (isVarStart(s[i+1])):
			n := psVarLen(s[i:])
			b.WriteString(psString(r.variable(strings.Trim(s[i+1:i+n], "{}"))))
			i += n - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isVarStart(c byte) bool {
	return c == '{' || c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

func matchParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func (r *psRun) evalBinary(n *psNode) (any, error) {
	a, err := r.eval(n.kids[0])
	if err != nil {
		return nil, err
	}
	if n.s == "and" && !psTrue(a) {
		return false, nil
	}
	if n.s == "or" && psTrue(a) {
		return true, nil
	}
	b, err := r.eval(n.kids[1])
	if err != nil {
		return nil, err
	}
	return psBinaryOp(n.s, a, b)
}

func psBinaryOp(op string, a, b any) (any, error) {
	switch op {
	case "and", "or":
		return psTrue(b), nil
	case "eq", "ieq", "ceq":
		return psEqual(a, b), nil
	case "ne":
		return !psEqual(a, b), nil
	case "like", "notlike":
		ok := psLike(psString(a), psString(b))
		return ok == (op == "like"), nil
	case "match", "notmatch":
		re, err := regexp.Compile("(?i)" + psString(b))
		if err != nil {
			return nil, &psThrow{msg: "Invalid regular expression pattern: " + psString(b)}
		}
		return re.MatchString(psString(a)) == (op == "match"), nil
	case "contains", "notcontains", "in", "notin":
		coll, item := a, b
		if op == "in" || op == "notin" {
			coll, item = b, a
		}
		found := false
		for _, v := range psFlatten([]any{coll}) {
			found = found || psEqual(v, item)
		}
		return found == (op == "contains" || op == "in"), nil
	case "gt", "lt", "ge", "le":
		return psOrder(op, a, b), nil
	}
	return psArith(op, a, b)
}

func psArith(op string, a, b any) (any, error) {
	if s, ok := a.(string); ok && op == "+" {
		return s + psString(b), nil
	}
	if t, ok := a.(time.Time); ok {
		if d, ok := b.(time.Duration); ok {
			if op == "-" {
				d = -d
			}
			return t.Add(d), nil
		}
	}
	x, ok1 := psFloat(a)
	y, ok2 := psFloat(b)
	if !ok1 || !ok2 {
		return nil, &psThrow{msg: fmt.Sprintf("Method invocation failed because [%T] does "+
			"not contain a method named 'op_Addition'.", a)}
	}
	var v float64
	switch op {
	case "+":
		v = x + y
	case "-":
		v = x - y
	case "*":
		v = x * y
	default:
		if y == 0 {
			return nil, &psThrow{msg: "Attempted to divide by zero."}
		}
		v = x / y
	}
	if v == float64(int64(v)) {
		return int64(v), nil
	}
	return v, nil
}

// psLike matches a PowerShell wildcard pattern, case-insensitive.
func psLike(s, pat string) bool {
	var re strings.Builder
	re.WriteString("(?is)^")
	for _, c := range pat {
		switch c {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	ok, _ := regexp.MatchString(re.String(), s)
	return ok
}

// psBlock is a script block value.
type psBlock struct{ body *psNode }

// invoke runs a script block with $_ set to item.
func (r *psRun) invoke(b *psBlock, item any) ([]any, error) {
	old := r.vars["_"]
	r.vars["_"] = item
	defer func() { r.vars["_"] = old }()
	return r.collect(b.body)
}

// psObj is an ordered property bag: hashtables and result objects.
type psObj struct {
	keys []string
	vals map[string]any // by lower-case key
	name string         // type name for display, "" for a hashtable
}

func (o *psObj) set(k string, v any) {
	lk := strings.ToLower(k)
	if _, ok := o.vals[lk]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[lk] = v
}

func (o *psObj) get(k string) (any, bool) {
	v, ok := o.vals[strings.ToLower(k)]
	return v, ok
}

func psCollapse(vals []any) any {
	switch len(vals) {
	case 0:
		return nil
	case 1:
		return vals[0]
	}
	return vals
}

// psFlatten enumerates arrays into pipeline items; nil is no item.
func psFlatten(vals []any) []any {
	var out []any
	for _, v := range vals {
		switch t := v.(type) {
		case nil:
		case []any:
			out = append(out, t...)
		default:
			out = append(out, v)
		}
	}
	return out
}

func psTrue(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case int64:
		return t != 0
	case float64:
		return t != 0
	case []any:
		return len(t) > 0 && (len(t) > 1 || psTrue(t[0]))
	}
	return true
}

func psString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		if t {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case time.Time:
		return t.Format("1/2/2006 3:04:05 PM")
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = psString(e)
		}
		return strings.Join(parts, " ")
	case []byte:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = strconv.Itoa(int(e))
		}
		return strings.Join(parts, " ")
	case *Record:
		return "System.Diagnostics.Eventing.Reader.EventLogRecord"
	case *psService:
		return "System.ServiceProcess.ServiceController"
	case psType:
		return string(t)
	case *psObj:
		if t.name != "" {
			return t.name
		}
		return "System.Collections.Hashtable"
	}
	return fmt.Sprint(v)
}

func psInt(v any) (int64, bool) {
	switch t := v.(type) {
	case int64:
		return t, true
	case float64:
		return int64(t), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(t), 0, 64)
		return n, err == nil
	case bool:
		if t {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func psFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case int64:
		return float64(t), true
	case float64:
		return t, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f, err == nil
	}
	return 0, false
}

func psEqual(a, b any) bool {
	if x, ok := psFloat(a); ok {
		if _, isStr := a.(string); !isStr {
			y, ok := psFloat(b)
			return ok && x == y
		}
	}
	return strings.EqualFold(psString(a), psString(b))
}

func psOrder(op string, a, b any) bool {
	var c int
	if ta, ok := a.(time.Time); ok {
		tb, _ := psToTime(b)
		c = ta.Compare(tb)
	} else if x, ok := psFloat(a); ok {
		y, _ := psFloat(b)
		c = cmpFloat(x, y)
	} else {
		c = strings.Compare(strings.ToLower(psString(a)), strings.ToLower(psString(b)))
	}
	switch op {
	case "gt":
		return c > 0
	case "lt":
		return c < 0
	case "ge":
		return c >= 0
	}
	return c <= 0
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// psToTime converts a value to a time: a DateTime, or a string in one of
// the forms PowerShell parses.
func psToTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, true
	case string:
		return psParseDate(t)
	}
	return time.Time{}, false
}

// externalOutput runs a native program from PowerShell and returns its
// output lines as pipeline items, as PowerShell captures native stdout.
func (r *psRun) external(image string, c *psCall) ([]any, error) {
	parts := []string{psQuoteArg(c.name)}
	for _, a := range c.raw {
		parts = append(parts, psQuoteArg(a))
	}
	cmdline := strings.Join(parts, " ")
	var buf bytes.Buffer
	y := *r.x
	y.stdout = &buf
	code, err := r.x.h.runImage(&y, image, cmdline, r.x.p.identity())
	if err != nil {
		return nil, err
	}
	r.vars["lastexitcode"] = int64(code)
	r.ok = code == 0
	var out []any
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\r\n"), "\n") {
		if buf.Len() > 0 {
			out = append(out, strings.TrimRight(line, "\r"))
		}
	}
	return out, nil
}

func psQuoteArg(a string) string {
	if a == "" || strings.ContainsAny(a, " \t") {
		return `"` + strings.ReplaceAll(a, `"`, `\"`) + `"`
	}
	return a
}

var _ io.Writer = (*bytes.Buffer)(nil)
