package emulate

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
)

// fakeWSMan is a minimal WinRM endpoint for tests: Basic authentication,
// one canned command result, and per-operation misbehaviour. Its responses
// follow what Windows sends (see ../shared/notes/winrm.md §2).
type fakeWSMan struct {
	t          testing.TB
	user, pass string
	stdout     string
	stderr     string
	exitCode   int
	fault      map[string]string // op -> fault file served with HTTP 500
	timeouts   int               // Receive answers w:TimedOut this many times first
	hang       string            // op whose request is held until the client gives up
	drop       string            // op whose connection is closed without an answer
	noShellID  bool
	mu         sync.Mutex
	calls      map[string]int
	commands   []string
	srv        *httptest.Server
}

func newFake(t testing.TB) *fakeWSMan {
	f := &fakeWSMan{t: t, user: `LAB\harness`, pass: "s3cret-Pa55!", stdout: "hello\r\n",
		fault: map[string]string{}, calls: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeWSMan) target() Target {
	return Target{Name: "WS01", Endpoint: f.srv.URL + "/wsman", Auth: AuthBasic,
		User: f.user, Password: f.pass}
}

func (f *fakeWSMan) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

var commandRe = regexp.MustCompile(`<rsp:Command><!\[CDATA\[(.*?)\]\]>`)

func (f *fakeWSMan) serve(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="WSMAN"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	op := operation(string(body))
	f.mu.Lock()
	f.calls[op]++
	n := f.calls[op]
	if m := commandRe.FindSubmatch(body); m != nil {
		f.commands = append(f.commands, string(m[1]))
	}
	f.mu.Unlock()

	switch {
	case op == f.hang:
		<-r.Context().Done()
		return
	case op == f.drop:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case f.fault[op] != "":
		f.reply(w, http.StatusInternalServerError, string(readFault(f.t, f.fault[op])))
		return
	case op == "Receive" && n <= f.timeouts:
		f.reply(w, http.StatusInternalServerError, string(readFault(f.t, "timed-out.xml")))
		return
	}
	f.reply(w, http.StatusOK, f.response(op))
}

func (f *fakeWSMan) reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

const (
	envOpen = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ` +
		`xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ` +
		`xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" ` +
		`xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" ` +
		`xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">` +
		`<s:Header><a:Action>%s</a:Action><a:MessageID>uuid:11111111-2222-3333-4444-555555555555` +
		`</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>` +
		`</s:Header><s:Body>`
	envClose  = `</s:Body></s:Envelope>`
	shellID   = "7B0A9E2C-1D3F-4E5A-8B6C-9D0E1F2A3B4C"
	commandID = "0F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0"
	shellNS   = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
)

func (f *fakeWSMan) response(op string) string {
	var action, body string
	switch op {
	case "Create":
		action = "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse"
		if !f.noShellID {
			body = `<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address>` +
				`<a:ReferenceParameters><w:SelectorSet><w:Selector Name="ShellId">` + shellID +
				`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
				`<rsp:Shell><rsp:ShellId>` + shellID + `</rsp:ShellId></rsp:Shell>`
		}
	case "Command":
		action = shellNS + "/CommandResponse"
		body = `<rsp:CommandResponse><rsp:CommandId>` + commandID +
			`</rsp:CommandId></rsp:CommandResponse>`
	case "Receive":
		action = shellNS + "/ReceiveResponse"
		body = fmt.Sprintf(`<rsp:ReceiveResponse>`+
			`<rsp:Stream Name="stdout" CommandId="%s">%s</rsp:Stream>`+
			`<rsp:Stream Name="stdout" CommandId="%[1]s" End="true"></rsp:Stream>`+
			`<rsp:Stream Name="stderr" CommandId="%[1]s">%[5]s</rsp:Stream>`+
			`<rsp:Stream Name="stderr" CommandId="%[1]s" End="true"></rsp:Stream>`+
			`<rsp:CommandState CommandId="%[1]s" State="%[3]s/CommandState/Done">`+
			`<rsp:ExitCode>%[4]d</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`,
			commandID, base64.StdEncoding.EncodeToString([]byte(f.stdout)), shellNS, f.exitCode,
			base64.StdEncoding.EncodeToString([]byte(f.stderr)))
	case "Signal":
		action = shellNS + "/SignalResponse"
		body = `<rsp:SignalResponse/>`
	case "Delete":
		action = "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse"
	default:
		f.t.Errorf("fake wsman: unexpected operation %q", op)
	}
	return fmt.Sprintf(envOpen, action) + body + envClose
}

func (f *fakeWSMan) lastCommand() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.commands) == 0 {
		return ""
	}
	return f.commands[len(f.commands)-1]
}
