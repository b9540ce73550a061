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
// Over a Runner, one scenario run is: CheckLabHost on every host a
// malicious scenario touches; HostClock on each host; Execute, which
// journals the plan's cleanup, uploads its payloads (Upload, verified by
// SHA-256), runs its steps until one fails, then always runs its cleanup on
// a context of its own and verifies it (Verify: services, keys and files
// gone, values restored), reporting every leftover on every host at once;
// and Collect, which reads each host's Security, System and Sysmon events
// since its clock reading, paged by record ID. Journal.Recover finishes the
// cleanup of runs that were killed.
//
//	r, err := emulate.NewWinRM(targets, emulate.Options{Logger: log})
//	res, err := r.Run(ctx, "WS01", scenarios.Cmd, "sc.exe query Spooler")
//	if errors.Is(err, emulate.ErrEmulation) { /* verdict: emulation error */ }
//
// Credentials are held by the transport alone and are never logged.
package emulate
