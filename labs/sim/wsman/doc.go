// Package wsman is the WinRM endpoint of a simulated Windows host: a
// WS-Management server for the Windows Remote Shell resource (the "cmd"
// shell) that real clients accept, masterzen/winrm and pywinrm among them.
//
// It implements Create, Command, Receive, Send, Signal and Delete, Basic and
// NTLMv2 authentication with the per-connection state HTTP.sys keeps, NTLM
// message sealing (MS-WSMV 2.2.9.1.1) for clients that encrypt over HTTP, the
// AllowUnencrypted rule, envelope and shell quotas, and the fault bodies real
// Windows returns. Every command runs through a [sim.Commander], so the host
// model decides what a command does; this package only carries bytes.
//
// Faults can be injected, from tests or from flags, to exercise a client's
// error paths: authentication failures, WS-Management faults on any
// operation, Receive timeouts, slow responses, dropped connections and
// commands that never finish.
//
// Usage:
//
//	srv, err := wsman.New(wsman.Config{
//		Commander: host, User: "lab\\admin", Password: pw,
//		Auth: wsman.AuthBasic | wsman.AuthNegotiate, AllowUnencrypted: true,
//	})
//	url, err := srv.Start("127.0.0.1:0") // http://127.0.0.1:PORT/wsman
//	defer srv.Close()
package wsman
