package sim

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
)

// Limits on PowerShell input, which arrives from the WinRM client.
const (
	psMaxScript = 1 << 20
	psMaxDepth  = 64
	psMaxTokens = 200_000
)

// runPowerShell is powershell.exe: -EncodedCommand (UTF-16LE base64, as
// masterzen/winrm's RunPS and pywinrm's run_ps send), -Command, or the
// remaining arguments as the command.
func runPowerShell(x *execCtx) int {
	script, encoded, ok := psScript(x.args)
	if !ok {
		x.errf("Cannot process the command because the value specified with " +
			"-EncodedCommand is not properly encoded. The value must be Base64 encoded.\n")
		return 1
	}
	if len(script) > psMaxScript {
		x.errf("The command line is too long.\n")
		return 1
	}
	if !encoded {
		return newPSRun(x).runScript(script)
	}
	// With -EncodedCommand and a redirected stderr, as under WinRS, Windows
	// PowerShell serializes the error stream as CLIXML.
	errs := &cliXMLWriter{}
	y := *x
	y.stderr = errs
	code := newPSRun(&y).runScript(script)
	errs.flush(x.stderr)
	return code
}

// cliXMLWriter collects error text and writes it as PowerShell's CLIXML
// error stream: one <S S="Error"> element per line.
type cliXMLWriter struct{ buf []byte }

// Write collects p; the stream is written by flush.
func (w *cliXMLWriter) Write(p []byte) (int, error) {
	if len(w.buf)+len(p) > psMaxScript {
		return len(p), nil // keep the stream bounded; the rest is dropped
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *cliXMLWriter) flush(dst io.Writer) {
	if len(w.buf) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("#< CLIXML\r\n<Objs Version=\"1.1.0.1\" " +
		"xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">")
	for _, line := range strings.SplitAfter(string(w.buf), "\n") {
		if line == "" {
			continue
		}
		b.WriteString("<S S=\"Error\">" + cliXMLEscape(line) + "</S>")
	}
	b.WriteString("</Objs>")
	_, _ = io.WriteString(dst, b.String())
}

// cliXMLEscape escapes a string as PowerShell's serializer does: XML
// entities, control characters as _xHHHH_, and an underscore that would
// read as such an escape.
func cliXMLEscape(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "_x%04X_", r)
		case r == '_' && strings.HasPrefix(s[i:], "_x"):
			b.WriteString("_x005F_")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// psScript finds the script in powershell.exe's arguments and reports
// whether it came encoded.
func psScript(args []string) (script string, encoded, ok bool) {
	for i := 0; i < len(args); i++ {
		a := strings.ToLower(args[i])
		if !strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "/") {
			return strings.Join(args[i:], " "), false, true
		}
		name := strings.TrimLeft(a, "-/")
		switch {
		case name == "e" || name == "ec" || strings.HasPrefix("encodedcommand", name) &&
			len(name) >= 3:
			if i+1 >= len(args) {
				return "", true, false
			}
			script, ok := decodeUTF16Base64(args[i+1])
			return script, true, ok
		case name == "c" || strings.HasPrefix("command", name) && len(name) >= 3:
			return strings.Join(args[i+1:], " "), false, true
		case name == "executionpolicy" || name == "ep" || name == "windowstyle" ||
			name == "w" || name == "outputformat" || name == "inputformat" ||
			name == "version" || name == "file":
			i++
		}
	}
	return "", false, true
}

func decodeUTF16Base64(s string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%2 != 0 {
		return "", false
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u)), true
}

// psTok is one PowerShell token.
type psTok struct {
	kind byte // w word, v variable, s literal string, e expandable string,
	// n number, p -parameter, o operator, t [type], ; statement end
	s     string
	space bool // whitespace precedes the token
	pos   int
}

var errPSSyntax = errors.New("syntax error")

// psLexer splits a script into tokens.
type psLexer struct {
	src   string
	i     int
	space bool // whitespace precedes the next token
	toks  []psTok
	nest  []byte // open brackets: h for @{, o for the others
}

// psLex splits a script into tokens.
func psLex(src string) ([]psTok, error) {
	l := &psLexer{src: src, space: true}
	for l.i < len(src) {
		if len(l.toks) > psMaxTokens {
			return nil, fmt.Errorf("script too long: %w", errPSSyntax)
		}
		if err := l.next(); err != nil {
			return nil, err
		}
	}
	return l.toks, nil
}

func (l *psLexer) emit(kind byte, s string, pos int) {
	l.toks = append(l.toks, psTok{kind: kind, s: s, space: l.space, pos: pos})
	l.space = false
	switch {
	case kind != 'o':
	case s == "@{":
		l.nest = append(l.nest, 'h')
	case s == "{" || s == "(" || s == "@(" || s == "$(":
		l.nest = append(l.nest, 'o')
	case (s == "}" || s == ")") && len(l.nest) > 0:
		l.nest = l.nest[:len(l.nest)-1]
	}
}

// at reports whether the source continues with prefix.
func (l *psLexer) at(prefix string) bool { return strings.HasPrefix(l.src[l.i:], prefix) }

// peekByte returns the byte after the current one, or 0.
func (l *psLexer) peekByte() byte {
	if l.i+1 < len(l.src) {
		return l.src[l.i+1]
	}
	return 0
}

// next consumes one token, blank or comment.
func (l *psLexer) next() error {
	c, n := l.src[l.i], l.peekByte()
	switch {
	case c == '`' && (n == '\n' || n == '\r'):
		l.i += 2
		l.space = true
	case c == ' ' || c == '\t' || c == '\r':
		l.i++
		l.space = true
	case c == '\n' || c == ';':
		l.emit(';', ";", l.i)
		l.i++
		l.space = true
	case c == '#':
		for l.i < len(l.src) && l.src[l.i] != '\n' {
			l.i++
		}
	case l.at("<#"):
		end := strings.Index(l.src[l.i:], "#>")
		if end < 0 {
			return fmt.Errorf("unterminated comment: %w", errPSSyntax)
		}
		l.i += end + 2
	case c == '\'' || c == '"':
		return l.quoted(c)
	case c == '$' || (c == '@' && (n == '(' || n == '{')):
		l.sigil(c, n)
	case c == '[' && (l.space || len(l.toks) == 0 || !psValueEnd(l.toks[len(l.toks)-1])):
		return l.typeLiteral()
	case l.at("::"):
		l.emit('o', "::", l.i)
		l.i += 2
	case c == '-' && unicode.IsLetter(rune(n)) && l.space:
		l.run('p', l.i+1, func(b byte) bool { return isWordByte(b) && b != '.' })
	case c >= '0' && c <= '9' && (l.space || len(l.toks) == 0 ||
		l.toks[len(l.toks)-1].kind == 'o' || l.toks[len(l.toks)-1].kind == 't'):
		l.run('n', l.i, isWordByte)
	case l.isPunct(c, n):
		l.punct(c, n)
	default:
		l.word()
	}
	return nil
}

func (l *psLexer) quoted(c byte) error {
	read := psSingleQuoted
	kind := byte('s')
	if c == '"' {
		read, kind = psDoubleQuoted, 'e'
	}
	s, n, err := read(l.src[l.i:])
	if err != nil {
		return err
	}
	l.emit(kind, s, l.i)
	l.i += n
	return nil
}

// sigil lexes $( @( @{ and variables.
func (l *psLexer) sigil(c, n byte) {
	if n == '(' || (c == '@' && n == '{') {
		l.emit('o', string([]byte{c, n}), l.i)
		l.i += 2
		return
	}
	size := psVarLen(l.src[l.i:])
	l.emit('v', strings.Trim(l.src[l.i+1:l.i+size], "{}"), l.i)
	l.i += size
}

// typeLiteral lexes [Name], [Name[]] and [Generic[Name]].
func (l *psLexer) typeLiteral() error {
	end, depth := -1, 0
	for j := l.i; j < len(l.src) && end < 0; j++ {
		switch l.src[j] {
		case '[':
			depth++
		case ']':
			if depth--; depth == 0 {
				end = j - l.i
			}
		}
	}
	if end < 0 {
		return fmt.Errorf("missing ']': %w", errPSSyntax)
	}
	l.emit('t', l.src[l.i+1:l.i+end], l.i)
	l.i += end + 1
	return nil
}

// run emits the bytes from from on that satisfy ok as one token of kind.
func (l *psLexer) run(kind byte, from int, ok func(byte) bool) {
	j := from
	for j < len(l.src) && ok(l.src[j]) {
		j++
	}
	l.emit(kind, l.src[from:j], l.i)
	l.i = j
}

// isPunct reports an operator character. A dot that starts a relative path
// and a slash that starts a native switch (/v) begin words instead.
func (l *psLexer) isPunct(c, n byte) bool {
	if strings.IndexByte("|,(){}]=+!.*/%><&", c) < 0 {
		return false
	}
	if c == '.' && l.space && (n == '\\' || n == '.') {
		return false
	}
	return !(c == '/' && unicode.IsLetter(rune(n)))
}

func (l *psLexer) punct(c, n byte) {
	switch {
	case c == '%' && l.space && (n == 0 || n == ' '):
		l.emit('w', "%", l.i) // the ForEach-Object alias
	default:
		l.emit('o', string(c), l.i)
	}
	l.i++
}

// word lexes a bare word. In command mode "binPath=" is one word; inside
// @{ } the = ends a key.
func (l *psLexer) word() {
	inHash := len(l.nest) > 0 && l.nest[len(l.nest)-1] == 'h'
	j := l.i
	for j < len(l.src) && (isWordByte(l.src[j]) || l.src[j] == '=' && !inHash && j > l.i) {
		j++
	}
	if j == l.i {
		j++
	}
	l.emit('w', l.src[l.i:j], l.i)
	l.i = j
}

func isWordByte(c byte) bool {
	return c > ' ' && strings.IndexByte("|;,(){}='\"$", c) < 0 && c != '\n'
}

func psValueEnd(t psTok) bool {
	return t.kind == 'v' || (t.kind == 'o' && (t.s == ")" || t.s == "]")) || t.kind == 's' ||
		t.kind == 'e'
}

func psVarLen(s string) int {
	if strings.HasPrefix(s, "${") {
		if end := strings.IndexByte(s, '}'); end > 0 {
			return end + 1
		}
		return len(s)
	}
	j := 1
	for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) ||
		s[j] == '_' || s[j] == '?' || (s[j] == ':' && j+1 < len(s) && s[j+1] != ':' &&
		strings.EqualFold(s[1:j], "env"))) {
		j++
	}
	return j
}

func psSingleQuoted(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] == '\'' {
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), i + 1, nil
		}
		b.WriteByte(s[i])
	}
	return "", 0, fmt.Errorf("unterminated string: %w", errPSSyntax)
}

func psDoubleQuoted(s string) (string, int, error) {
	var b strings.Builder
	depth := 0
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '`' && i+1 < len(s):
			b.WriteByte('`')
			b.WriteByte(s[i+1])
			i++
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '(':
			depth++
			b.WriteString("$(")
			i++
		case s[i] == ')' && depth > 0:
			depth--
			b.WriteByte(')')
		case s[i] == '"' && depth == 0:
			if i+1 < len(s) && s[i+1] == '"' {
				b.WriteString("`\"")
				i++
				continue
			}
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("unterminated string: %w", errPSSyntax)
}

// psNode is a node of a parsed script.
type psNode struct {
	kind   string // see psParser for the kinds
	s      string
	kids   []*psNode
	params []psParam
	pos    int
}

// psParam is one argument of a command: a -Name with an optional value, or
// a positional value.
type psParam struct {
	name  string
	value *psNode
}

type psParser struct {
	toks  []psTok
	i     int
	depth int
	src   string
}

func (p *psParser) peek() psTok {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return psTok{kind: 0}
}

func (p *psParser) next() psTok {
	t := p.peek()
	p.i++
	return t
}

func (p *psParser) isOp(s string) bool {
	t := p.peek()
	return t.kind == 'o' && t.s == s
}

func (p *psParser) expectOp(s string) error {
	if t := p.next(); t.kind != 'o' || t.s != s {
		return fmt.Errorf("missing '%s' at %d: %w", s, t.pos, errPSSyntax)
	}
	return nil
}

func (p *psParser) skipEnds() {
	for p.peek().kind == ';' {
		p.i++
	}
}

// block parses statements up to '}' or the end.
func (p *psParser) block() (*psNode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > psMaxDepth {
		return nil, fmt.Errorf("nesting too deep: %w", errPSSyntax)
	}
	n := &psNode{kind: "block"}
	for {
		p.skipEnds()
		if t := p.peek(); t.kind == 0 || (t.kind == 'o' && (t.s == "}" || t.s == ")")) {
			return n, nil
		}
		st, err := p.statement()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, st)
	}
}

func (p *psParser) statement() (*psNode, error) {
	t := p.peek()
	if t.kind == 'w' {
		switch strings.ToLower(t.s) {
		case "if":
			return p.ifStatement()
		case "exit", "return":
			p.next()
			n := &psNode{kind: "exit", s: strings.ToLower(t.s)}
			if k := p.peek(); k.kind != ';' && k.kind != 0 && !p.isOp("}") {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				n.kids = []*psNode{e}
			}
			return n, nil
		case "try":
			return p.tryStatement()
		case "foreach":
			return p.foreachStatement()
		}
	}
	if t.kind == 'v' && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == 'o' &&
		p.toks[p.i+1].s == "=" {
		p.i += 2
		rhs, err := p.pipeline()
		if err != nil {
			return nil, err
		}
		return &psNode{kind: "assign", s: t.s, kids: []*psNode{rhs}}, nil
	}
	return p.pipeline()
}

func (p *psParser) ifStatement() (*psNode, error) {
	p.next()
	n := &psNode{kind: "if"}
	for {
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		cond, err := p.pipeline()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		body, err := p.braceBlock()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, cond, body)
		save := p.i
		p.skipEnds()
		w := strings.ToLower(p.peek().s)
		if p.peek().kind == 'w' && w == "elseif" {
			p.next()
			continue
		}
		if p.peek().kind == 'w' && w == "else" {
			p.next()
			body, err := p.braceBlock()
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, body)
			return n, nil
		}
		p.i = save
		return n, nil
	}
}

func (p *psParser) tryStatement() (*psNode, error) {
	p.next()
	body, err := p.braceBlock()
	if err != nil {
		return nil, err
	}
	n := &psNode{kind: "try", kids: []*psNode{body}}
	save := p.i
	p.skipEnds()
	if t := p.peek(); t.kind == 'w' && strings.EqualFold(t.s, "catch") {
		p.next()
		if p.peek().kind == 't' {
			p.next()
		}
		c, err := p.braceBlock()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, c)
		return n, nil
	}
	p.i = save
	return n, nil
}

func (p *psParser) foreachStatement() (*psNode, error) {
	p.next()
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	v := p.next()
	if in := p.next(); v.kind != 'v' || !strings.EqualFold(in.s, "in") {
		return nil, fmt.Errorf("bad foreach: %w", errPSSyntax)
	}
	coll, err := p.pipeline()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	body, err := p.braceBlock()
	if err != nil {
		return nil, err
	}
	return &psNode{kind: "foreach", s: v.s, kids: []*psNode{coll, body}}, nil
}

func (p *psParser) braceBlock() (*psNode, error) {
	p.skipEnds()
	if err := p.expectOp("{"); err != nil {
		return nil, err
	}
	b, err := p.block()
	if err != nil {
		return nil, err
	}
	return b, p.expectOp("}")
}

// pipeline parses element | element | …, with redirections dropped.
func (p *psParser) pipeline() (*psNode, error) {
	n := &psNode{kind: "pipeline", pos: p.peek().pos}
	for {
		el, err := p.element()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, el)
		for p.isOp(">") || (p.peek().kind == 'n' && p.peek().s == "2" && p.i+1 < len(p.toks) &&
			p.toks[p.i+1].s == ">") {
			p.skipRedirect()
		}
		if !p.isOp("|") {
			return n, nil
		}
		p.next()
		p.skipEnds()
	}
}

// skipRedirect consumes > file, >> file, 2>&1 and 2>$null.
func (p *psParser) skipRedirect() {
	if p.peek().kind == 'n' {
		p.next()
	}
	p.next()
	if p.isOp(">") {
		p.next()
	}
	if p.isOp("&") {
		p.next()
	}
	p.next()
}

func (p *psParser) element() (*psNode, error) {
	t := p.peek()
	switch {
	case t.kind == 'w':
		return p.command()
	case t.kind == 'o' && t.s == "&":
		p.next()
		return p.command()
	}
	return p.expr()
}

var psSwitches = map[string]bool{
	"force": true, "recurse": true, "oldest": true, "passthru": true, "nonewline": true,
	"asbytestream": true, "raw": true, "verbose": true, "whatif": true, "quiet": true,
	"wait": true, "utc": true, "list": true, "nologo": true, "noprofile": true,
	"asplaintext": true, "debug": true, "asjob": true, "listavailable": true,
}

// command parses a command name and its arguments.
func (p *psParser) command() (*psNode, error) {
	name := p.next()
	n := &psNode{kind: "command", s: name.s, pos: name.pos}
	if name.kind == 's' || name.kind == 'e' {
		n.s = name.s
	}
	for {
		t := p.peek()
		if t.kind == 0 || t.kind == ';' || (t.kind == 'o' && strings.Contains("|)}", t.s)) ||
			(t.kind == 'o' && t.s == ">") || (t.kind == 'n' && t.s == "2" &&
			p.i+1 < len(p.toks) && p.toks[p.i+1].s == ">") {
			return n, nil
		}
		if t.kind == 'p' {
			p.next()
			name := strings.TrimSuffix(t.s, ":")
			if strings.HasSuffix(t.s, ":") || (!psSwitches[strings.ToLower(name)] &&
				p.argStart()) {
				v, err := p.argValue()
				if err != nil {
					return nil, err
				}
				n.params = append(n.params, psParam{name: name, value: v})
			} else {
				n.params = append(n.params, psParam{name: name})
			}
			continue
		}
		v, err := p.argValue()
		if err != nil {
			return nil, err
		}
		n.params = append(n.params, psParam{value: v})
	}
}

// argStart reports whether the next token can begin a parameter value.
func (p *psParser) argStart() bool {
	t := p.peek()
	switch t.kind {
	case 0, ';', 'p':
		return false
	case 'o':
		return t.s == "(" || t.s == "@(" || t.s == "@{" || t.s == "$(" || t.s == "{"
	}
	return true
}

// argValue parses one command argument, with comma lists.
func (p *psParser) argValue() (*psNode, error) {
	var items []*psNode
	for {
		t := p.peek()
		var v *psNode
		var err error
		if t.kind == 'w' {
			p.next()
			v = &psNode{kind: "str", s: t.s}
		} else {
			v, err = p.postfix()
			if err != nil {
				return nil, err
			}
		}
		items = append(items, v)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	if len(items) == 1 {
		return items[0], nil
	}
	return &psNode{kind: "array", kids: items}, nil
}

var psBinary = map[string]int{
	"or": 1, "and": 2, "eq": 3, "ne": 3, "like": 3, "notlike": 3, "match": 3,
	"notmatch": 3, "gt": 3, "lt": 3, "ge": 3, "le": 3, "contains": 3, "in": 3,
	"ieq": 3, "ceq": 3, "notin": 3, "notcontains": 3, "+": 4, "-": 4, "*": 5, "/": 5,
}

// expr parses a full expression with binary operators by precedence.
func (p *psParser) expr() (*psNode, error) {
	return p.binary(1)
}

func (p *psParser) binary(level int) (*psNode, error) {
	if level > 5 {
		return p.unary()
	}
	left, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		op := ""
		if t.kind == 'p' || (t.kind == 'o' && (t.s == "+" || t.s == "-" || t.s == "*" ||
			t.s == "/")) {
			op = strings.ToLower(t.s)
		}
		if lv, ok := psBinary[op]; !ok || lv != level {
			return left, nil
		}
		p.next()
		right, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		left = &psNode{kind: "binop", s: op, kids: []*psNode{left, right}}
	}
}

func (p *psParser) unary() (*psNode, error) {
	t := p.peek()
	if (t.kind == 'p' && strings.EqualFold(t.s, "not")) || (t.kind == 'o' && t.s == "!") {
		p.next()
		v, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &psNode{kind: "not", kids: []*psNode{v}}, nil
	}
	if t.kind == 'p' && isDigits(t.s) {
		p.next()
		return &psNode{kind: "num", s: "-" + t.s}, nil
	}
	first, err := p.postfix()
	if err != nil {
		return nil, err
	}
	if !p.isOp(",") {
		return first, nil
	}
	items := []*psNode{first}
	for p.isOp(",") {
		p.next()
		v, err := p.postfix()
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return &psNode{kind: "array", kids: items}, nil
}

// postfix parses a primary with member access, static calls and indexing.
func (p *psParser) postfix() (*psNode, error) {
	n, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == 'o' && (t.s == "." && !t.space || t.s == "::"):
			p.next()
			m := p.next()
			kind := "member"
			if t.s == "::" {
				kind = "static"
			}
			names := strings.Split(m.s, ".")
			for i, name := range names {
				n = &psNode{kind: kind, s: name, kids: []*psNode{n}}
				kind = "member"
				if i == len(names)-1 && p.isOp("(") && !p.peek().space {
					p.next()
					args, err := p.callArgs()
					if err != nil {
						return nil, err
					}
					n.kind += "call"
					n.kids = append(n.kids, args...)
				}
			}
		default:
			return n, nil
		}
	}
}

func (p *psParser) callArgs() ([]*psNode, error) {
	var args []*psNode
	for !p.isOp(")") {
		if p.peek().kind == 0 {
			return nil, fmt.Errorf("missing ')': %w", errPSSyntax)
		}
		a, err := p.binary(1)
		if err != nil {
			return nil, err
		}
		if a.kind == "array" {
			args = append(args, a.kids...)
		} else {
			args = append(args, a)
		}
		if p.isOp(",") {
			p.next()
		}
	}
	p.next()
	return args, nil
}

func (p *psParser) primary() (*psNode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > psMaxDepth {
		return nil, fmt.Errorf("nesting too deep: %w", errPSSyntax)
	}
	t := p.next()
	switch t.kind {
	case 'n':
		return &psNode{kind: "num", s: t.s}, nil
	case 's':
		return &psNode{kind: "str", s: t.s}, nil
	case 'e':
		return &psNode{kind: "estr", s: t.s}, nil
	case 'v':
		return &psNode{kind: "var", s: t.s}, nil
	case 't':
		return p.typeOrCast(t)
	case 'w':
		return &psNode{kind: "str", s: t.s}, nil
	case 'o':
		return p.grouping(t)
	}
	return nil, fmt.Errorf("unexpected token %q at %d: %w", t.s, t.pos, errPSSyntax)
}

// typeOrCast parses a type literal, or a cast when a value follows it:
// [int]'5', [DateTime] $s, [void](…). The cast binds to the value with its
// member accesses, as PowerShell's unary cast does.
func (p *psParser) typeOrCast(t psTok) (*psNode, error) {
	typ := &psNode{kind: "type", s: t.s, pos: t.pos}
	n := p.peek()
	switch {
	case n.kind == 'n' || n.kind == 's' || n.kind == 'e' || n.kind == 'v' || n.kind == 't':
	case n.kind == 'o' && (n.s == "(" || n.s == "$(" || n.s == "@(" || n.s == "@{"):
	case n.kind == 'p' && isDigits(n.s): // [int]-5
		p.next()
		return &psNode{kind: "cast", s: t.s, pos: t.pos,
			kids: []*psNode{{kind: "num", s: "-" + n.s}}}, nil
	default:
		return typ, nil
	}
	v, err := p.postfix()
	if err != nil {
		return nil, err
	}
	return &psNode{kind: "cast", s: t.s, pos: t.pos, kids: []*psNode{v}}, nil
}

func (p *psParser) grouping(t psTok) (*psNode, error) {
	switch t.s {
	case "(":
		p.skipEnds()
		inner, err := p.statement()
		if err != nil {
			return nil, err
		}
		p.skipEnds()
		return &psNode{kind: "paren", kids: []*psNode{inner}}, p.expectOp(")")
	case "$(", "@(":
		b, err := p.block()
		if err != nil {
			return nil, err
		}
		return &psNode{kind: "subexpr", kids: []*psNode{b}}, p.expectOp(")")
	case "{":
		b, err := p.block()
		if err != nil {
			return nil, err
		}
		return &psNode{kind: "scriptblock", kids: []*psNode{b}}, p.expectOp("}")
	case "@{":
		return p.hashtable()
	}
	return nil, fmt.Errorf("unexpected %q at %d: %w", t.s, t.pos, errPSSyntax)
}

// hashtable parses @{ key = value; … }.
func (p *psParser) hashtable() (*psNode, error) {
	n := &psNode{kind: "hash"}
	for {
		p.skipEnds()
		if p.isOp("}") {
			p.next()
			return n, nil
		}
		k := p.next()
		if k.kind != 'w' && k.kind != 's' && k.kind != 'e' {
			return nil, fmt.Errorf("bad hashtable key at %d: %w", k.pos, errPSSyntax)
		}
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		v, err := p.statement()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, &psNode{kind: "str", s: k.s}, v)
	}
}

// parsePS parses a script into a block.
func parsePS(src string) (*psNode, error) {
	toks, err := psLex(src)
	if err != nil {
		return nil, err
	}
	p := &psParser{toks: toks, src: src}
	b, err := p.block()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		return nil, fmt.Errorf("unexpected %q at %d: %w", t.s, t.pos, errPSSyntax)
	}
	return b, nil
}

func psNumber(s string) (any, bool) {
	ls := strings.ToLower(s)
	mult := int64(1)
	for suf, m := range map[string]int64{"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30} {
		if strings.HasSuffix(ls, suf) {
			ls, mult = ls[:len(ls)-2], m
		}
	}
	if n, err := strconv.ParseInt(ls, 0, 64); err == nil {
		return n * mult, true
	}
	if f, err := strconv.ParseFloat(ls, 64); err == nil {
		return f * float64(mult), true
	}
	return nil, false
}
