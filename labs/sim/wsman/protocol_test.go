package wsman

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/masterzen/winrm"
)

// reply is the part of a response envelope the protocol tests check,
// matched by local name so the test does not share the server's prefixes.
type reply struct {
	Status      int
	ContentType string
	Header      struct {
		Action    string `xml:"Action"`
		MessageID string `xml:"MessageID"`
		RelatesTo string `xml:"RelatesTo"`
	} `xml:"Header"`
	Body struct {
		SelectorShellID string `xml:"ResourceCreated>ReferenceParameters>SelectorSet>Selector"`
		ShellID         string `xml:"Shell>ShellId"`
		CommandID       string `xml:"CommandResponse>CommandId"`
		Fault           struct {
			Code    string `xml:"Code>Value"`
			Subcode string `xml:"Code>Subcode>Value"`
			Reason  string `xml:"Reason>Text"`
			Detail  struct {
				WSManFault struct {
					Code    string `xml:"Code,attr"`
					Machine string `xml:"Machine,attr"`
				} `xml:"WSManFault"`
			} `xml:"Detail"`
		} `xml:"Fault"`
	} `xml:"Body"`
}

// post sends body with Basic credentials and decodes the answer.
func post(t *testing.T, url, body string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.SetBasicAuth(testUser, testPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	if len(raw) > 0 {
		if err := xml.Unmarshal(raw, &r); err != nil {
			t.Fatalf("decode response %q: %v", raw, err)
		}
	}
	return r
}

func messageID(t *testing.T, soapXML string) string {
	t.Helper()
	_, rest, ok := strings.Cut(soapXML, "MessageID>")
	id, _, ok2 := strings.Cut(rest, "<")
	if !ok || !ok2 {
		t.Fatalf("no MessageID in %q", soapXML)
	}
	return id
}

// TestResponsesCarryWhatClientsRead checks, operation by operation, the
// details real clients depend on: content type, RelatesTo, both ShellId
// forms, CommandId, and the Action of each response.
func TestResponsesCarryWhatClientsRead(t *testing.T) {
	lab := startLab(t, Config{AllowUnencrypted: true}, false)
	p := winrm.DefaultParameters

	create := winrm.NewOpenShellRequest(lab.url, p).String()
	r := post(t, lab.url, create)
	checkReply(t, "create", r, 200, actionCreate+"Response", messageID(t, create))
	if r.Body.SelectorShellID == "" || r.Body.SelectorShellID != r.Body.ShellID {
		t.Fatalf("create: selector ShellId %q, rsp:ShellId %q; want both, equal",
			r.Body.SelectorShellID, r.Body.ShellID)
	}
	shellID := r.Body.ShellID

	cmd := winrm.NewExecuteCommandRequest(lab.url, shellID, "echo", []string{"hi"}, p).String()
	r = post(t, lab.url, cmd)
	checkReply(t, "command", r, 200, actionCommand+"Response", messageID(t, cmd))
	if r.Body.CommandID == "" {
		t.Fatal("command: no CommandId")
	}
	cmdID := r.Body.CommandID

	recv := winrm.NewGetOutputRequest(lab.url, shellID, cmdID, "stdout stderr", p).String()
	checkReply(t, "receive", post(t, lab.url, recv), 200, actionReceive+"Response",
		messageID(t, recv))
	send := winrm.NewSendInputRequest(lab.url, shellID, cmdID, []byte("x"), true, p).String()
	checkReply(t, "send", post(t, lab.url, send), 200, actionSend+"Response", messageID(t, send))
	sig := winrm.NewSignalRequest(lab.url, shellID, cmdID, p).String()
	checkReply(t, "signal", post(t, lab.url, sig), 200, actionSignal+"Response",
		messageID(t, sig))
	del := winrm.NewDeleteShellRequest(lab.url, shellID, p).String()
	checkReply(t, "delete", post(t, lab.url, del), 200, actionDelete+"Response",
		messageID(t, del))
}

func checkReply(t *testing.T, op string, r reply, status int, action, relatesTo string) {
	t.Helper()
	if r.Status != status || r.ContentType != contentTypeSOAP {
		t.Errorf("%s: got status %d, content type %q; want %d, %q",
			op, r.Status, r.ContentType, status, contentTypeSOAP)
	}
	if r.Header.Action != action || r.Header.RelatesTo != relatesTo ||
		!strings.HasPrefix(r.Header.MessageID, "uuid:") {
		t.Errorf("%s: got Action %q RelatesTo %q MessageID %q; want %q, %q, uuid:…",
			op, r.Header.Action, r.Header.RelatesTo, r.Header.MessageID, action, relatesTo)
	}
}

// TestFaultBodies checks the fault each protocol error gets: HTTP status,
// SOAP subcode and the WSManFault code.
func TestFaultBodies(t *testing.T) {
	p := winrm.DefaultParameters
	cases := []struct {
		name    string
		cfg     Config
		body    func(url string) string
		status  int
		subcode string
		code    string
	}{
		{name: "unknown shell",
			body: func(u string) string {
				return winrm.NewDeleteShellRequest(u, "0C2F1F43-6C4B-4C19-8F0A-4C5C0E1C9B11", p).String()
			},
			status: 500, subcode: "w:InvalidSelectors", code: "2150858843"},
		{name: "shell quota", cfg: Config{MaxShellsPerUser: 1},
			body:   func(u string) string { return winrm.NewOpenShellRequest(u, p).String() },
			status: 500, subcode: "w:QuotaLimit", code: "2150859173"},
		{name: "other resource URI",
			body: func(u string) string {
				s := winrm.NewOpenShellRequest(u, p).String()
				return strings.Replace(s, resourceCmd,
					"http://schemas.microsoft.com/powershell/Microsoft.PowerShell", 1)
			},
			status: 500, subcode: "w:DestinationUnreachable", code: "2150858752"},
		{name: "unknown action",
			body: func(u string) string {
				s := winrm.NewOpenShellRequest(u, p).String()
				return strings.Replace(s, actionCreate,
					"http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", 1)
			},
			status: 500, subcode: "a:ActionNotSupported", code: "2150858753"},
		{name: "envelope over MaxEnvelopeSizekb", cfg: Config{MaxEnvelopeSizeKB: 1},
			body: func(u string) string {
				return winrm.NewExecuteCommandRequest(u, "X", strings.Repeat("a", 2000), nil,
					p).String()
			},
			status: 413, subcode: "w:EncodingLimit", code: "2150858823"},
		{name: "document type declaration",
			body: func(string) string {
				return `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>`
			},
			status: 400, subcode: "w:InvalidParameter", code: "2147942487"},
		{name: "injected fault", cfg: Config{Faults: NewFaults(Rule{Op: OpCreate,
			Kind: KindFault, Fault: FaultInternalError("The system cannot find the file. ")})},
			body:   func(u string) string { return winrm.NewOpenShellRequest(u, p).String() },
			status: 500, subcode: "w:InternalError", code: "2147942606"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.AllowUnencrypted = true
			lab := startLab(t, tc.cfg, false)
			if tc.name == "shell quota" {
				post(t, lab.url, winrm.NewOpenShellRequest(lab.url, p).String())
			}
			r := post(t, lab.url, tc.body(lab.url))
			f := r.Body.Fault
			if r.Status != tc.status || f.Subcode != tc.subcode ||
				f.Detail.WSManFault.Code != tc.code || r.ContentType != contentTypeSOAP {
				t.Errorf("got %d %s code %s (%q); want %d %s code %s, SOAP content type",
					r.Status, f.Subcode, f.Detail.WSManFault.Code, r.ContentType,
					tc.status, tc.subcode, tc.code)
			}
			if r.Header.Action != actionFault || f.Reason == "" ||
				f.Detail.WSManFault.Machine != "WIN-SIM" {
				t.Errorf("got Action %q, reason %q, machine %q; want the fault action, a reason"+
					" and WIN-SIM", r.Header.Action, f.Reason, f.Detail.WSManFault.Machine)
			}
		})
	}
}

// TestReceiveLongPoll checks the natural OperationTimeout: a Receive on a
// command with no output answers w:TimedOut with the code and the word
// clients look for, and a terminate signal ends the process.
func TestReceiveLongPoll(t *testing.T) {
	faults := NewFaults(Rule{Op: OpCommand, Kind: KindHang})
	lab := startLab(t, Config{AllowUnencrypted: true, Faults: faults}, false)
	p := *winrm.DefaultParameters
	p.Timeout = "PT0.5S"

	shellID := post(t, lab.url, winrm.NewOpenShellRequest(lab.url, &p).String()).Body.ShellID
	cmdID := post(t, lab.url, winrm.NewExecuteCommandRequest(lab.url, shellID, "sleep", nil,
		&p).String()).Body.CommandID
	r := post(t, lab.url, winrm.NewGetOutputRequest(lab.url, shellID, cmdID, "stdout stderr",
		&p).String())
	f := r.Body.Fault
	if r.Status != 500 || f.Subcode != "w:TimedOut" || f.Detail.WSManFault.Code != "2150858793" ||
		!strings.Contains(f.Reason, "OperationTimeout") {
		t.Fatalf("got %d %s %s %q; want 500 w:TimedOut 2150858793 naming OperationTimeout",
			r.Status, f.Subcode, f.Detail.WSManFault.Code, f.Reason)
	}

	c := lab.srv.shell(shellID).command(cmdID)
	post(t, lab.url, winrm.NewSignalRequest(lab.url, shellID, cmdID, &p).String())
	<-c.exited // the hung process ended on terminate; a hang here fails the test run
	r = post(t, lab.url, winrm.NewGetOutputRequest(lab.url, shellID, cmdID, "stdout stderr",
		&p).String())
	if r.Status != 500 || r.Body.Fault.Subcode != "w:InvalidParameter" {
		t.Errorf("receive after signal: got %d %s; want 500 w:InvalidParameter", r.Status,
			r.Body.Fault.Subcode)
	}
}

// TestDeleteEndsCommands checks that deleting a shell cancels what runs in it.
func TestDeleteEndsCommands(t *testing.T) {
	faults := NewFaults(Rule{Op: OpCommand, Kind: KindHang})
	lab := startLab(t, Config{AllowUnencrypted: true, Faults: faults}, false)
	p := winrm.DefaultParameters
	shellID := post(t, lab.url, winrm.NewOpenShellRequest(lab.url, p).String()).Body.ShellID
	cmdID := post(t, lab.url, winrm.NewExecuteCommandRequest(lab.url, shellID, "sleep", nil,
		p).String()).Body.CommandID
	c := lab.srv.shell(shellID).command(cmdID)
	post(t, lab.url, winrm.NewDeleteShellRequest(lab.url, shellID, p).String())
	<-c.exited
	if n := lab.srv.Shells(); n != 0 {
		t.Errorf("shells after delete: got %d; want 0", n)
	}
}

// TestReceiveFitsMaxEnvelopeSize checks that output is split so that every
// Receive response fits the client's MaxEnvelopeSize.
func TestReceiveFitsMaxEnvelopeSize(t *testing.T) {
	lab := startLab(t, Config{AllowUnencrypted: true}, false)
	for _, size := range []int{153600, 51200, 8192} {
		p := *winrm.DefaultParameters
		p.EnvelopeSize = size
		shellID := post(t, lab.url, winrm.NewOpenShellRequest(lab.url, &p).String()).Body.ShellID
		cmdID := post(t, lab.url, winrm.NewExecuteCommandRequest(lab.url, shellID,
			"big 400000", nil, &p).String()).Body.CommandID
		total := 0
		for range 200 {
			body := rawPost(t, lab.url, winrm.NewGetOutputRequest(lab.url, shellID, cmdID,
				"stdout stderr", &p).String())
			if len(body) > size {
				t.Fatalf("MaxEnvelopeSize %d: response of %d bytes", size, len(body))
			}
			var stdout bytes.Buffer
			done, _, err := winrm.ParseSlurpOutputErrResponse(string(body), &stdout, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			total += stdout.Len()
			if done {
				break
			}
		}
		if total != 400000 {
			t.Errorf("MaxEnvelopeSize %d: got %d bytes of output; want 400000", size, total)
		}
	}
}

func rawPost(t *testing.T, url, body string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentTypeSOAP)
	req.SetBasicAuth(testUser, testPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
