package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"
)

var (
	idPattern        = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	techniquePattern = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	// Labels become Ginkgo labels, which may not hold &|!,()/ or spaces.
	labelPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:-]*$`)
	namePattern  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

const (
	maxIDLen      = 64
	maxStepTime   = 30 * time.Minute
	maxStepsPerSc = 200
)

// validator collects the problems of one scenario.
type validator struct {
	s        *Scenario
	problems []*Problem
	broken   []string // paths the shape check already reported
	badTmpl  bool     // a template failed to parse or render
}

// problemf records a problem at the YAML path, located at the nearest
// position the shape check recorded for it or one of its parents.
func (v *validator) problemf(path, format string, args ...any) {
	for _, b := range v.broken {
		if path == b || strings.HasPrefix(path, b+".") || strings.HasPrefix(path, b+"[") {
			return // already reported as the wrong shape
		}
	}
	p := v.s.locate(path)
	v.problems = append(v.problems, &Problem{
		File: v.s.File, Line: p.line, Col: p.col, Path: path,
		Msg: fmt.Sprintf(format, args...),
	})
}

func (s *Scenario) locate(path string) position {
	for p := path; p != ""; {
		if at, ok := s.pos[p]; ok && at.line > 0 {
			return at
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return position{s.Line, 1}
}

// validate checks everything about s that its shape cannot: required
// fields, enumerations, references between fields, templates, and the
// agreement of intent and expectation. It applies defaults as it goes.
func (s *Scenario) validate(broken []string) []*Problem {
	v := &validator{s: s, broken: broken}
	v.header()
	v.roles()
	v.vars()
	v.payloads()
	v.steps("steps", s.Steps, true)
	v.steps("cleanup", s.Cleanup, false)
	v.checks()
	v.expect()
	v.templates()
	v.trialRender()
	return v.problems
}

func (v *validator) header() {
	s := v.s
	switch {
	case s.ID == "":
		v.problemf("id", "missing")
	case len(s.ID) > maxIDLen || !idPattern.MatchString(s.ID):
		v.problemf("id", "%q is not lowercase kebab-case of at most %d characters", s.ID, maxIDLen)
	}
	if strings.TrimSpace(s.Name) == "" {
		v.problemf("name", "missing")
	}
	if len(s.Techniques) == 0 {
		v.problemf("techniques", "missing: name at least one ATT&CK technique")
	}
	v.eachMatch("techniques", s.Techniques, techniquePattern, "an ATT&CK technique ID like T1569.002")
	switch s.Intent {
	case Malicious, Approved, Benign:
	case "":
		v.problemf("intent", "missing: want malicious, approved or benign")
	default:
		v.problemf("intent", "%q: want malicious, approved or benign", s.Intent)
	}
	v.eachMatch("tools", s.Tools, labelPattern, "a lowercase label")
	v.eachMatch("labels", s.Labels, labelPattern, "a lowercase label")
	for i, r := range s.Requires {
		switch r {
		case SensorSysmon, SensorAudit4697, SensorAudit5145, SensorSysmonNetwork:
		default:
			v.problemf(fmt.Sprintf("requires[%d]", i),
				"unknown sensor %q: want sysmon, audit_4697, audit_5145 or sysmon_network", r)
		}
	}
	v.noDuplicates("requires", s.Requires)
}

func (v *validator) eachMatch(path string, items []string, re *regexp.Regexp, want string) {
	for i, it := range items {
		if !re.MatchString(it) {
			v.problemf(fmt.Sprintf("%s[%d]", path, i), "%q is not %s", it, want)
		}
	}
	v.noDuplicates(path, items)
}

func (v *validator) noDuplicates(path string, items any) {
	var ss []string
	switch t := items.(type) {
	case []string:
		ss = t
	case []Sensor:
		for _, x := range t {
			ss = append(ss, string(x))
		}
	}
	seen := map[string]bool{}
	for i, x := range ss {
		if seen[x] {
			v.problemf(fmt.Sprintf("%s[%d]", path, i), "%q listed twice", x)
		}
		seen[x] = true
	}
}

func (v *validator) roles() {
	s := v.s
	if len(s.Roles) == 0 {
		v.problemf("roles", "missing: a scenario needs at least a target role")
		return
	}
	if _, ok := s.Roles["target"]; !ok {
		v.problemf("roles", "no target role: the target is the host whose telemetry is judged")
	}
	for _, name := range sortedKeys(s.Roles) {
		if !namePattern.MatchString(name) {
			v.problemf("roles."+name, "role name %q is not a lowercase identifier", name)
		}
		if inv := s.Roles[name].Inventory; inv != "" && !namePattern.MatchString(inv) {
			v.problemf("roles."+name+".inventory", "%q is not a lowercase identifier", inv)
		}
	}
}

func (v *validator) role(path, role string) {
	if role == "" {
		v.problemf(path, "missing: name the role whose host this runs on")
		return
	}
	if _, ok := v.s.Roles[role]; !ok {
		v.problemf(path, "role %q is not declared under roles (have %s)",
			role, strings.Join(v.s.RoleNames(), ", "))
	}
}

func (v *validator) vars() {
	for _, name := range sortedKeys(v.s.Vars) {
		if !namePattern.MatchString(name) {
			v.problemf("vars."+name, "var name %q is not a lowercase identifier", name)
		}
		if strings.TrimSpace(v.s.Vars[name]) == "" {
			v.problemf("vars."+name, "empty")
		}
	}
}

func (v *validator) payloads() {
	for i, p := range v.s.Payloads {
		at := fmt.Sprintf("payloads[%d]", i)
		v.role(at+".on", p.On)
		if p.Path == "" {
			v.problemf(at+".path", "missing")
		}
		switch p.Source {
		case SourceCanary:
			if p.Content != "" {
				v.problemf(at+".content", "a canary payload has no content")
			}
		case SourceText:
			if p.Content == "" {
				v.problemf(at+".content", "missing: a text payload needs content")
			}
		default:
			v.problemf(at+".source", "%q: want canary or text", p.Source)
		}
	}
}

func (v *validator) steps(at string, steps []Step, required bool) {
	if required && len(steps) == 0 {
		v.problemf(at, "missing: a scenario needs at least one step")
	}
	if len(steps) > maxStepsPerSc {
		v.problemf(at, "%d steps; at most %d", len(steps), maxStepsPerSc)
	}
	for i := range steps {
		v.step(fmt.Sprintf("%s[%d]", at, i), &steps[i])
	}
}

func (v *validator) step(at string, st *Step) {
	v.role(at+".on", st.On)
	switch st.Shell {
	case "":
		st.Shell = Cmd
	case Cmd, PowerShell:
	default:
		v.problemf(at+".shell", "%q: want cmd or powershell", st.Shell)
	}
	if strings.TrimSpace(st.Run) == "" {
		v.problemf(at+".run", "missing")
	}
	for i, c := range st.ExpectExit {
		if c < -1<<31 || c > 1<<32-1 {
			v.problemf(fmt.Sprintf("%s.expect_exit[%d]", at, i), "%d is not a Windows exit code", c)
		}
		// powershell.exe -EncodedCommand exits 0 or 1 (whether the last
		// command succeeded), not with the exit code of a native tool.
		if st.Shell == PowerShell && c != 0 && c != 1 && !strings.Contains(st.Run, "exit") {
			v.problemf(fmt.Sprintf("%s.expect_exit[%d]", at, i), "a PowerShell step ends with "+
				"0 or 1 unless its script calls exit; run the tool with shell: cmd or "+
				"end the script with exit $LASTEXITCODE")
		}
	}
	if st.Timeout != "" {
		d, err := time.ParseDuration(st.Timeout)
		switch {
		case err != nil:
			v.problemf(at+".timeout", "%q is not a duration like 90s", st.Timeout)
		case d <= 0 || d > maxStepTime:
			v.problemf(at+".timeout", "%s out of range (0, %s]", d, maxStepTime)
		default:
			st.timeout = d
		}
	}
}

func (v *validator) checks() {
	s := v.s
	if s.Intent == Malicious && len(s.VerifyCleanup) == 0 {
		v.problemf("verify_cleanup", "missing: a malicious scenario must prove its cleanup")
	}
	for i := range s.VerifyCleanup {
		c := &s.VerifyCleanup[i]
		at := fmt.Sprintf("verify_cleanup[%d]", i)
		if c.On == "" {
			c.On = "target"
		}
		v.role(at+".on", c.On)
		n := 0
		for _, set := range []bool{c.ServiceAbsent != "", c.KeyAbsent != "",
			c.FileAbsent != "", c.ValueIs != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			v.problemf(at, "want exactly one of service_absent, key_absent, file_absent, value_is")
		}
		if c.ValueIs != nil && (c.ValueIs.Key == "" || c.ValueIs.Name == "") {
			v.problemf(at+".value_is", "needs key and name")
		}
	}
}

func (v *validator) expect() {
	e := v.s.Expect
	forms := 0
	for _, set := range []bool{e.Alert, e.SuppressedBy != "", e.Silent} {
		if set {
			forms++
		}
	}
	if forms != 1 {
		v.problemf("expect", "want exactly one of alert: true, suppressed_by: APPROVAL, silent: true")
		return
	}
	v.expectSignals(e)
	if e.SuppressedBy != "" && !idPattern.MatchString(e.SuppressedBy) {
		v.problemf("expect.suppressed_by", "%q is not an approval ID", e.SuppressedBy)
	}
	switch {
	case v.s.Intent == Malicious && !e.Alert:
		v.problemf("expect", "a malicious scenario must expect alert: true")
	case v.s.Intent == Approved && e.SuppressedBy == "":
		v.problemf("expect", "an approved scenario must expect suppressed_by: APPROVAL")
	case v.s.Intent == Benign && e.Alert:
		v.problemf("expect", "a benign scenario cannot expect an alert; make it malicious")
	}
}

func (v *validator) expectSignals(e Expect) {
	if e.Alert && len(e.Signals) == 0 {
		v.problemf("expect.signals", "missing: an alert names the signals it must carry")
	}
	if !e.Alert && len(e.Signals) > 0 {
		v.problemf("expect.signals", "signals are only expected with alert: true")
	}
	for i, sig := range e.Signals {
		if !slices.Contains(Signals, sig) {
			v.problemf(fmt.Sprintf("expect.signals[%d]", i), "unknown signal %q (known: %s)",
				sig, strings.Join(Signals, ", "))
		}
	}
	v.noDuplicates("expect.signals", e.Signals)
}

// templates parses every template field with the fixed function map.
func (v *validator) templates() {
	s := v.s
	s.tmpls = map[string]*template.Template{}
	for _, name := range sortedKeys(s.Vars) {
		v.parse("vars."+name, s.Vars[name])
	}
	for i, p := range s.Payloads {
		v.parse(fmt.Sprintf("payloads[%d].path", i), p.Path)
		v.parse(fmt.Sprintf("payloads[%d].content", i), p.Content)
	}
	for i, st := range s.Steps {
		v.parse(fmt.Sprintf("steps[%d].run", i), st.Run)
	}
	for i, st := range s.Cleanup {
		v.parse(fmt.Sprintf("cleanup[%d].run", i), st.Run)
	}
	for i, c := range s.VerifyCleanup {
		at := fmt.Sprintf("verify_cleanup[%d]", i)
		v.parse(at+".service_absent", c.ServiceAbsent)
		v.parse(at+".key_absent", c.KeyAbsent)
		v.parse(at+".file_absent", c.FileAbsent)
		if c.ValueIs != nil {
			v.parse(at+".value_is.key", c.ValueIs.Key)
		}
	}
}

func (v *validator) parse(path, text string) {
	if text == "" {
		return
	}
	t, err := parseTemplate(path, text)
	if err != nil {
		v.problemf(path, "bad template: %s", trimTemplateErr(err, path))
		v.badTmpl = true
		return
	}
	v.s.tmpls[path] = t
}

// trimTemplateErr drops text/template's "template: NAME:" prefix, which
// repeats the path the problem already names.
func trimTemplateErr(err error, name string) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "template: "+name+":")
	return strings.TrimSpace(msg)
}

// Trial binding values: documentation addresses, so that a trial render can
// never be mistaken for a real one.
const (
	trialRunID = "000000000000"
	trialSink  = "192.0.2.1:8443"
)

// trialRender renders the scenario once with made-up hosts, which catches
// what parsing cannot: unknown vars or roles, bad lengths, a .Service
// without a service var. It also enforces the run-ID rules.
func (v *validator) trialRender() {
	s := v.s
	b := Binding{RunID: trialRunID, Sink: trialSink, Hosts: map[string]string{}}
	for _, r := range s.RoleNames() {
		b.Hosts[r] = "TRIAL-" + strings.ToUpper(r)
	}
	rd := newRenderer(s, b, NewRand(1))
	rd.collect = true
	if err := rd.render(); err != nil {
		v.problemf("", "%v", err) // collect mode returns no template errors
	}
	for _, re := range rd.errs {
		v.problemf(re.path, "%v", re.err)
	}
	if len(rd.errs) == 0 && !v.badTmpl {
		v.runIDRules(rd)
	}
}

// runIDRules: a malicious run must carry its run ID somewhere the tool
// leaves room (so telemetry joins back), and never in a service name.
func (v *validator) runIDRules(rd *renderer) {
	s := v.s
	if s.Intent == Malicious && !slices.ContainsFunc(rd.runIDAt, func(p string) bool {
		return strings.HasPrefix(p, "steps") || strings.HasPrefix(p, "payloads") ||
			strings.HasPrefix(p, "vars")
	}) {
		v.problemf("steps", "no step or payload uses {{.RunID}}: "+
			"put it where the tool leaves room (display name, description, marker, argument)")
	}
	for i, c := range rd.plan.Checks {
		if c.Kind == ServiceAbsent && strings.Contains(c.Target, trialRunID) {
			v.problemf(fmt.Sprintf("verify_cleanup[%d].service_absent", i),
				"service name contains the run ID; no real tool names a service that way")
		}
	}
}
