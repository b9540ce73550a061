package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// position is a 1-based line and column in a catalog file.
type position struct{ line, col int }

// positions maps a YAML path ("steps[2].run") to where its value starts.
type positions map[string]position

// shapeChecker walks a parsed YAML document alongside the Go type it will
// be decoded into, before decoding. It reports every unknown key and every
// value of the wrong kind at once, with its position (the decoder stops at
// the first), and records where each value is, so that later semantic
// checks can point at the right line.
type shapeChecker struct {
	file     string
	pos      positions
	problems []*Problem
	nodes    int
}

// maxNodes bounds the work one scenario document can cause.
const maxNodes = 20000

var exitCodesType = reflect.TypeFor[ExitCodes]()

func (c *shapeChecker) addf(n ast.Node, path, format string, args ...any) {
	p := nodePos(n)
	c.problems = append(c.problems, &Problem{
		File: c.file, Line: p.line, Col: p.col, Path: path,
		Msg: fmt.Sprintf(format, args...),
	})
}

// check walks node n that must fit type t, at path. It reports false when
// n itself is of the wrong kind; the caller then replaces n with a null, so
// that the rest of the document still decodes and its semantic problems are
// reported in the same pass. Problems deeper down are fixed the same way.
func (c *shapeChecker) check(t reflect.Type, n ast.Node, path string) bool {
	c.nodes++
	if c.nodes > maxNodes {
		if c.nodes == maxNodes+1 {
			c.addf(n, path, "document too large (more than %d nodes)", maxNodes)
		}
		return false
	}
	c.pos[path] = nodePos(n)

	switch n.(type) {
	case *ast.AnchorNode, *ast.AliasNode, *ast.MergeKeyNode:
		c.addf(n, path, "anchors, aliases and merge keys are not supported")
		return false
	case *ast.TagNode:
		c.addf(n, path, "tags are not supported")
		return false
	case *ast.NullNode:
		return true // an empty value; required-ness is checked later
	}

	switch {
	case t == exitCodesType:
		return c.checkExitCodes(n, path)
	case t.Kind() == reflect.Pointer:
		return c.check(t.Elem(), n, path)
	case t.Kind() == reflect.Struct:
		return c.checkStruct(t, n, path)
	case t.Kind() == reflect.Map:
		return c.checkMap(t, n, path)
	case t.Kind() == reflect.Slice:
		return c.checkSlice(t, n, path)
	default:
		return c.checkScalar(t.Kind(), n, path)
	}
}

// nullFor returns a null node standing where n was.
func nullFor(n ast.Node) ast.Node {
	tk := n.GetToken()
	var pos *token.Position
	if tk != nil {
		pos = tk.Position
	}
	return ast.Null(token.New("null", "null", pos))
}

// checkPair checks the value of one mapping pair and nulls it if it is of
// the wrong kind.
func (c *shapeChecker) checkPair(t reflect.Type, kv *ast.MappingValueNode, path string) {
	if !c.check(t, kv.Value, path) {
		kv.Value = nullFor(kv.Value)
	}
}

func (c *shapeChecker) checkStruct(t reflect.Type, n ast.Node, path string) bool {
	pairs, ok := mappingPairs(n)
	if !ok {
		c.addf(n, path, "got %s; want a mapping", kindName(n))
		return false
	}
	fields := yamlFields(t)
	for _, kv := range pairs {
		key := keyString(kv.Key)
		f, ok := fields[key]
		if !ok {
			c.addf(kv.Key, join(path, key), "unknown key %q (want one of %s)",
				key, strings.Join(sortedKeys(fields), ", "))
			continue
		}
		c.checkPair(f.Type, kv, join(path, key))
	}
	return true
}

func (c *shapeChecker) checkMap(t reflect.Type, n ast.Node, path string) bool {
	pairs, ok := mappingPairs(n)
	if !ok {
		c.addf(n, path, "got %s; want a mapping", kindName(n))
		return false
	}
	for _, kv := range pairs {
		c.checkPair(t.Elem(), kv, join(path, keyString(kv.Key)))
	}
	return true
}

func (c *shapeChecker) checkSlice(t reflect.Type, n ast.Node, path string) bool {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		c.addf(n, path, "got %s; want a list", kindName(n))
		return false
	}
	for i, v := range seq.Values {
		if !c.check(t.Elem(), v, path+"["+strconv.Itoa(i)+"]") {
			seq.Values[i] = nullFor(v)
		}
	}
	return true
}

func (c *shapeChecker) checkExitCodes(n ast.Node, path string) bool {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return c.checkScalar(reflect.Int, n, path)
	}
	good := true
	for i, v := range seq.Values {
		good = c.checkScalar(reflect.Int, v, path+"["+strconv.Itoa(i)+"]") && good
	}
	return good
}

func (c *shapeChecker) checkScalar(k reflect.Kind, n ast.Node, path string) bool {
	var ok bool
	switch k {
	case reflect.String:
		ok = isStringish(n)
	case reflect.Bool:
		_, ok = n.(*ast.BoolNode)
	case reflect.Int:
		_, ok = n.(*ast.IntegerNode)
	}
	if !ok {
		c.addf(n, path, "got %s; want %s", kindName(n), scalarWant(k))
	}
	return ok
}

// isStringish reports whether n decodes into a Go string. Numbers and
// booleans are refused so that "on: yes" or "id: 0x10" fail loudly.
func isStringish(n ast.Node) bool {
	switch n.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		return true
	}
	return false
}

func scalarWant(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "an integer"
	}
	return "a string (quote it)"
}

// mappingPairs returns the key/value pairs of a mapping node; goccy parses a
// one-pair block mapping as a bare MappingValueNode.
func mappingPairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	return nil, false
}

func keyString(k ast.MapKeyNode) string {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	return k.String()
}

func kindName(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	}
	return "a " + n.Type().String()
}

// yamlFields maps each YAML key of struct type t to its field.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out[name] = f
	}
	return out
}

func nodePos(n ast.Node) position {
	if n == nil {
		return position{}
	}
	var tk *token.Token
	if mv, ok := n.(*ast.MappingValueNode); ok {
		tk = mv.Key.GetToken()
	} else {
		tk = n.GetToken()
	}
	if tk == nil || tk.Position == nil {
		return position{}
	}
	return position{tk.Position.Line, tk.Position.Column}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
