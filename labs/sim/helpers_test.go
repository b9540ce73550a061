package sim

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/svcharness/svcharness/telemetry"
)

// testLab builds a lab of the named hosts with fixed seed and start.
func testLab(t testing.TB, names ...string) *Lab {
	t.Helper()
	cfg := LabConfig{Seed: 7, Start: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	for _, n := range names {
		cfg.Hosts = append(cfg.Hosts, HostConfig{Name: n})
	}
	l, err := NewLab(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var adminSession = Session{User: `LAB\labadmin`, RemoteAddr: "10.10.0.5:51234",
	ShellID: "11111111-2222-3333-4444-555555555555"}

// run runs a command line as WinRS would and returns exit code, stdout and
// stderr.
func run(h *Host, s Session, line string) (int, string, string) {
	var out, errb bytes.Buffer
	code := h.RunCommand(context.Background(), s, line, nil, &out, &errb)
	return code, out.String(), errb.String()
}

// mustRun runs line and fails the test unless it exits with want.
func mustRun(t testing.TB, h *Host, line string, want int) string {
	t.Helper()
	code, out, errs := run(h, adminSession, line)
	if code != want {
		t.Fatalf("%s: got exit %d; want %d\nstdout: %s\nstderr: %s", line, code, want, out, errs)
	}
	return out + errs
}

// encodedPS renders a script as masterzen/winrm's Powershell() does.
func encodedPS(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return "powershell.exe -EncodedCommand " + base64.StdEncoding.EncodeToString(b)
}

// decodeXML decodes event XML with the project's decoder.
func decodeXML(t testing.TB, name, xml string) []*telemetry.Event {
	t.Helper()
	r := telemetry.NewXMLReader(name, strings.NewReader(xml))
	var out []*telemetry.Event
	for {
		ev, err := r.Next()
		if err != nil {
			if telemetry.IsRecordError(err) {
				t.Fatalf("decode %s: %v", name, err)
			}
			return out
		}
		out = append(out, ev)
	}
}

// records returns the host's records of one event ID on a channel.
func records(h *Host, channel string, id uint32) []Record {
	return h.Events(Filter{Channels: []string{channel}, IDs: []uint32{id}})
}
