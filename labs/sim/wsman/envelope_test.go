package wsman

import (
	"errors"
	"strings"
	"testing"

	"github.com/masterzen/winrm"
)

func TestDecodeRequest(t *testing.T) {
	p := winrm.DefaultParameters
	cmd := winrm.NewExecuteCommandRequest("http://h/wsman", "S1", "sc.exe",
		[]string{"query", `"a b"`}, p).String()
	req, err := decodeRequest([]byte(cmd))
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Header.selector("ShellId"); got != "S1" {
		t.Errorf("ShellId: got %q; want S1", got)
	}
	if got, want := joinCommandLine(req.Body.CommandLine), `sc.exe query "a b"`; got != want {
		t.Errorf("command line: got %q; want %q", got, want)
	}
	if got := req.Header.option("WINRS_SKIP_CMD_SHELL"); got != "FALSE" {
		t.Errorf("option: got %q; want FALSE", got)
	}

	bad := []struct{ name, body string }{
		{"doctype", `<!DOCTYPE s [<!ENTITY x "y">]><s:Envelope xmlns:s="` + nsSOAP + `"/>`},
		{"deep", `<s:Envelope xmlns:s="` + nsSOAP + `">` + strings.Repeat("<a>", 40) +
			strings.Repeat("</a>", 40) + `</s:Envelope>`},
		{"undefined entity", `<s:Envelope xmlns:s="` + nsSOAP + `">&x;</s:Envelope>`},
		{"not soap", `<Envelope/>`},
		{"truncated", cmd[:len(cmd)/2]},
	}
	for _, tc := range bad {
		if _, err := decodeRequest([]byte(tc.body)); !errors.Is(err, errMalformed) {
			t.Errorf("%s: got %v; want errMalformed", tc.name, err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	cases := map[string]float64{"PT60S": 60, "PT60.000S": 60, "PT1M30S": 90,
		"P0DT0H1M0S": 60, "PT0.5S": 0.5}
	for in, want := range cases {
		if d, ok := parseDuration(in); !ok || d.Seconds() != want {
			t.Errorf("%s: got %v, %v; want %vs", in, d, ok, want)
		}
	}
	for _, in := range []string{"", "60", "PT", "PTxS", "P1M", "PT1e9S"} {
		if d, ok := parseDuration(in); ok && d != 0 {
			t.Errorf("%s: got %v; want rejected", in, d)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	p := winrm.DefaultParameters
	f.Add([]byte(winrm.NewOpenShellRequest("http://h/wsman", p).String()))
	f.Add([]byte(winrm.NewSendInputRequest("http://h/wsman", "S", "C", []byte("x"), true,
		p).String()))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeRequest(b)
		if err == nil && req.Body.CommandLine != nil {
			_ = joinCommandLine(req.Body.CommandLine)
		}
	})
}
