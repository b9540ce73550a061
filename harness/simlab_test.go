package harness

import (
	"strings"
	"testing"
)

func TestReachableURL(t *testing.T) {
	cases := map[string]string{
		"http://0.0.0.0:5985/wsman":    "http://127.0.0.1:5985/wsman",
		"https://[::]:5986/wsman":      "https://127.0.0.1:5986/wsman",
		"http://127.0.0.1:40001/wsman": "http://127.0.0.1:40001/wsman",
		"https://10.0.0.5:5986/wsman":  "https://10.0.0.5:5986/wsman",
	}
	for in, want := range cases {
		if got := reachableURL(in); got != want {
			t.Errorf("reachableURL(%q): got %q; want %q", in, got, want)
		}
	}
}

func TestSimHosts(t *testing.T) {
	cases := []struct {
		n    int
		want string
	}{
		{1, "WS01"},
		{4, "WS01 SRV01 JUMP01 MGMT01"},
		{7, "WS01 SRV01 JUMP01 MGMT01 WS02 SRV02 WS03"},
	}
	for _, tc := range cases {
		var names []string
		for _, h := range SimHosts(tc.n) {
			names = append(names, h.Name)
		}
		if got := strings.Join(names, " "); got != tc.want {
			t.Errorf("SimHosts(%d): got %q; want %q", tc.n, got, tc.want)
		}
	}
}
