package correlate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"

	"github.com/svcharness/svcharness/telemetry/synth"
)

// catalogPolicy loads the built-in lab's policy, whose approvals name JUMP01
// and MGMT01 by host name only.
func catalogPolicy(t *testing.T) *Policy {
	t.Helper()
	pol, err := LoadPolicyFile("../scenarios/catalog/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// injectAndRun runs the injected episodes on host with n background events
// between each, and returns every alert.
func injectAndRun(t *testing.T, pol *Policy, opts Options, host string, gapEvents int,
	scenarios ...string) []Alert {
	t.Helper()
	g, err := synth.New(synth.Config{Hosts: 12, EventsPerSecond: 1000, Seed: 11,
		AdminEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	eng := New(pol, opts)
	for _, s := range scenarios {
		if err := g.Inject(s, host); err != nil {
			t.Fatal(err)
		}
		for range gapEvents {
			ev, _ := g.Next()
			eng.Process(ev)
		}
	}
	return eng.Close()
}

// TestApprovedPsExecDoesNotHideAttack is the regression test for the
// suppression bypass: an approved PsExec from JUMP01 and an attacker's PsExec
// on the same host seconds later re-create PSEXESVC twice. They are two
// installs from two origins and must be two incidents: the approved one
// suppressed, the attacker's reported.
func TestApprovedPsExecDoesNotHideAttack(t *testing.T) {
	alerts := injectAndRun(t, catalogPolicy(t), Options{}, "ws0003", 5000,
		synth.ScenarioAdminPsExec, synth.ScenarioPsExec)
	var suppressed, open []Alert
	for _, a := range alerts {
		if a.Host == "" || !strings.HasPrefix(strings.ToLower(a.Host), "ws0003") {
			continue
		}
		if a.Suppressed() {
			suppressed = append(suppressed, a)
		} else {
			open = append(open, a)
		}
	}
	if len(open) == 0 {
		for _, a := range suppressed {
			t.Logf("suppressed: %s %q by %s, %d evidence, source %s/%s", a.Host, a.Service,
				a.SuppressedBy, len(a.Evidence), a.SourceHost, a.SourceIP)
		}
		t.Fatalf("got no unsuppressed alert on ws0003; want the attacker's PsExec reported")
	}
	if len(suppressed) != 1 || suppressed[0].SuppressedBy != "approved-jump-psexec" {
		t.Errorf("got %d suppressed alerts; want the approved PsExec suppressed by "+
			"approved-jump-psexec", len(suppressed))
	}
	for _, a := range open {
		if strings.EqualFold(a.SourceHost, "jump01") {
			t.Errorf("unsuppressed alert %q comes from JUMP01; want only the attacker's", a.Service)
		}
	}
}

// jumpPolicy approves PSEXESVC from JUMP01, as the catalog policy does.
func jumpPolicy(t *testing.T) *Policy {
	t.Helper()
	pol, err := LoadPolicy("jump", []byte(`approvals:
  - id: approved-jump-psexec
    reason: admins use PsExec from the jump host
    owner: lab-admins
    match: {service: PSEXESVC, source_host: JUMP01}
`))
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// TestApprovalDoesNotCoverOtherOrigin: a second PsExec client that reuses the
// running PSEXESVC installs nothing; only its pipes name it. The approval for
// JUMP01 must then stop suppressing, and say why.
func TestApprovalDoesNotCoverOtherOrigin(t *testing.T) {
	const exe = `%SystemRoot%\PSEXESVC.exe`
	build := func(s *stream, second string) []*telemetry.Event {
		evs := []*telemetry.Event{
			s.logon(0, "3", 0x51a, "10.0.0.5", "JUMP01"),
			s.install7045(time.Second, "PSEXESVC", exe),
			s.install4697(time.Second, "PSEXESVC", exe, 0x51a),
			s.pipe(2*time.Second, 17, `C:\Windows\PSEXESVC.exe`, `\PSEXESVC-JUMP01-4410-stdin`),
		}
		return append(evs, s.pipe(4*time.Second, 17, `C:\Windows\PSEXESVC.exe`,
			`\PSEXESVC-`+second+`-7128-stdin`))
	}
	tests := []struct {
		name, second, wantBy string
	}{
		{"second session from the jump host", "JUMP01", "approved-jump-psexec"},
		{"second session from elsewhere", "WS0042", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := only(t, correlateAll(t, jumpPolicy(t), build(newStream("WS0003"), tt.second)...))
			if a.SuppressedBy != tt.wantBy {
				t.Fatalf("got suppressed_by %q; want %q (reasons %q)", a.SuppressedBy, tt.wantBy,
					a.Reasons)
			}
			if tt.wantBy == "" && !slicesAny(a.Reasons, func(r string) bool {
				return strings.Contains(r, "does not cover evidence from WS0042")
			}) {
				t.Errorf("got reasons %q; want one naming the uncovered origin WS0042", a.Reasons)
			}
		})
	}
}

// TestRecreatedServiceSplits: each creation of a name is its own incident,
// also when a reader delivers all 4697s before all 7045s; the 7045 and 4697
// of one creation still pair up.
func TestRecreatedServiceSplits(t *testing.T) {
	const exe = `%SystemRoot%\PSEXESVC.exe`
	s := newStream("WS0003")
	jump := []*telemetry.Event{s.logon(0, "3", 0x51a, "10.0.0.5", "JUMP01"),
		s.install4697(time.Second, "PSEXESVC", exe, 0x51a)}
	evil := []*telemetry.Event{s.logon(9*time.Second, "3", 0x77b, "10.0.0.66", "WS0042"),
		s.install4697(10*time.Second, "PSEXESVC", exe, 0x77b)}
	system := []*telemetry.Event{s.install7045(time.Second, "PSEXESVC", exe),
		s.install7045(10*time.Second, "PSEXESVC", exe)}
	events := append(append(jump, evil...), system...)
	alerts := correlateAll(t, jumpPolicy(t), events...)
	if len(alerts) != 2 {
		t.Fatalf("got %d alerts; want 2 (one per creation)", len(alerts))
	}
	for _, a := range alerts {
		if n := len(a.Evidence); n != 3 {
			t.Errorf("alert from %s: got %d evidence records; want 3 (4624, 4697, 7045)",
				a.SourceHost, n)
		}
		want := ""
		if a.SourceHost == "JUMP01" {
			want = "approved-jump-psexec"
		}
		if a.SuppressedBy != want {
			t.Errorf("alert from %s: got suppressed_by %q; want %q", a.SourceHost,
				a.SuppressedBy, want)
		}
	}
}

// TestAdminEpisodesApprovedByName runs fleets whose approved PsExec (from
// JUMP01) and PDQ deployments (from MGMT01) log on with Kerberos about half
// the time, under the built-in policy that approves both hosts by name only.
// Every complete episode (one that reached its services.exe child) must be
// suppressed; the stream's cut may leave the last ones incomplete.
func TestAdminEpisodesApprovedByName(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		g, err := synth.New(synth.Config{Hosts: 60, EventsPerSecond: 200, Seed: seed,
			AdminEvery: 300})
		if err != nil {
			t.Fatal(err)
		}
		eng := New(catalogPolicy(t), Options{})
		for range 100_000 {
			ev, _ := g.Next()
			eng.Process(ev)
		}
		n := 0
		for _, a := range eng.Close() {
			if (a.Service != "PDQDeployRunner-1" && a.Service != "PSEXESVC") ||
				!slices.Contains(a.Signals, ServicesChild.String()) {
				continue
			}
			n++
			if !a.Suppressed() {
				t.Errorf("seed %d: %s on %s from %q/%q: got unsuppressed; reasons %q", seed,
					a.Service, a.Host, a.SourceHost, a.SourceIP, a.Reasons)
			}
		}
		if n < 20 {
			t.Errorf("seed %d: got %d admin episodes; want at least 20", seed, n)
		}
	}
}

// deployment is a PDQ Deploy push from 10.20.0.62 to WS01 over the given
// network logon.
func deployment(s *stream, at time.Duration, station string, logonID uint64) []*telemetry.Event {
	const exe = `"%windir%\AdminArsenal\PDQDeployRunner\service-1\PDQDeployRunner-1.exe"`
	return []*telemetry.Event{
		s.logon(at, "3", logonID, "10.20.0.62", station),
		s.install4697(at+time.Second, "PDQDeployRunner-1", exe, logonID),
		s.proc1(at+2*time.Second, "{00000000-0000-0000-0000-0000000000d1}",
			`C:\Windows\AdminArsenal\PDQDeployRunner\service-1\PDQDeployRunner-1.exe`, exe,
			"{00000000-0000-0000-0000-000000000001}", `C:\Windows\System32\services.exe`),
	}
}

// TestKerberosSourceNamed is the regression test for approvals by host name
// missing Kerberos logons (WorkstationName "-"): the address is named by the
// host's own outbound connections, or by an NTLM logon seen before the
// incident closes; an NTLM name its address's own host contradicts is not
// believed.
func TestKerberosSourceNamed(t *testing.T) {
	mgmtConn := newStream("MGMT01.lab.local").net3(0, "{00000000-0000-0000-0000-0000000000e1}",
		`C:\Program Files\Admin Arsenal\PDQ Deploy\PDQDeployService.exe`, "10.20.0.31")
	mgmtConn.Fields = setField(mgmtConn.Fields, "SourceIp", "10.20.0.62")
	tests := []struct {
		name  string
		build func(s *stream) []*telemetry.Event
		want  string
	}{
		{"Kerberos, no name anywhere", func(s *stream) []*telemetry.Event {
			return deployment(s, time.Second, "-", 0x3e1a)
		}, ""},
		{"Kerberos, the host's own connection names the address",
			func(s *stream) []*telemetry.Event {
				return append([]*telemetry.Event{mgmtConn},
					deployment(s, time.Second, "-", 0x3e1a)...)
			}, "approved-deployment-runner"},
		{"Kerberos, an NTLM logon names the address before the incident closes",
			func(s *stream) []*telemetry.Event {
				return append(deployment(s, time.Second, "-", 0x3e1a),
					s.logon(30*time.Second, "3", 0x3e2b, "10.20.0.62", "MGMT01"))
			}, "approved-deployment-runner"},
		{"NTLM claims MGMT01 from another host's address", func(s *stream) []*telemetry.Event {
			other := newStream("WS0042.lab.local").net3(0, "{00000000-0000-0000-0000-0000000000e2}",
				`C:\Users\Public\x.exe`, "10.20.0.31")
			other.Fields = setField(other.Fields, "SourceIp", "10.20.0.62")
			return append([]*telemetry.Event{other},
				deployment(s, time.Second, "MGMT01", 0x3e1a)...)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := tt.build(newStream("WS01.lab.local"))
			a := only(t, correlateAll(t, catalogPolicy(t), events...))
			if a.SuppressedBy != tt.want {
				t.Errorf("got suppressed_by %q (source %q/%q); want %q; reasons %q", a.SuppressedBy,
					a.SourceHost, a.SourceIP, tt.want, a.Reasons)
			}
		})
	}
}

func setField(fs []telemetry.Field, name, value string) []telemetry.Field {
	for i := range fs {
		if fs[i].Name == name {
			fs[i].Value = value
		}
	}
	return fs
}

// TestApprovedSessionsMakeNoBurst: an administrator looping PsExec from the
// jump host re-creates PSEXESVC once per session. Enough sessions make an
// install burst, and the approval that covers every one of its installs
// covers the burst too.
func TestApprovedSessionsMakeNoBurst(t *testing.T) {
	var sessions []string
	for range DefaultBurstCount + 1 {
		sessions = append(sessions, synth.ScenarioAdminPsExec)
	}
	alerts := injectAndRun(t, jumpPolicy(t), Options{}, "ws0003", 40, sessions...)
	if len(alerts) == 0 {
		t.Fatal("got no alerts; want the sessions reported as suppressed")
	}
	for _, a := range alerts {
		if !a.Suppressed() {
			t.Errorf("got unsuppressed %q %v; want approved-jump-psexec (reasons %q)", a.Service,
				a.Signals, a.Reasons)
		}
	}
}
