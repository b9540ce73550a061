package scenarios

import (
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

func TestBuiltinCatalogValidates(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatalf("Builtin() error:\n%v", err)
	}
	count := map[Intent]int{}
	for _, s := range c.All() {
		count[s.Intent]++
	}
	if got := count[Malicious]; got < 12 {
		t.Errorf("got %d malicious scenarios; want at least 12", got)
	}
	if got := count[Approved] + count[Benign]; got < 8 {
		t.Errorf("got %d benign or approved scenarios; want at least 8", got)
	}
}

// TestBuiltinCatalogCoversTheIssue pins the scenarios issue 6 enumerates, so
// that none is dropped by accident.
func TestBuiltinCatalogCoversTheIssue(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id     string
		intent Intent
	}{
		{"sc-create-user-writable", Malicious},
		{"smbexec-comspec-burst", Malicious},
		{"sc-config-hijack", Malicious},
		{"reg-imagepath-start", Malicious},
		{"registry-only-service", Malicious},
		{"powershell-new-service", Malicious},
		{"net-start-fresh-service", Malicious},
		{"psexec-default", Malicious},
		{"psexec-renamed", Malicious},
		{"impacket-psexec", Malicious},
		{"metasploit-psexec-psh", Malicious},
		{"cobaltstrike-jump-psexec", Malicious},
		{"svchost-servicedll", Malicious},
		{"service-connects-out", Malicious},
		{"psexec-unapproved-host", Malicious},
		{"vendor-msi-install", Benign},
		{"vendor-binary-replaced", Malicious},
		{"psexec-from-jump-host", Approved},
		{"spooler-restart", Benign},
		{"sc-query-qc", Benign},
		{"builtin-start-type-change", Benign},
		{"per-user-services-logon", Benign},
		{"harness-winrm-activity", Benign},
		{"deployment-from-management-host", Approved},
	} {
		s, ok := c.Lookup(tc.id)
		if !ok {
			t.Errorf("scenario %s missing from the built-in catalog", tc.id)
			continue
		}
		if s.Intent != tc.intent {
			t.Errorf("scenario %s: got intent %s; want %s", tc.id, s.Intent, tc.intent)
		}
	}
}

// TestDefaultPolicyHoldsEveryApproval checks that each approval or
// allowlist entry a scenario expects to be suppressed by is declared in the
// policy that ships beside the catalog. The policy's full validation is
// correlate's; here only the IDs matter.
func TestDefaultPolicyHoldsEveryApproval(t *testing.T) {
	type entry struct {
		ID string `yaml:"id"`
	}
	var pol struct {
		Approvals []entry `yaml:"approvals"`
		Allowlist []entry `yaml:"allowlist"`
	}
	if err := yaml.Unmarshal(DefaultPolicy(), &pol); err != nil {
		t.Fatalf("parse default policy: %v", err)
	}
	var ids []string
	for _, a := range append(pol.Approvals, pol.Allowlist...) {
		ids = append(ids, a.ID)
	}
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.All() {
		if by := s.Expect.SuppressedBy; by != "" && !slices.Contains(ids, by) {
			t.Errorf("scenario %s: approval %q not in %s (have %v)", s.ID, by, PolicyFile, ids)
		}
	}
}

// TestBuiltinScenariosRender renders every scenario and checks the run-ID
// contract: generated names recorded, the run ID never in a service name.
func TestBuiltinScenariosRender(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	r := NewRand(42)
	for _, s := range c.All() {
		p, err := s.Render(testBinding(s, "5e1f00d5a7c3"), r)
		if err != nil {
			t.Errorf("%s: %v", s.ID, err)
			continue
		}
		for name, v := range p.Vars {
			if strings.Contains(v, "{{") {
				t.Errorf("%s: var %s left unrendered: %q", s.ID, name, v)
			}
		}
		for _, cmd := range append(p.Steps, p.Cleanup...) {
			if cmd.Host == "" || cmd.Line == "" || strings.Contains(cmd.Line, "{{") {
				t.Errorf("%s: bad command %+v", s.ID, cmd)
			}
		}
		if s.Intent == Malicious && !planMentions(p, p.RunID) {
			t.Errorf("%s: the run ID appears in no step or payload", s.ID)
		}
	}
}

func testBinding(s *Scenario, runID string) Binding {
	b := Binding{RunID: runID, Sink: "10.10.0.250:8443", Hosts: map[string]string{}}
	for _, r := range s.RoleNames() {
		b.Hosts[r] = strings.ToUpper(r) + "01"
	}
	return b
}

func planMentions(p *Plan, s string) bool {
	for _, c := range p.Steps {
		if strings.Contains(c.Line, s) {
			return true
		}
	}
	for _, pl := range p.Payloads {
		if strings.Contains(pl.Path, s) || strings.Contains(pl.Content, s) {
			return true
		}
	}
	return false
}
