package emulate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/svcharness/svcharness/scenarios"
)

// scripted is a Runner that answers by the first rule whose substring the
// command line contains, and records every call.
type scripted struct {
	mu    sync.Mutex
	rules []rule
	calls []string
}

type rule struct {
	contains string
	res      Result
	err      error
}

func (s *scripted) Run(ctx context.Context, host string, _ scenarios.Shell,
	line string) (Result, error) {
	s.mu.Lock()
	s.calls = append(s.calls, host+"> "+line)
	s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	for _, r := range s.rules {
		if strings.Contains(line, r.contains) {
			return r.res, r.err
		}
	}
	return Result{}, nil
}

func (s *scripted) ran(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if strings.Contains(c, sub) {
			n++
		}
	}
	return n
}

func plan(t *testing.T, id string) *scenarios.Plan {
	t.Helper()
	c, err := scenarios.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := c.Lookup(id)
	if !ok {
		t.Fatalf("no scenario %s", id)
	}
	b := scenarios.Binding{RunID: "c0ffee000001", Sink: "10.10.0.250:8443",
		Hosts: map[string]string{}}
	for _, r := range s.RoleNames() {
		b.Hosts[r] = strings.ToUpper(r) + "01"
	}
	p, err := s.Render(b, scenarios.NewRand(7))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var canaryBytes = []byte("MZ canary")

func canary(scenarios.PlannedPayload) ([]byte, error) { return canaryBytes, nil }

// absentRules make every upload and cleanup check pass.
var absentRules = []rule{
	{contains: "Get-FileHash", res: Result{Stdout: sha256Upper(canaryBytes) + "\r\n"}},
	{contains: "sc.exe query", res: Result{ExitCode: 1060}},
	{contains: "reg.exe query", res: Result{ExitCode: 1}},
	{contains: "Test-Path", res: Result{Stdout: "False\r\n"}},
}

func TestExecuteRunsEverything(t *testing.T) {
	p := plan(t, "sc-create-user-writable")
	r := &scripted{rules: absentRules}
	o := Execute(context.Background(), r, p, canary, ExecOptions{})
	if err := o.Err(); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if len(o.Steps) != len(p.Steps) || len(o.Cleanup) != len(p.Cleanup) {
		t.Errorf("got %d steps, %d cleanup; want %d, %d", len(o.Steps), len(o.Cleanup),
			len(p.Steps), len(p.Cleanup))
	}
	if r.ran("AppendAllText") == 0 {
		t.Error("the canary payload was not uploaded")
	}
}

// TestExecuteCleansUpAfterAFailedStep: a step with an unexpected exit code
// stops the steps, is an emulation error, and cleanup still runs in full.
func TestExecuteCleansUpAfterAFailedStep(t *testing.T) {
	p := plan(t, "sc-create-user-writable")
	r := &scripted{rules: append([]rule{
		{contains: "sc.exe start", res: Result{ExitCode: 1053, Stdout: "[SC] StartService FAILED 1053:"}},
	}, absentRules...)}
	o := Execute(context.Background(), r, p, canary, ExecOptions{})
	if !errors.Is(o.StepsErr, ErrStepFailed) || !errors.Is(o.Err(), ErrEmulation) {
		t.Fatalf("got %v; want ErrStepFailed", o.StepsErr)
	}
	if r.ran("sc.exe delete") != 2-1 { // the step's delete never ran; cleanup's did
		t.Errorf("got %d deletes; want only cleanup's", r.ran("sc.exe delete"))
	}
	if len(o.Cleanup) != len(p.Cleanup) {
		t.Errorf("got %d cleanup commands; want all %d", len(o.Cleanup), len(p.Cleanup))
	}
}

// TestExecuteCleansUpAfterInterrupt cancels the context before the run:
// nothing of the steps may run, but cleanup and verification still do.
func TestExecuteCleansUpAfterInterrupt(t *testing.T) {
	p := plan(t, "psexec-default")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &scripted{rules: absentRules}
	o := Execute(ctx, r, p, canary, ExecOptions{})
	if o.StepsErr == nil {
		t.Error("steps on a cancelled context reported no error")
	}
	if r.ran("PsExec") != 0 {
		t.Error("a step ran after the interrupt")
	}
	if r.ran("sc.exe delete PSEXESVC") != 1 || r.ran("sc.exe query") != 1 {
		t.Errorf("cleanup or verification did not run after the interrupt: %v", r.calls)
	}
}

// TestVerifyReportsEveryLeftover leaves a service on one host and a file on
// another; both must be reported, together.
func TestVerifyReportsEveryLeftover(t *testing.T) {
	p := plan(t, "impacket-psexec")
	r := &scripted{rules: []rule{
		{contains: "sc.exe query", res: Result{Stdout: "STATE : 4 RUNNING"}},
		{contains: "Test-Path", res: Result{Stdout: "True\r\n"}},
	}}
	err := Verify(context.Background(), r, p.Checks)
	if !errors.Is(err, ErrLeftBehind) {
		t.Fatalf("got %v; want ErrLeftBehind", err)
	}
	msg := err.Error()
	for _, want := range []string{"service_absent " + p.Vars["service"] + " on TARGET01",
		`file_absent C:\LabStage\c0ffee000001 on ATTACKER01`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if n := len(strings.Split(msg, "\n")); n != len(p.Checks) {
		t.Errorf("got %d failures; want one per check (%d)", n, len(p.Checks))
	}
}

func TestVerifyValueIs(t *testing.T) {
	check := scenarios.PlannedCheck{Host: "WS01", Kind: scenarios.ValueIs,
		Target: `HKLM\SYSTEM\CurrentControlSet\Services\Spooler`, Name: "Start", Data: "2"}
	out := "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Spooler\r\n" +
		"    Start    REG_DWORD    0x%s\r\n"
	for _, tc := range []struct {
		hex  string
		want error
	}{{"2", nil}, {"3", ErrLeftBehind}} {
		r := &scripted{rules: []rule{{contains: "reg.exe query",
			res: Result{Stdout: strings.Replace(out, "%s", tc.hex, 1)}}}}
		err := Verify(context.Background(), r, []scenarios.PlannedCheck{check})
		if !errors.Is(err, tc.want) && !(err == nil && tc.want == nil) {
			t.Errorf("Start=0x%s: got %v; want %v", tc.hex, err, tc.want)
		}
	}
	str := scenarios.PlannedCheck{Host: "WS01", Kind: scenarios.ValueIs, Target: `HKLM\X`,
		Name: "ImagePath", Data: `%systemroot%\system32\fxssvc.exe`}
	out = "HKEY_LOCAL_MACHINE\\X\r\n" +
		"    ImagePath    REG_EXPAND_SZ    %systemroot%\\system32\\fxssvc.exe\r\n"
	r := &scripted{rules: []rule{{contains: "reg.exe query", res: Result{Stdout: out}}}}
	if err := Verify(context.Background(), r, []scenarios.PlannedCheck{str}); err != nil {
		t.Errorf("restored ImagePath: %v", err)
	}
}

func TestExecuteDryRunConnectsToNothing(t *testing.T) {
	p := plan(t, "smbexec-comspec-burst")
	d := &DryRun{}
	o := Execute(context.Background(), d, p, canary, ExecOptions{})
	if err := o.Err(); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	want := len(p.Steps) + len(p.Cleanup) + len(p.Checks)
	if got := len(d.Commands()); got != want {
		t.Errorf("got %d dry-run commands; want %d", got, want)
	}
}

func sha256Upper(b []byte) string {
	sum := sha256.Sum256(b)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}
