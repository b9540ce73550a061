package correlate

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// TestPackageInitIsCheap guards the start-up cost every svcharness command
// pays: the package's initialisation compiled its redaction regexps (about
// 2,500 allocations, 0.4 ms); they are now compiled on first use. The test
// binary runs itself with GODEBUG=inittrace=1 and reads this package's line.
func TestPackageInitIsCheap(t *testing.T) {
	if os.Getenv("CORRELATE_INITTRACE_CHILD") != "" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPackageInitIsCheap$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "CORRELATE_INITTRACE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run test binary with inittrace: %v\n%s", err, out)
	}
	re := regexp.MustCompile(`init github\.com/svcharness/svcharness/correlate @[^,]+, [^,]+, ` +
		`\d+ bytes, (\d+) allocs`)
	m := re.FindSubmatch(out)
	if m == nil {
		t.Skipf("no inittrace line for the package in:\n%s", out)
	}
	if allocs, _ := strconv.Atoi(string(m[1])); allocs > 200 {
		t.Errorf("got %d allocations in package init; want at most 200 (compile lazily)", allocs)
	}
}

func TestPolicyIDAndHashChecks(t *testing.T) {
	ids := map[string]bool{"approved-jump-psexec": true, "a": true, "remote:10.0.0.5": true,
		"": false, "-x": false, "has space": false, "ünicode": false,
		string(make([]byte, 129)): false}
	for s, want := range ids {
		if got := isID(s); got != want {
			t.Errorf("isID(%q): got %v; want %v", s, got, want)
		}
	}
	hashes := map[string]bool{agentHash: true,
		"52A752E8D1A8866746A62C26C1C5B1054A8091BDB21E3C3C38A738158ABFE7DA": true,
		agentHash[:63]: false, agentHash[:63] + "g": false, "": false}
	for s, want := range hashes {
		if got := isSHA256(s); got != want {
			t.Errorf("isSHA256(%q): got %v; want %v", s, got, want)
		}
	}
}
