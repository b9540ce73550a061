package wsman

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// bareResponse is one fixed envelope that masterzen/winrm accepts as the
// answer to every operation: a ShellId selector for Create, the
// CommandResponse action and a CommandId for Command, output and Done with
// ExitCode for Receive. It is the reference: the least work a server can do.
const bareResponse = envelopeOpen + `<s:Header><a:Action>` + actionCommand +
	`Response</a:Action><a:MessageID>uuid:4D1D2E7C-7A44-4F0A-9C60-3B2B8E1E0F01</a:MessageID>` +
	`<a:To>` + addrAnonymous + `</a:To></s:Header><s:Body><x:ResourceCreated>` +
	`<a:ReferenceParameters><w:SelectorSet><w:Selector Name="ShellId">` +
	`5F0C1B8E-9E0B-4C57-8D7B-1B6A7C2D3E4F</w:Selector></w:SelectorSet></a:ReferenceParameters>` +
	`</x:ResourceCreated><rsp:CommandResponse><rsp:CommandId>` +
	`0E1F2A3B-4C5D-4E6F-8A9B-0C1D2E3F4A5B</rsp:CommandId></rsp:CommandResponse>` +
	`<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="0E1F2A3B-4C5D-4E6F-8A9B-` +
	`0C1D2E3F4A5B">aGkNCg==</rsp:Stream><rsp:CommandState CommandId="0E1F2A3B-4C5D-4E6F-` +
	`8A9B-0C1D2E3F4A5B" State="` + stateDone + `"><rsp:ExitCode>0</rsp:ExitCode>` +
	`</rsp:CommandState></rsp:ReceiveResponse></s:Body></s:Envelope>`

func bareHandler(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", contentTypeSOAP)
	_, _ = io.WriteString(w, bareResponse)
}

// BenchmarkCommandLoop runs the same command (Create, Command, Receive,
// Signal, Delete) through masterzen/winrm with Basic over HTTP against the
// simulator and against the bare reference handler, alternating per
// iteration so both see the same machine load, and reports both rates and
// their ratio.
func BenchmarkCommandLoop(b *testing.B) {
	sim := startLab(b, Config{AllowUnencrypted: true}, false)
	bare := httptest.NewServer(http.HandlerFunc(bareHandler))
	b.Cleanup(bare.Close)
	ref := &testLab{url: bare.URL + "/wsman"}
	simClient, refClient := sim.client(b, clientOpts{}), ref.client(b, clientOpts{})
	ctx := context.Background()

	var simTime, refTime time.Duration
	for b.Loop() {
		start := time.Now()
		out, _, code, err := simClient.RunCmdWithContext(ctx, "echo hi")
		simTime += time.Since(start)
		if err != nil || code != 0 || out != "hi\r\n" {
			b.Fatalf("simulator: got (%q, %d, %v)", out, code, err)
		}
		start = time.Now()
		out, _, code, err = refClient.RunCmdWithContext(ctx, "echo hi")
		refTime += time.Since(start)
		if err != nil || code != 0 || out != "hi\r\n" {
			b.Fatalf("bare handler: got (%q, %d, %v)", out, code, err)
		}
	}
	simRate := float64(b.N) / simTime.Seconds()
	refRate := float64(b.N) / refTime.Seconds()
	b.ReportMetric(simRate, "sim-cmds/s")
	b.ReportMetric(refRate, "bare-cmds/s")
	b.ReportMetric(simRate/refRate, "sim/bare")
}

// BenchmarkCommandLoopNTLM is the simulator's rate with NTLM, where each
// request first goes out anonymously and relies on the connection staying
// authenticated.
func BenchmarkCommandLoopNTLM(b *testing.B) {
	sim := startLab(b, Config{AllowUnencrypted: true}, false)
	c := sim.client(b, clientOpts{ntlm: true})
	ctx := context.Background()
	start := time.Now()
	for b.Loop() {
		if _, _, _, err := c.RunCmdWithContext(ctx, "echo hi"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "cmds/s")
}
