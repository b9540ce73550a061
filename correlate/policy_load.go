package correlate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// maxPolicySize bounds the policy file we read; real policies are kilobytes.
const maxPolicySize = 4 << 20

// PolicyError is one problem in a policy file.
type PolicyError struct {
	Line int // 1-based; 0 when the problem has no line (an empty file)
	Msg  string
}

func (e *PolicyError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// PolicyErrors is every problem found in one policy file.
type PolicyErrors struct {
	File   string
	Errors []*PolicyError
}

func (e *PolicyErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid policy %s: %d problem(s)", e.File, len(e.Errors))
	for _, pe := range e.Errors {
		b.WriteString("\n  ")
		b.WriteString(pe.Error())
	}
	return b.String()
}

// LoadPolicyFile reads and validates a policy file.
func LoadPolicyFile(name string) (*Policy, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open policy: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPolicySize+1))
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", name, err)
	}
	if len(b) > maxPolicySize {
		return nil, fmt.Errorf("read policy %s: larger than %d bytes", name, maxPolicySize)
	}
	return LoadPolicy(name, b)
}

// LoadPolicy parses and validates policy YAML. On failure the error is a
// *PolicyErrors listing every problem with its line number.
func LoadPolicy(name string, src []byte) (*Policy, error) {
	l := &policyLoader{pol: DefaultPolicy()}
	root, err := parseYAML(src)
	if err != nil {
		return nil, &PolicyErrors{File: name, Errors: []*PolicyError{err}}
	}
	if root != nil {
		l.top(root)
	}
	if len(l.errs) > 0 {
		slices.SortStableFunc(l.errs, func(a, b *PolicyError) int { return a.Line - b.Line })
		return nil, &PolicyErrors{File: name, Errors: l.errs}
	}
	l.pol.compile()
	return l.pol, nil
}

// parseYAML returns the single document's body, or nil for an empty file.
func parseYAML(src []byte) (ast.Node, *PolicyError) {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			return nil, &PolicyError{Line: ye.GetToken().Position.Line, Msg: ye.GetMessage()}
		}
		return nil, &PolicyError{Msg: "parse yaml: " + err.Error()}
	}
	if len(f.Docs) == 0 {
		return nil, nil
	}
	if len(f.Docs) > 1 {
		return nil, &PolicyError{Line: line(f.Docs[1]), Msg: "more than one YAML document"}
	}
	return f.Docs[0].Body, nil
}

// policyLoader walks the YAML tree by hand so that every problem, not just
// the first, is reported with its line.
type policyLoader struct {
	pol       *Policy
	errs      []*PolicyError
	groupRefs []groupRef
}

// groupRef is a host_group named by an approval, checked once host_groups
// (which may come later in the file) is known.
type groupRef struct {
	name string
	line int
}

func (l *policyLoader) checkGroups() {
	for _, r := range l.groupRefs {
		if _, ok := l.pol.HostGroups[r.name]; !ok {
			l.errs = append(l.errs, &PolicyError{Line: r.line,
				Msg: fmt.Sprintf("host_group %q is not defined in host_groups", r.name)})
		}
	}
}

func (l *policyLoader) errorf(n ast.Node, format string, args ...any) {
	l.errs = append(l.errs, &PolicyError{Line: line(n), Msg: fmt.Sprintf(format, args...)})
}

func line(n ast.Node) int {
	if d, ok := n.(*ast.DocumentNode); ok {
		// A document's GetToken reads its body, which an empty document
		// ("---" and nothing after it) lacks: use its header instead.
		switch {
		case d == nil:
			return 0
		case d.Start != nil && d.Start.Position != nil:
			return d.Start.Position.Line
		case d.Body == nil:
			return 0
		}
		n = d.Body
	}
	if n == nil {
		return 0
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0
	}
	return tk.Position.Line
}

func (l *policyLoader) top(root ast.Node) {
	fields := map[string]func(ast.Node){
		"version": func(n ast.Node) {
			if v, ok := l.integer(n); ok && v != 1 {
				l.errorf(n, "version %d is not supported (want 1)", v)
			}
		},
		"window":                 func(n ast.Node) { l.duration(n, &l.pol.Window) },
		"lateness":               func(n ast.Node) { l.duration(n, &l.pol.Lateness) },
		"min_score":              func(n ast.Node) { l.score(n) },
		"include_drivers":        func(n ast.Node) { l.boolean(n, &l.pol.IncludeDrivers) },
		"burst":                  l.burst,
		"allowlist":              l.allowlist,
		"remote_execution_hosts": l.remoteHosts,
		"host_groups":            l.hostGroups,
		"approvals":              l.approvals,
	}
	l.mapping(root, "policy", fields)
	l.checkGroups()
}

// mapping checks that n is a mapping, rejects unknown and repeated keys, and
// calls the handler of each known key.
func (l *policyLoader) mapping(n ast.Node, what string, fields map[string]func(ast.Node)) {
	m, ok := unwrap(n).(*ast.MappingNode)
	if !ok {
		l.errorf(n, "%s must be a mapping", what)
		return
	}
	seen := map[string]bool{}
	for _, kv := range m.Values {
		key := kv.Key.String()
		if seen[key] {
			l.errorf(kv.Key, "%s: key %q repeated", what, key)
			continue
		}
		seen[key] = true
		h, ok := fields[key]
		if !ok {
			l.errorf(kv.Key, "%s: unknown key %q", what, key)
			continue
		}
		h(kv.Value)
	}
}

// unwrap rejects nothing but removes comment wrappers; anchors, aliases and
// tags are refused where scalars are read.
func unwrap(n ast.Node) ast.Node {
	if c, ok := n.(*ast.CommentGroupNode); ok && c != nil {
		return nil
	}
	return n
}

func (l *policyLoader) str(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return n.GetToken().Value, true
	case *ast.AliasNode, *ast.AnchorNode:
		l.errorf(n, "anchors and aliases are not allowed")
	default:
		l.errorf(n, "want a string, got %s", nodeKind(n))
	}
	return "", false
}

func nodeKind(n ast.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.(type) {
	case *ast.NullNode:
		return "null"
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	return n.Type().String()
}

func (l *policyLoader) integer(n ast.Node) (int, bool) {
	s, ok := l.str(n)
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		l.errorf(n, "want an integer, got %q", s)
		return 0, false
	}
	return v, true
}

func (l *policyLoader) boolean(n ast.Node, dst *bool) {
	b, ok := n.(*ast.BoolNode)
	if !ok {
		l.errorf(n, "want true or false, got %s", nodeKind(n))
		return
	}
	*dst = b.Value
}

func (l *policyLoader) duration(n ast.Node, dst *time.Duration) {
	s, ok := l.str(n)
	if !ok {
		return
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		l.errorf(n, "want a duration such as 90s or 2m, got %q", s)
	case d <= 0 || d > 24*time.Hour:
		l.errorf(n, "duration %s out of range (0 < d <= 24h)", d)
	default:
		*dst = d
	}
}

func (l *policyLoader) score(n ast.Node) {
	v, ok := l.integer(n)
	if !ok {
		return
	}
	if v < 1 || v > 100 {
		l.errorf(n, "min_score %d out of range 1..100", v)
		return
	}
	l.pol.MinScore = v
}

func (l *policyLoader) burst(n ast.Node) {
	l.mapping(n, "burst", map[string]func(ast.Node){
		"count": func(n ast.Node) {
			if v, ok := l.integer(n); ok {
				if v < 2 || v > 10000 {
					l.errorf(n, "burst count %d out of range 2..10000", v)
					return
				}
				l.pol.BurstCount = v
			}
		},
		"window": func(n ast.Node) { l.duration(n, &l.pol.BurstWindow) },
	})
}

func (l *policyLoader) sequence(n ast.Node, what string, each func(ast.Node)) {
	if _, isNull := n.(*ast.NullNode); isNull {
		return
	}
	s, ok := n.(*ast.SequenceNode)
	if !ok {
		l.errorf(n, "%s must be a list, got %s", what, nodeKind(n))
		return
	}
	for _, v := range s.Values {
		each(v)
	}
}

// isSHA256 reports whether s is 64 hex digits.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isID reports whether s is an approval or allowlist ID: a letter or digit,
// then letters, digits and . _ : -, at most 128 in all.
func isID(s string) bool {
	if s == "" || len(s) > 128 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != ':' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func (l *policyLoader) allowlist(n ast.Node) {
	l.sequence(n, "allowlist", func(item ast.Node) {
		e := AllowEntry{Line: line(item)}
		hasPath := false
		l.mapping(item, "allowlist entry", map[string]func(ast.Node){
			"id":     func(n ast.Node) { e.ID = l.id(n) },
			"path":   func(n ast.Node) { hasPath = true; e.Path = l.exactPath(n) },
			"sha256": func(n ast.Node) { e.SHA256 = l.sha(n) },
			"signer": func(n ast.Node) { e.Signer, _ = l.str(n) },
		})
		if !hasPath {
			l.errorf(item, "allowlist entry needs a path")
		}
		if e.ID == "" {
			e.ID = "allowlist:" + e.Path
		}
		l.pol.Allowlist = append(l.pol.Allowlist, e)
	})
}

func (l *policyLoader) hasErrorAt(line int) bool {
	for _, e := range l.errs {
		if e.Line == line {
			return true
		}
	}
	return false
}

func (l *policyLoader) id(n ast.Node) string {
	s, ok := l.str(n)
	if ok && !isID(s) {
		l.errorf(n, "id %q: use letters, digits and . _ : - (at most 128)", s)
	}
	return s
}

func (l *policyLoader) sha(n ast.Node) string {
	s, ok := l.str(n)
	if ok && !isSHA256(s) {
		l.errorf(n, "sha256 \"%s\" is not 64 hex digits", s)
		return ""
	}
	return s
}

// exactPath accepts one binary's full path: no wildcards, no folder.
func (l *policyLoader) exactPath(n ast.Node) string {
	s, ok := l.str(n)
	if !ok {
		return ""
	}
	switch {
	case strings.ContainsAny(s, "*?"):
		l.errorf(n, "path \"%s\": wildcards are not allowed; list each binary's exact path", s)
	case strings.HasSuffix(s, `\`) || strings.HasSuffix(s, "/"):
		l.errorf(n, "path \"%s\" is a folder; list each binary's exact path", s)
	case !looksAbsolute(s):
		l.errorf(n, "path \"%s\" is not absolute (want C:\\… or %%SystemRoot%%\\…)", s)
	default:
		return s
	}
	return ""
}

func looksAbsolute(s string) bool {
	s = strings.Trim(s, `"`)
	if len(s) >= 3 && s[1] == ':' && (s[2] == '\\' || s[2] == '/') {
		return true
	}
	return strings.HasPrefix(s, "%") || strings.HasPrefix(s, `\\`) ||
		strings.HasPrefix(s, `\SystemRoot\`) || strings.HasPrefix(s, `\??\`)
}

func (l *policyLoader) remoteHosts(n ast.Node) {
	l.sequence(n, "remote_execution_hosts", func(item ast.Node) {
		s, ok := l.str(item)
		if ok && strings.TrimSpace(s) == "" {
			l.errorf(item, "empty host name")
			return
		}
		if ok {
			l.pol.RemoteExecutionHosts = append(l.pol.RemoteExecutionHosts, s)
		}
	})
}

func (l *policyLoader) hostGroups(n ast.Node) {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		l.errorf(n, "host_groups must be a mapping of group name to hosts")
		return
	}
	l.pol.HostGroups = map[string][]string{}
	for _, kv := range m.Values {
		name := kv.Key.String()
		if _, dup := l.pol.HostGroups[name]; dup {
			l.errorf(kv.Key, "host group %q repeated", name)
			continue
		}
		var hosts []string
		l.sequence(kv.Value, "host group "+name, func(item ast.Node) {
			if s, ok := l.str(item); ok {
				hosts = append(hosts, s)
			}
		})
		l.pol.HostGroups[name] = hosts
	}
}

func (l *policyLoader) approvals(n ast.Node) {
	ids := map[string]int{}
	l.sequence(n, "approvals", func(item ast.Node) {
		a := l.approval(item)
		if prev, dup := ids[a.ID]; dup && a.ID != "" {
			l.errorf(item, "approval id %q already used at line %d", a.ID, prev)
		}
		ids[a.ID] = a.Line
		l.pol.Approvals = append(l.pol.Approvals, a)
	})
}

func (l *policyLoader) approval(item ast.Node) Approval {
	a := Approval{Line: line(item)}
	hasMatch := false
	l.mapping(item, "approval", map[string]func(ast.Node){
		"id":      func(n ast.Node) { a.ID = l.id(n) },
		"reason":  func(n ast.Node) { a.Reason, _ = l.str(n) },
		"owner":   func(n ast.Node) { a.Owner, _ = l.str(n) },
		"ticket":  func(n ast.Node) { a.Ticket, _ = l.str(n) },
		"expires": func(n ast.Node) { a.Expires = l.date(n) },
		"match":   func(n ast.Node) { hasMatch = true; l.match(n, &a) },
	})
	if _, ok := item.(*ast.MappingNode); !ok {
		return a
	}
	for what, v := range map[string]string{"id": a.ID, "reason": a.Reason, "owner": a.Owner} {
		if strings.TrimSpace(v) == "" {
			l.errorf(item, "approval needs %s", what)
		}
	}
	if !hasMatch {
		l.errorf(item, "approval %q needs a match", a.ID)
	}
	return a
}

func (l *policyLoader) date(n ast.Node) time.Time {
	s, ok := l.str(n)
	if !ok {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			if layout == "2006-01-02" {
				t = t.Add(24*time.Hour - time.Nanosecond) // valid through that day
			}
			return t.UTC()
		}
	}
	l.errorf(n, "expires %q: want a date (2026-12-31) or RFC 3339 time", s)
	return time.Time{}
}

func (l *policyLoader) match(n ast.Node, a *Approval) {
	m := &a.Match
	set := func(dst *string) func(ast.Node) {
		return func(n ast.Node) { *dst, _ = l.str(n) }
	}
	l.mapping(n, "match", map[string]func(ast.Node){
		"service":     set(&m.Service),
		"image":       func(n ast.Node) { m.Image = l.exactPath(n) },
		"creator":     func(n ast.Node) { m.Creator = l.exactPath(n) },
		"user":        set(&m.User),
		"source_host": set(&m.SourceHost),
		"host_group": func(n ast.Node) {
			m.HostGroup, _ = l.str(n)
			l.groupRefs = append(l.groupRefs, groupRef{m.HostGroup, line(n)})
		},
	})
	if *m == (ApprovalMatch{}) && line(n) != 0 && !l.hasErrorAt(line(n)) {
		l.errorf(n, "match selects nothing: give at least one of service, image, "+
			"creator, user, source_host, host_group")
	}
}
