package correlate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcharness/svcharness/telemetry"
)

const (
	agentPath = `C:\Program Files\HarnessLab\Agent\HarnessAgent.exe`
	agentHash = "52a752e8d1a8866746a62c26c1c5b1054a8091bdb21e3c3c38a738158abfe7da"
	otherHash = "0f0e0d0c0b0a09080706050403020100ffeeddccbbaa99887766554433221100"
)

// agentPolicy pins the vendor agent's path to its SHA-256, as the catalog
// policy does.
func agentPolicy(t *testing.T) *Policy {
	t.Helper()
	pol, err := LoadPolicy("agent", []byte(`allowlist:
  - id: harnesslab-agent
    path: '`+agentPath+`'
    sha256: `+agentHash+`
`))
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// agentStart is services.exe starting the agent's binary with a hash.
func agentStart(s *stream, at time.Duration, guid, sha string) *telemetry.Event {
	return s.ev(telemetry.ChannelSysmon, 1, at, "ProcessGuid", guid, "ProcessId", "4242",
		"Image", agentPath, "CommandLine", `"`+agentPath+`"`, "User", `NT AUTHORITY\SYSTEM`,
		"Hashes", "SHA256="+strings.ToUpper(sha), "ParentProcessGuid",
		"{00000000-0000-0000-0000-000000000001}", "ParentProcessId", "612",
		"ParentImage", `C:\Windows\System32\services.exe`)
}

// TestAllowlistEveryHash is the regression test for the vendor-binary-
// replaced bypass: the allowlist used to check only the first child's hash.
// Any hash other than the pinned one voids the allowlist, says so, and is
// nonstandard_binary.
func TestAllowlistEveryHash(t *testing.T) {
	tests := []struct {
		name       string
		hashes     []string
		suppressed bool
	}{
		{"pinned binary started twice", []string{agentHash, agentHash}, true},
		{"binary replaced between starts", []string{agentHash, otherHash}, false},
		{"replaced before the first start", []string{otherHash}, false},
		{"replaced and started after the window", []string{"", otherHash}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStream("SRV01")
			events := []*telemetry.Event{s.install7045(0, "HarnessLabAgent", `"`+agentPath+`"`)}
			for i, h := range tt.hashes {
				at := time.Duration(i+1) * 20 * time.Second
				if h == "" {
					continue // a start long after the install
				}
				if i > 0 && tt.hashes[0] == "" {
					at = DefaultWindow + time.Hour
				}
				events = append(events, agentStart(s, at, "{00000000-0000-0000-0000-00000000010"+
					string(rune('0'+i))+"}", h), s.state(at, "HarnessLabAgent", "running"),
					s.state(at+5*time.Second, "HarnessLabAgent", "stopped"))
			}
			a := only(t, correlateAll(t, agentPolicy(t), events...))
			if got := a.Suppressed(); got != tt.suppressed {
				t.Fatalf("got suppressed %v (%q); want %v; reasons %q", got, a.SuppressedBy,
					tt.suppressed, a.Reasons)
			}
			if tt.suppressed {
				return
			}
			if !slices.Contains(a.Signals, NonstandardBinary.String()) {
				t.Errorf("got signals %v; want nonstandard_binary", a.Signals)
			}
			if !slicesAny(a.Reasons, func(r string) bool {
				return strings.Contains(r, otherHash) && strings.Contains(r, "does not pin")
			}) {
				t.Errorf("got reasons %q; want one naming SHA-256 %s as not pinned", a.Reasons,
					otherHash)
			}
		})
	}
}
