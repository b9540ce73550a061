// Package emulate runs scenario plans on lab hosts over WinRM.
//
// Client wraps github.com/masterzen/winrm for one host. Every call carries
// a context and a deadline, and its own transport returns what the library
// ignores: a WS-Management fault (HTTP 500 with a SOAP Fault) becomes a
// *FaultError with the fault code, subcode, WSManFault code and message; a
// 401 matches ErrAuth; a failed dial ErrUnreachable; a dropped connection
// ErrDisconnected; a deadline ErrTimeout; an interrupt ErrInterrupted. All
// of them match ErrEmulation, which a harness reports as an emulation
// error, never as a missed detection. After a timeout or an interrupt the
// remote command is still signalled and its shell deleted.
//
// Runner is what the harness drives: WinRM runs commands on the hosts of
// an inventory; DryRun records and prints every command and connects to
// nothing (svcharness run --dry-run).
//
//	r, err := emulate.NewWinRM(targets, emulate.Options{Logger: log})
//	res, err := r.Run(ctx, "WS01", scenarios.Cmd, "sc.exe query Spooler")
//	if errors.Is(err, emulate.ErrEmulation) { /* verdict: emulation error */ }
//
// Credentials are held by the transport alone and are never logged.
package emulate
