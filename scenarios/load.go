package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

//go:embed catalog/*.yaml
var builtin embed.FS

// PolicyFile is the name of the default policy file that ships beside the
// built-in scenarios. A file of that name in a catalog directory is not a
// scenario file and is skipped by the loader.
const PolicyFile = "policy.yaml"

// Limits on catalog input; a catalog directory may come from anyone.
const (
	maxFileSize  = 1 << 20
	maxFiles     = 2000
	maxScenarios = 5000
)

// Catalog is a set of scenarios with unique IDs.
type Catalog struct {
	byID map[string]*Scenario
}

// Builtin returns the catalog embedded in the binary.
func Builtin() (*Catalog, error) {
	sub, err := fs.Sub(builtin, "catalog")
	if err != nil {
		return nil, fmt.Errorf("open built-in catalog: %w", err)
	}
	return LoadFS(sub, "catalog")
}

// DefaultPolicy returns the policy file that ships with the built-in
// catalog: the approvals its approved scenarios rely on.
func DefaultPolicy() []byte {
	b, err := builtin.ReadFile("catalog/" + PolicyFile)
	if err != nil {
		panic("scenarios: built-in policy missing: " + err.Error()) // a build defect
	}
	return b
}

// Open returns the built-in catalog merged with the scenario files in each
// of dirs. It reports every problem in every file, and every ID clash, at
// once.
func Open(dirs ...string) (*Catalog, error) {
	c, err := Builtin()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, dir := range dirs {
		d, err := LoadDir(dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := c.Merge(d); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadDir loads every scenario file under dir.
func LoadDir(dir string) (*Catalog, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("open catalog directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("open catalog directory %s: not a directory", dir)
	}
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS loads every *.yaml and *.yml file under fsys (except a top-level
// policy.yaml) and validates each scenario. label prefixes file names in
// messages. All problems in all files are returned together.
func LoadFS(fsys fs.FS, label string) (*Catalog, error) {
	files, err := scenarioFiles(fsys)
	if err != nil {
		return nil, fmt.Errorf("list catalog %s: %w", label, err)
	}
	c := &Catalog{byID: map[string]*Scenario{}}
	var problems []*Problem
	for _, name := range files {
		display := path.Join(label, name)
		data, err := readBounded(fsys, name)
		if err != nil {
			problems = append(problems, &Problem{File: display, Msg: err.Error()})
			continue
		}
		scs, ps := Parse(display, data)
		problems = append(problems, ps...)
		for _, s := range scs {
			if p := c.add(s); p != nil {
				problems = append(problems, p)
			}
		}
	}
	if err := joinProblems(problems); err != nil {
		return nil, err
	}
	return c, nil
}

func scenarioFiles(fsys fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || p == PolicyFile {
			return nil
		}
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		if len(files) == maxFiles {
			return fmt.Errorf("more than %d scenario files", maxFiles)
		}
		files = append(files, p)
		return nil
	})
	slices.Sort(files)
	return files, err
}

func readBounded(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open scenario file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read scenario file: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("scenario file larger than %d bytes", maxFileSize)
	}
	return data, nil
}

// Parse parses and validates the scenarios in one file (one per YAML
// document). It returns the valid scenarios and every problem found.
func Parse(file string, data []byte) ([]*Scenario, []*Problem) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, []*Problem{yamlProblem(file, err)}
	}
	var out []*Scenario
	var problems []*Problem
	for _, doc := range f.Docs {
		if doc.Body == nil {
			continue
		}
		if _, ok := doc.Body.(*ast.CommentGroupNode); ok {
			continue
		}
		s, ps := parseDoc(file, doc.Body)
		problems = append(problems, ps...)
		if s != nil {
			out = append(out, s)
		}
	}
	if len(out)+len(problems) == 0 {
		problems = append(problems, &Problem{File: file, Msg: "no scenario in file"})
	}
	return out, problems
}

// parseDoc checks the shape of one document, decodes it, and validates it.
// Values of the wrong shape are reported and then decoded as empty, so that
// the semantic problems of the rest are reported in the same pass.
func parseDoc(file string, body ast.Node) (*Scenario, []*Problem) {
	sc := &shapeChecker{file: file, pos: positions{}}
	if !sc.check(scenarioType, body, "") {
		return nil, sc.problems
	}
	s := &Scenario{}
	if err := yaml.NodeToValue(body, s); err != nil {
		return nil, append(sc.problems, yamlProblem(file, err))
	}
	p := nodePos(body)
	s.File, s.Line, s.pos = file, p.line, sc.pos
	problems := append(sc.problems, s.validate(brokenPaths(sc.problems))...)
	if len(problems) > 0 {
		return nil, problems
	}
	return s, nil
}

func brokenPaths(ps []*Problem) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Path)
	}
	return out
}

// yamlError is the interface go-yaml's syntax and type errors implement.
type yamlError interface {
	GetMessage() string
	GetToken() *token.Token
}

// yamlProblem turns a go-yaml error into a located problem.
func yamlProblem(file string, err error) *Problem {
	p := &Problem{File: file, Msg: err.Error()}
	var ye yamlError
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			p.Line, p.Col = tk.Position.Line, tk.Position.Column
		}
		p.Msg = strings.TrimSpace(ye.GetMessage())
	}
	return p
}

var scenarioType = reflect.TypeFor[Scenario]()

// add adds s, or returns a problem if its ID is taken.
func (c *Catalog) add(s *Scenario) *Problem {
	if prev, ok := c.byID[s.ID]; ok {
		return &Problem{
			File: s.File, Line: s.Line, Col: 1, Path: "id",
			Msg: fmt.Sprintf("scenario ID %q already defined at %s:%d", s.ID, prev.File, prev.Line),
		}
	}
	if len(c.byID) == maxScenarios {
		return &Problem{File: s.File, Line: s.Line, Msg: "too many scenarios"}
	}
	c.byID[s.ID] = s
	return nil
}

// Merge adds every scenario of o to c. A scenario whose ID c already holds
// is a clash: nothing is overridden, and every clash is reported.
func (c *Catalog) Merge(o *Catalog) error {
	var problems []*Problem
	for _, s := range o.All() {
		if p := c.add(s); p != nil {
			problems = append(problems, p)
		}
	}
	return joinProblems(problems)
}

// All returns the scenarios sorted by ID.
func (c *Catalog) All() []*Scenario {
	out := make([]*Scenario, 0, len(c.byID))
	for _, id := range sortedKeys(c.byID) {
		out = append(out, c.byID[id])
	}
	return out
}

// Lookup returns the scenario with the given ID.
func (c *Catalog) Lookup(id string) (*Scenario, bool) {
	s, ok := c.byID[id]
	return s, ok
}

// Len returns the number of scenarios.
func (c *Catalog) Len() int { return len(c.byID) }

// CheckApprovals reports, at its file and line, every scenario whose
// expectation names an approval or allowlist entry that is not in ids (the
// IDs of the policy a run uses).
func (c *Catalog) CheckApprovals(ids []string) error {
	known := make(map[string]bool, len(ids))
	for _, id := range ids {
		known[id] = true
	}
	var problems []*Problem
	for _, s := range c.All() {
		by := s.Expect.SuppressedBy
		if by == "" || known[by] {
			continue
		}
		p := s.locate("expect.suppressed_by")
		problems = append(problems, &Problem{File: s.File, Line: p.line, Col: p.col,
			Path: "expect.suppressed_by",
			Msg:  fmt.Sprintf("approval %q is not in the policy", by)})
	}
	return joinProblems(problems)
}
