package scenarios

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"text/template"
	"time"
	"unicode/utf16"
)

// Binding is what a run supplies to render a scenario: its ID, the host
// bound to each role, and the address of the lab sink the canary reports to.
type Binding struct {
	RunID string
	Hosts map[string]string // scenario role -> host name
	Sink  string            // host:port
}

// Plan is a scenario rendered for one run: every command line, payload and
// check spelled out, and every name the run generated, so that telemetry
// joins back to the run that caused it.
type Plan struct {
	Scenario *Scenario
	RunID    string
	Hosts    map[string]string
	Sink     string
	Vars     map[string]string
	Names    []Name // every random value generated, in order
	Payloads []PlannedPayload
	Steps    []Command
	Cleanup  []Command
	Checks   []PlannedCheck
}

// Name is one generated random value and where the template asked for it.
type Name struct {
	Value string
	Style string // letters, lower, upper, hex, alnum
	Where string // YAML path of the template, e.g. "vars.service"
}

// PlannedPayload is a payload with its host and rendered path and content.
type PlannedPayload struct {
	Role, Host string
	Source     PayloadSource
	Path       string
	Content    string
}

// Phase says whether a command belongs to the steps or the cleanup.
type Phase string

// The phases of a plan.
const (
	PhaseStep    Phase = "step"
	PhaseCleanup Phase = "cleanup"
)

// Command is one rendered step.
type Command struct {
	Phase      Phase
	Index      int
	Role, Host string
	Shell      Shell
	Line       string
	ExpectExit []int
	MayFail    bool
	Timeout    time.Duration // 0: the runner's default
}

// CheckKind names what a cleanup check verifies.
type CheckKind string

// The cleanup check kinds.
const (
	ServiceAbsent CheckKind = "service_absent"
	KeyAbsent     CheckKind = "key_absent"
	FileAbsent    CheckKind = "file_absent"
	ValueIs       CheckKind = "value_is"
)

// PlannedCheck is one rendered cleanup check. For ValueIs, Target is the
// key, and Name and Data the value's name and expected data.
type PlannedCheck struct {
	Role, Host string
	Kind       CheckKind
	Target     string
	Name, Data string
}

// JoinKeys returns the strings that tie telemetry to this run: the run ID
// and every generated name, deduplicated, in order.
func (p *Plan) JoinKeys() []string {
	seen := map[string]bool{p.RunID: true}
	keys := []string{p.RunID}
	for _, n := range p.Names {
		if !seen[n.Value] {
			seen[n.Value] = true
			keys = append(keys, n.Value)
		}
	}
	return keys
}

// NewRand returns the random source a run renders names with. The same seed
// renders the same names, which makes runs reproducible and tests exact.
func NewRand(seed uint64) *rand.Rand {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return rand.New(rand.NewChaCha8(key))
}

// NewRunID returns a run ID: 12 lowercase hex digits, short enough to fit in
// a display name or a payload argument.
func NewRunID(r *rand.Rand) string { return randomString(r, hexDigits, 12) }

// Render renders the scenario for one run. It fails if a role has no host or
// a template fails; names come from r in a fixed order.
func (s *Scenario) Render(b Binding, r *rand.Rand) (*Plan, error) {
	for _, role := range s.RoleNames() {
		if b.Hosts[role] == "" {
			return nil, fmt.Errorf("render scenario %s: no host bound to role %q", s.ID, role)
		}
	}
	if b.RunID == "" {
		return nil, fmt.Errorf("render scenario %s: empty run ID", s.ID)
	}
	rd := newRenderer(s, b, r)
	if err := rd.render(); err != nil {
		return nil, fmt.Errorf("render scenario %s: %w", s.ID, err)
	}
	return rd.plan, nil
}

// renderer renders one scenario in a fixed order: vars (sorted by name),
// payloads, steps, cleanup, checks.
type renderer struct {
	s       *Scenario
	b       Binding
	r       *rand.Rand
	plan    *Plan
	runIDAt []string // paths of templates that used .RunID

	// collect makes a failing template render as "" and be recorded in
	// errs instead of stopping the render; validation uses it to report
	// every template problem at once.
	collect bool
	errs    []*renderError
}

func newRenderer(s *Scenario, b Binding, r *rand.Rand) *renderer {
	return &renderer{s: s, b: b, r: r, plan: &Plan{
		Scenario: s, RunID: b.RunID, Hosts: b.Hosts, Sink: b.Sink,
		Vars: map[string]string{},
	}}
}

// renderError says which template failed.
type renderError struct {
	path string
	err  error
}

func (e *renderError) Error() string { return "render " + e.path + ": " + e.err.Error() }
func (e *renderError) Unwrap() error { return e.err }

func (rd *renderer) render() error {
	for _, name := range sortedKeys(rd.s.Vars) {
		v, err := rd.exec("vars."+name, nil)
		if err != nil {
			return err
		}
		rd.plan.Vars[name] = v
	}
	if err := rd.renderPayloads(); err != nil {
		return err
	}
	var err error
	if rd.plan.Steps, err = rd.renderSteps("steps", PhaseStep, rd.s.Steps); err != nil {
		return err
	}
	if rd.plan.Cleanup, err = rd.renderSteps("cleanup", PhaseCleanup, rd.s.Cleanup); err != nil {
		return err
	}
	return rd.renderChecks()
}

func (rd *renderer) renderPayloads() error {
	for i, p := range rd.s.Payloads {
		at := fmt.Sprintf("payloads[%d]", i)
		path, err := rd.exec(at+".path", rd.plan.Vars)
		if err != nil {
			return err
		}
		content, err := rd.exec(at+".content", rd.plan.Vars)
		if err != nil {
			return err
		}
		rd.plan.Payloads = append(rd.plan.Payloads, PlannedPayload{
			Role: p.On, Host: rd.b.Hosts[p.On], Source: p.Source,
			Path: path, Content: content,
		})
	}
	return nil
}

func (rd *renderer) renderSteps(at string, ph Phase, steps []Step) ([]Command, error) {
	out := make([]Command, 0, len(steps))
	for i, st := range steps {
		line, err := rd.exec(fmt.Sprintf("%s[%d].run", at, i), rd.plan.Vars)
		if err != nil {
			return nil, err
		}
		out = append(out, Command{
			Phase: ph, Index: i, Role: st.On, Host: rd.b.Hosts[st.On],
			Shell: st.Shell, Line: line, ExpectExit: st.Codes(),
			MayFail: st.MayFail, Timeout: st.timeout,
		})
	}
	return out, nil
}

func (rd *renderer) renderChecks() error {
	for i, c := range rd.s.VerifyCleanup {
		at := fmt.Sprintf("verify_cleanup[%d]", i)
		pc := PlannedCheck{Role: c.On, Host: rd.b.Hosts[c.On]}
		var err error
		switch {
		case c.ServiceAbsent != "":
			pc.Kind = ServiceAbsent
			pc.Target, err = rd.exec(at+".service_absent", rd.plan.Vars)
		case c.KeyAbsent != "":
			pc.Kind = KeyAbsent
			pc.Target, err = rd.exec(at+".key_absent", rd.plan.Vars)
		case c.FileAbsent != "":
			pc.Kind = FileAbsent
			pc.Target, err = rd.exec(at+".file_absent", rd.plan.Vars)
		case c.ValueIs != nil:
			pc.Kind = ValueIs
			pc.Target, err = rd.exec(at+".value_is.key", rd.plan.Vars)
			pc.Name, pc.Data = c.ValueIs.Name, c.ValueIs.Data
		}
		if err != nil {
			return err
		}
		rd.plan.Checks = append(rd.plan.Checks, pc)
	}
	return nil
}

// exec runs the template parsed for path; a path with no template (an
// optional field left empty) renders as "".
func (rd *renderer) exec(path string, vars map[string]string) (string, error) {
	t := rd.s.tmpls[path]
	if t == nil {
		return "", nil
	}
	var buf bytes.Buffer
	data := &tmplData{rd: rd, where: path, Vars: vars}
	if err := t.Execute(&buf, data); err != nil {
		re := &renderError{path: path, err: unwrapExec(err)}
		if rd.collect {
			rd.errs = append(rd.errs, re)
			return "", nil
		}
		return "", re
	}
	return buf.String(), nil
}

// unwrapExec returns the innermost cause of a template execution error:
// text/template's wrappers repeat the template name and position, which the
// problem's path and line already give.
func unwrapExec(err error) error {
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err
		}
		err = inner
	}
}

// tmplData is the dot of every template. Its exported methods are the
// template vocabulary documented in SCHEMA.md.
type tmplData struct {
	rd    *renderer
	where string

	// Vars holds the scenario's rendered vars; nil inside vars themselves,
	// which may not refer to each other.
	Vars map[string]string
}

const (
	letters   = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowers    = "abcdefghijklmnopqrstuvwxyz"
	uppers    = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	hexDigits = "0123456789abcdef"
	alnums    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	maxRandom = 64
)

// RunID returns the run ID.
func (d *tmplData) RunID() string {
	d.rd.runIDAt = append(d.rd.runIDAt, d.where)
	return d.rd.b.RunID
}

// Sink returns the lab sink's host:port.
func (d *tmplData) Sink() string { return d.rd.b.Sink }

// Host returns the name of the host bound to role.
func (d *tmplData) Host(role string) (string, error) {
	if _, ok := d.rd.s.Roles[role]; !ok {
		return "", fmt.Errorf("Host %q: the scenario declares no such role", role)
	}
	return d.rd.b.Hosts[role], nil
}

// Service returns the scenario's service name, the var named "service".
func (d *tmplData) Service() (string, error) {
	if d.Vars == nil {
		return "", errors.New("Service: vars cannot refer to other vars")
	}
	v, ok := d.Vars["service"]
	if !ok {
		return "", errors.New("Service: the scenario declares no var named service")
	}
	return v, nil
}

// Random returns n random letters of both cases, as Impacket's
// string.ascii_letters and Metasploit's rand_text_alpha produce.
func (d *tmplData) Random(n int) (string, error) { return d.gen("letters", letters, n) }

// RandomLower returns n random lowercase letters.
func (d *tmplData) RandomLower(n int) (string, error) { return d.gen("lower", lowers, n) }

// RandomUpper returns n random uppercase letters.
func (d *tmplData) RandomUpper(n int) (string, error) { return d.gen("upper", uppers, n) }

// RandomHex returns n random lowercase hex digits.
func (d *tmplData) RandomHex(n int) (string, error) { return d.gen("hex", hexDigits, n) }

// RandomAlnum returns n random letters and digits, as Cobalt Strike's
// service names are.
func (d *tmplData) RandomAlnum(n int) (string, error) { return d.gen("alnum", alnums, n) }

func (d *tmplData) gen(style, alphabet string, n int) (string, error) {
	if n < 1 || n > maxRandom {
		return "", fmt.Errorf("random name length %d out of range 1..%d", n, maxRandom)
	}
	v := randomString(d.rd.r, alphabet, n)
	d.rd.plan.Names = append(d.rd.plan.Names, Name{Value: v, Style: style, Where: d.where})
	return v, nil
}

func randomString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// funcs is the fixed function map every template is parsed with.
var funcs = template.FuncMap{
	"lower":          strings.ToLower,
	"upper":          strings.ToUpper,
	"psquote":        psQuote,
	"encodedcommand": encodedCommand,
}

// psQuote quotes s as a PowerShell single-quoted string.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// encodedCommand encodes a PowerShell script for -EncodedCommand: base64 of
// its UTF-16LE bytes.
func encodedCommand(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// parseTemplate parses one template string with the fixed function map.
func parseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(funcs).Option("missingkey=error").Parse(text)
}
