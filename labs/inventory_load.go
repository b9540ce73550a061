package labs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// maxInventorySize bounds an inventory file; real ones are a few KiB.
const maxInventorySize = 1 << 20

// ErrInvalid marks an inventory that fails validation. Load's error wraps it
// along with one *FieldError per problem.
var ErrInvalid = errors.New("invalid inventory")

// FieldError is one problem in an inventory file, with its position.
type FieldError struct {
	File         string
	Line, Column int    // 0 when the field is absent from the file
	Path         string // e.g. hosts[1].auth
	Msg          string
}

// Error formats the problem as file:line:column: path: message.
func (e *FieldError) Error() string {
	pos := e.File
	if e.Line > 0 {
		pos += ":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Column)
	}
	if e.Path == "" {
		return pos + ": " + e.Msg
	}
	return pos + ": " + e.Path + ": " + e.Msg
}

// Load reads, decodes and validates the inventory at path. On failure every
// problem found is reported at once, each with its line.
func Load(path string) (*Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open inventory: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxInventorySize+1))
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	if len(data) > maxInventorySize {
		return nil, fmt.Errorf("read inventory %s: larger than %d bytes", path, maxInventorySize)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("resolve inventory directory: %w", err)
	}
	return Parse(data, path, dir)
}

// Parse decodes and validates an inventory. name labels errors; dir is the
// directory relative paths are resolved against.
func Parse(data []byte, name, dir string) (inv *Inventory, err error) {
	// goccy/go-yaml v1.19.2 panics on some malformed input (a tag with no
	// value where a list is expected, found by FuzzParse); an inventory is
	// input, so that becomes an error.
	defer func() {
		if r := recover(); r != nil {
			inv, err = nil, fmt.Errorf("%w: %s: the YAML decoder failed on malformed input",
				ErrInvalid, name)
		}
	}()
	return parse(data, name, dir)
}

func parse(data []byte, name, dir string) (*Inventory, error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, yaml.FormatError(err, false, true))
	}
	var inv Inventory
	if err := yaml.UnmarshalWithOptions(data, &inv); err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrInvalid, name, yaml.FormatError(err, false, true))
	}
	inv.dir = dir

	v := &validator{file: file, name: name}
	if len(file.Docs) > 0 {
		v.checkKeys(file.Docs[0].Body, "", schema)
	}
	v.validate(&inv)
	if len(v.errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, errors.Join(v.errs...))
	}
	return &inv, nil
}

// schema lists the keys allowed at each path ("*" is any key or index).
var schema = map[string][]string{
	"":              {"version", "name", "ca_file", "credentials", "hosts"},
	"credentials.*": {"file", "user_env", "password_env"},
	"hosts[*]": {"name", "roles", "endpoint", "auth", "credentials", "tls", "lab",
		"marker", "sensors"},
	"hosts[*].tls": {"ca_file", "insecure_skip_verify"},
}

type validator struct {
	file *ast.File
	name string
	errs []error
}

// add records a problem at path, looking up its line in the file.
func (v *validator) add(path, format string, args ...any) {
	fe := &FieldError{File: v.name, Path: path, Msg: fmt.Sprintf(format, args...)}
	if p, err := yaml.PathString("$" + dotted(path)); err == nil {
		if node, err := p.FilterFile(v.file); err == nil && node != nil {
			pos := node.GetToken().Position
			fe.Line, fe.Column = pos.Line, pos.Column
		}
	}
	v.errs = append(v.errs, fe)
}

func dotted(path string) string {
	if path == "" || strings.HasPrefix(path, "[") {
		return path
	}
	return "." + path
}

// checkKeys reports keys the schema does not allow, walking maps and lists.
func (v *validator) checkKeys(n ast.Node, path string, schema map[string][]string) {
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, kv := range n.Values {
			v.checkKey(kv, path, schema)
		}
	case *ast.MappingValueNode:
		v.checkKey(n, path, schema)
	case *ast.SequenceNode:
		for i, item := range n.Values {
			v.checkKeys(item, fmt.Sprintf("%s[%d]", path, i), schema)
		}
	}
}

func (v *validator) checkKey(kv *ast.MappingValueNode, path string, schema map[string][]string) {
	key := kv.Key.GetToken().Value
	allowed, ok := schema[generic(path)]
	if !ok {
		return // free-form here (the names under credentials, say)
	}
	child := key
	if path != "" {
		child = path + "." + key
	}
	if !contains(allowed, key) {
		pos := kv.Key.GetToken().Position
		v.errs = append(v.errs, &FieldError{File: v.name, Line: pos.Line,
			Column: pos.Column, Path: child,
			Msg: "unknown field (known: " + strings.Join(allowed, ", ") + ")"})
		return
	}
	v.checkKeys(kv.Value, child, schema)
}

// generic turns hosts[3].tls into hosts[*].tls and credentials.x into
// credentials.*, the form schema uses.
func generic(path string) string {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		if path[i] == '[' {
			j := strings.IndexByte(path[i:], ']')
			if j < 0 {
				return path
			}
			b.WriteString("[*]")
			i += j
			continue
		}
		b.WriteByte(path[i])
	}
	g := b.String()
	if rest, ok := strings.CutPrefix(g, "credentials."); ok {
		_, tail, _ := strings.Cut(rest, ".")
		g = "credentials.*"
		if tail != "" {
			g += "." + tail
		}
	}
	return g
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
