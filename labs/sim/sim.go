// Package sim is the built-in simulated Windows lab: WinRM endpoints on
// loopback (labs/sim/wsman) in front of models of Windows hosts that react to
// the commands scenarios send and write the events real Windows with Sysmon
// would write.
//
// The simulator reacts to command lines only, as Windows does: it never
// imports scenarios or correlate and never shapes its events for the
// detection under test.
package sim

import (
	"context"
	"io"
)

// Session says who runs a command on a simulated host and from where.
type Session struct {
	User       string // DOMAIN\user as authenticated by the WinRM endpoint
	RemoteAddr string // client IP address
	ShellID    string
}

// Commander runs one command line on a simulated host, the way WinRS runs a
// command under winrshost.exe. It reads stdin until EOF if the command needs
// input, streams output to stdout and stderr, honours ctx (a terminate signal
// or a deleted shell cancels it), and returns the process exit code.
type Commander interface {
	RunCommand(ctx context.Context, s Session, cmdline string,
		stdin io.Reader, stdout, stderr io.Writer) (exitCode int)
}
