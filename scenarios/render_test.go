package scenarios

import (
	"reflect"
	"regexp"
	"testing"
	"text/template"
)

func mustBuiltin(t *testing.T, id string) *Scenario {
	t.Helper()
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := c.Lookup(id)
	if !ok {
		t.Fatalf("no scenario %s", id)
	}
	return s
}

func TestRenderIsDeterministicForASeed(t *testing.T) {
	s := mustBuiltin(t, "smbexec-comspec-burst")
	b := testBinding(s, "0badc0ffee00")
	p1, err := s.Render(b, NewRand(99))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.Render(b, NewRand(99))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p1, p2) {
		t.Errorf("two renders with seed 99 differ:\n%+v\n%+v", p1.Steps, p2.Steps)
	}
	p3, err := s.Render(b, NewRand(100))
	if err != nil {
		t.Fatal(err)
	}
	if p3.Vars["service"] == p1.Vars["service"] {
		t.Errorf("seeds 99 and 100 gave the same service name %q", p1.Vars["service"])
	}
}

// TestRenderRecordsEveryGeneratedName checks that every random value lands
// in Plan.Names with its style and origin, so telemetry joins back.
func TestRenderRecordsEveryGeneratedName(t *testing.T) {
	s := mustBuiltin(t, "smbexec-comspec-burst")
	p, err := s.Render(testBinding(s, "0badc0ffee00"), NewRand(1))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.Names); got != 8 {
		t.Fatalf("got %d names; want 8 (service, 6 batch files, output): %+v", got, p.Names)
	}
	letters8 := regexp.MustCompile(`^[A-Za-z]{8}$`)
	for _, n := range p.Names {
		if n.Style != "letters" || !letters8.MatchString(n.Value) {
			t.Errorf("name %+v: want 8 letters of style letters", n)
		}
		if p.Vars[n.Where[len("vars."):]] != n.Value {
			t.Errorf("name %+v does not match var %s", n, n.Where)
		}
	}
	keys := p.JoinKeys()
	if keys[0] != "0badc0ffee00" || len(keys) != 9 {
		t.Errorf("got join keys %v; want the run ID then 8 names", keys)
	}
	want := `sc.exe \\TARGET01 create ` + p.Vars["service"]
	if got := p.Steps[0].Line; len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("got first step %q; want prefix %q", got, want)
	}
	if p.Steps[0].Host != "ATTACKER01" || p.Steps[0].Shell != PowerShell {
		t.Errorf("got step on %s in %s; want ATTACKER01 in powershell",
			p.Steps[0].Host, p.Steps[0].Shell)
	}
}

func TestRandomStyles(t *testing.T) {
	for _, tc := range []struct {
		tmpl string
		re   string
	}{
		{`{{.Random 12}}`, `^[A-Za-z]{12}$`},
		{`{{.RandomLower 4}}`, `^[a-z]{4}$`},
		{`{{.RandomUpper 6}}`, `^[A-Z]{6}$`},
		{`{{.RandomHex 16}}`, `^[0-9a-f]{16}$`},
		{`{{.RandomAlnum 7}}`, `^[A-Za-z0-9]{7}$`},
		{`{{psquote "it's"}}`, `^'it''s'$`},
		{`{{encodedcommand "whoami"}}`, `^dwBoAG8AYQBtAGkA$`},
		{`{{.Host "target" | lower}}`, `^target01$`},
		{`{{.Sink}} {{.RunID}}`, `^10\.10\.0\.250:8443 abc$`},
	} {
		s := &Scenario{ID: "t", Roles: map[string]Role{"target": {}}, Vars: map[string]string{}}
		tp, err := parseTemplate("steps[0].run", tc.tmpl)
		if err != nil {
			t.Fatalf("%s: %v", tc.tmpl, err)
		}
		s.tmpls = map[string]*template.Template{"steps[0].run": tp}
		s.Steps = []Step{{On: "target", Run: tc.tmpl}}
		p, err := s.Render(testBinding(s, "abc"), NewRand(5))
		if err != nil {
			t.Fatalf("%s: %v", tc.tmpl, err)
		}
		if got := p.Steps[0].Line; !regexp.MustCompile(tc.re).MatchString(got) {
			t.Errorf("%s rendered %q; want match for %s", tc.tmpl, got, tc.re)
		}
	}
}

func TestRenderRequiresEveryRoleBound(t *testing.T) {
	s := mustBuiltin(t, "psexec-default")
	_, err := s.Render(Binding{RunID: "x", Hosts: map[string]string{"target": "WS01"}}, NewRand(1))
	if err == nil {
		t.Error("Render without an attacker host succeeded; want an error")
	}
}
