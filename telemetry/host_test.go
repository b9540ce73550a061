package telemetry

import "testing"

func TestCanonicalHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"WORKSTATION6.theshire.local", "workstation6"},
		{"WORKSTATION6", "workstation6"},
		{`\\fs03vuln.offsec.lan`, "fs03vuln"},
		{"10.0.2.17", "10.0.2.17"},
		{"fe80::1", "fe80::1"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := CanonicalHost(tt.in); got != tt.want {
			t.Errorf("CanonicalHost(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestCanonicalChannel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"security", "Security"},
		{"SYSTEM", "System"},
		{"microsoft-windows-sysmon/operational", ChannelSysmon},
		{"Windows PowerShell", "Windows PowerShell"},
	}
	for _, tt := range tests {
		if got := CanonicalChannel(tt.in); got != tt.want {
			t.Errorf("CanonicalChannel(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
