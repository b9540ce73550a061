package correlate

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

func TestLoadPolicy(t *testing.T) {
	pol, err := LoadPolicyFile("testdata/example-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if pol.Window != 90*time.Second || pol.MinScore != 45 || pol.BurstCount != 8 {
		t.Errorf("got window %s min_score %d burst %d; want 90s, 45, 8", pol.Window, pol.MinScore,
			pol.BurstCount)
	}
	if len(pol.Allowlist) != 2 || len(pol.Approvals) != 3 || !pol.isRemoteExecutionHost("JUMP01.lab.local") {
		t.Errorf("got %d allowlist, %d approvals, jump01 approved=%v; want 2, 3, true",
			len(pol.Allowlist), len(pol.Approvals), pol.isRemoteExecutionHost("jump01"))
	}
	want := time.Date(2027, 6, 30, 23, 59, 59, 999999999, time.UTC)
	if got := pol.Approvals[0].Expires; !got.Equal(want) {
		t.Errorf("got expiry %s; want the end of 2027-06-30, %s", got, want)
	}
}

func TestLoadPolicyEmptyIsDefault(t *testing.T) {
	pol, err := LoadPolicy("empty", nil)
	if err != nil || pol.Window != DefaultWindow || pol.MinScore != DefaultMinScore {
		t.Errorf("got %+v, %v; want the defaults", pol, err)
	}
}

func TestLoadPolicyReportsEveryProblem(t *testing.T) {
	src, err := os.ReadFile("testdata/invalid-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadPolicy("invalid-policy.yaml", src)
	var pe *PolicyErrors
	if !errors.As(err, &pe) {
		t.Fatalf("got %v; want *PolicyErrors", err)
	}
	want := []string{
		`line 2: want a duration such as 90s or 2m, got "soon"`,
		`line 3: policy: unknown key "min_scor"`,
		`line 5: path "C:\Windows\*": wildcards are not allowed`,
		`line 6: path "C:\Program Files\Vendor\" is a folder`,
		`line 8: sha256 "abc" is not 64 hex digits`,
		`line 10: path "agent.exe" is not absolute`,
		`line 12: approval needs owner`,
		`line 17: expires "next year"`,
		`line 19: match: unknown key "services"`,
		`line 20: host_group "nobody" is not defined in host_groups`,
		`line 21: approval id "dup" already used at line 12`,
		`line 24: approval needs id`,
		`line 27: burst count 1 out of range 2..10000`,
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("got errors:\n%s\nwant one containing %q", got, w)
		}
	}
	if len(pe.Errors) < len(want) {
		t.Errorf("got %d problems; want at least %d", len(pe.Errors), len(want))
	}
}

func TestLoadPolicySyntaxErrorHasLine(t *testing.T) {
	_, err := LoadPolicy("broken", []byte("window: 2m\napprovals:\n  - id: [unclosed\n"))
	var pe *PolicyErrors
	if !errors.As(err, &pe) || pe.Errors[0].Line == 0 {
		t.Fatalf("got %v; want a syntax error with a line", err)
	}
}

// A second document, even an empty one (found by FuzzLoadPolicy, which
// crashed on "0\r---"), is an error with the line of its "---".
func TestLoadPolicyRejectsASecondDocument(t *testing.T) {
	for _, src := range []string{"window: 2m\n---\n", "window: 2m\n---\nwindow: 3m\n", "0\r---"} {
		_, err := LoadPolicy("two", []byte(src))
		var pe *PolicyErrors
		if !errors.As(err, &pe) || !strings.Contains(pe.Error(), "more than one YAML document") {
			t.Errorf("%q: got %v; want a second-document error", src, err)
			continue
		}
		if src != "0\r---" && pe.Errors[0].Line != 2 {
			t.Errorf("%q: got line %d; want 2", src, pe.Errors[0].Line)
		}
	}
}

func TestLoadPolicyRejectsAliases(t *testing.T) {
	src := "host_groups:\n  a: &h [x]\n  b: *h\n"
	if _, err := LoadPolicy("alias", []byte(src)); err == nil {
		t.Errorf("got no error for a YAML alias; want one")
	}
}

// suppressionPolicy approves BTOBTO until 2026-06-01 and PSEXESVC from the
// jump host, and allowlists the vendor agent by path and hash.
const suppressionPolicy = `
remote_execution_hosts: [jump01]
allowlist:
  - path: 'C:\Program Files\Vendor\agent.exe'
    sha256: 'ab12000000000000000000000000000000000000000000000000000000000000'
approvals:
  - id: drill-2025
    reason: purple-team drill
    owner: blue
    expires: 2025-12-31
    match: {service: BTOBTO}
  - id: drill-2026
    reason: purple-team drill
    owner: blue
    ticket: CHG-7
    match: {service: BTOBTO, host_group: lab}
host_groups:
  lab: [ws01.lab.local]
`

func TestSuppression(t *testing.T) {
	pol, err := LoadPolicy("suppression", []byte(suppressionPolicy))
	if err != nil {
		t.Fatal(err)
	}
	s := newStream("ws01")
	a := only(t, correlateAll(t, pol, s.install7045(0, "BTOBTO", comspecLine)))
	if a.SuppressedBy != "drill-2026" || !strings.Contains(strings.Join(a.Reasons, "|"),
		"approval drill-2025 expired on 2025-12-31 and no longer suppresses") {
		t.Errorf("got suppressed_by %q reasons %q; want drill-2026 and the expiry of drill-2025",
			a.SuppressedBy, a.Reasons)
	}
	other := newStream("ws02")
	if a := only(t, correlateAll(t, pol, other.install7045(0, "BTOBTO", comspecLine))); a.Suppressed() {
		t.Errorf("host outside the group: got suppressed_by %q; want none", a.SuppressedBy)
	}
}

func TestAllowlistNeedsObservedHash(t *testing.T) {
	pol, err := LoadPolicy("suppression", []byte(suppressionPolicy))
	if err != nil {
		t.Fatal(err)
	}
	pol.MinScore = 1
	agent := `C:\Program Files\Vendor\agent.exe`
	s := newStream("ws01")
	install := s.install7045(0, "Vendor Agent", `"`+agent+`"`)
	a := only(t, correlateAll(t, pol, install))
	if a.Suppressed() || !strings.Contains(strings.Join(a.Reasons, "|"), "SHA-256 was not observed") {
		t.Errorf("hash unseen: got suppressed_by %q reasons %q; want open, hash not observed",
			a.SuppressedBy, a.Reasons)
	}
	child := s.proc1(time.Second, "{77777777-0000-0000-0000-000000000001}", agent, `"`+agent+`"`,
		servicesGUID, servicesExe)
	child.Fields[5].Value = "SHA256=AB12000000000000000000000000000000000000000000000000000000000000"
	a = only(t, correlateAll(t, pol, install, child))
	if a.SuppressedBy != "allowlist:"+agent {
		t.Errorf("hash seen: got suppressed_by %q reasons %q; want the allowlist entry", a.SuppressedBy, a.Reasons)
	}
	child.Fields[5].Value = "SHA256=FFFF"
	if a := only(t, correlateAll(t, pol, install, child)); a.Suppressed() {
		t.Errorf("hash differs: got suppressed_by %q; want none", a.SuppressedBy)
	}
}

func TestRemoteExecutionHosts(t *testing.T) {
	pol, err := LoadPolicy("suppression", []byte(suppressionPolicy))
	if err != nil {
		t.Fatal(err)
	}
	run := func(from, image string) Alert {
		s := newStream("srv01")
		return only(t, correlateAll(t, pol, s.logon(0, "3", 0x77, "10.0.0.5", from),
			s.install4697(time.Second, "PSEXESVC", image, 0x77)))
	}
	if a := run("JUMP01", `%SystemRoot%\PSEXESVC.exe`); a.SuppressedBy != "remote-execution-host:jump01" {
		t.Errorf("PsExec from the jump host: got suppressed_by %q; want remote-execution-host:jump01", a.SuppressedBy)
	}
	if a := run("WS99", `%SystemRoot%\PSEXESVC.exe`); a.Suppressed() {
		t.Errorf("same PsExec from another host: got suppressed_by %q; want none", a.SuppressedBy)
	}
	if a := run("JUMP01", `C:\Users\Public\PSEXESVC.exe`); a.Suppressed() {
		t.Errorf("jump host planting a binary in a user folder: got suppressed_by %q; want none", a.SuppressedBy)
	}
}

func TestAllowlistSigner(t *testing.T) {
	pol, err := LoadPolicy("signer", []byte(`allowlist:
  - path: 'C:\Program Files\Vendor\agent.exe'
    signer: 'Vendor Inc.'
`))
	if err != nil {
		t.Fatal(err)
	}
	pol.MinScore = 1
	agent := `C:\Program Files\Vendor\agent.exe`
	load := func(s *stream, signer, status string) *telemetry.Event {
		return s.ev(telemetry.ChannelSysmon, 7, time.Second, "Image", agent, "ImageLoaded", agent,
			"Signed", "true", "Signature", signer, "SignatureStatus", status)
	}
	for _, tt := range []struct {
		signer, status, want string
	}{
		{"Vendor Inc.", "Valid", "allowlist:" + agent},
		{"Vendor Inc.", "Expired", ""},
		{"Other Corp", "Valid", ""},
	} {
		s := newStream("ws01")
		a := only(t, correlateAll(t, pol, s.install7045(0, "Vendor Agent", `"`+agent+`"`),
			load(s, tt.signer, tt.status)))
		if a.SuppressedBy != tt.want {
			t.Errorf("signer %q %s: got suppressed_by %q; want %q (reasons %q)", tt.signer, tt.status,
				a.SuppressedBy, tt.want, a.Reasons)
		}
	}
}

func readTestdata(name string) ([]byte, error) { return os.ReadFile(name) }
