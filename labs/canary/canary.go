// Command canary is the harmless payload svcharness scenarios install as a
// Windows service: it starts, connects to the lab sink, writes one line
// naming the run that installed it, and stops. It reads, changes and keeps
// nothing else, so a scenario can run the real service life cycle (create,
// start, services.exe child, network connection, stop, delete) without
// running anything harmful.
//
// Usage (as the service's ImagePath, or from a console):
//
//	canary.exe [--run ID] [--sink HOST:PORT]
//
// With no arguments it looks for the values Run and Sink (REG_SZ) under its
// service key's Parameters subkey; with neither, it starts, reports nothing
// and stops, as an ImagePath without room for arguments requires (Impacket's
// %systemroot%\<8 letters>.exe).
//
// The service glue (golang.org/x/sys/windows/svc) is built for Windows only;
// elsewhere the program runs the same report from a console, which is how the
// sink protocol is tested. Build it for the lab with
//
//	GOOS=windows GOARCH=amd64 go build -trimpath -ldflags="-s -w" -o bin/canary.exe ./labs/canary
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// dialTimeout bounds the connection to the sink and the write; a service
// must answer the SCM promptly, and a lab without a sink must not hang it.
const dialTimeout = 5 * time.Second

// maxField bounds what the canary writes for any one field.
const maxField = 128

// config is what one canary run reports and where.
type config struct {
	RunID   string
	Sink    string // host:port; "" reports nothing
	Service string // service name when run by the SCM
}

// parseArgs reads --run and --sink from the command line.
func parseArgs(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("canary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.RunID, "run", "", "run ID to report")
	fs.StringVar(&c.Sink, "sink", "", "host:port of the lab sink")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.Sink != "" {
		if _, _, err := net.SplitHostPort(c.Sink); err != nil {
			return config{}, fmt.Errorf("--sink %q: %w", c.Sink, err)
		}
	}
	return c, nil
}

// reportLine is the one line the sink receives.
func reportLine(c config, host string, pid int) string {
	return fmt.Sprintf("svcharness-canary run=%s host=%s service=%s pid=%d\n",
		field(c.RunID), field(host), field(c.Service), pid)
}

// field keeps a value on one line, without spaces, within maxField bytes.
func field(s string) string {
	if s == "" {
		return "-"
	}
	s = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, s)
	if len(s) > maxField {
		s = s[:maxField]
	}
	return s
}

// report connects to the sink and writes the report line. No sink is not an
// error: the canary then only starts and stops.
func report(ctx context.Context, c config) error {
	if c.Sink == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", c.Sink)
	if err != nil {
		return fmt.Errorf("connect to sink %s: %w", c.Sink, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetWriteDeadline(dl)
	}
	host, _ := os.Hostname()
	if _, err := io.WriteString(conn, reportLine(c, host, os.Getpid())); err != nil {
		return fmt.Errorf("write to sink %s: %w", c.Sink, err)
	}
	return nil
}

// runConsole is the canary started from a console rather than by the SCM.
func runConsole(args []string, stderr io.Writer) int {
	c, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "canary: %v\n", err)
		return 2
	}
	if err := report(context.Background(), c); err != nil {
		fmt.Fprintf(stderr, "canary: %v\n", err)
		return 1
	}
	return 0
}
