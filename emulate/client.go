package emulate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/masterzen/winrm"

	"github.com/svcharness/svcharness/scenarios"
)

// Log attribute keys used by this package.
const (
	logHost     = "host"
	logOp       = "op"
	logStatus   = "status"
	logDuration = "duration"
	logShell    = "shell"
	logExit     = "exit"
)

// Auth is how a client authenticates to a host's WinRM service.
type Auth string

// The supported authentication methods.
const (
	AuthBasic Auth = "basic"
	AuthNTLM  Auth = "ntlm"
)

// Target says how to reach one lab host. Password is never logged or
// printed: Target formats and logs itself without it.
type Target struct {
	Name               string // inventory host name
	Endpoint           string // http(s)://host:port/wsman
	Auth               Auth
	User               string // DOMAIN\user or user
	Password           string
	CACert             []byte // PEM; nil trusts the system roots
	TLSServerName      string
	InsecureSkipVerify bool // explicit opt-out of certificate verification
}

// String describes the target without its password.
func (t Target) String() string {
	return fmt.Sprintf("%s (%s, %s as %s)", t.Name, t.Endpoint, t.Auth, t.User)
}

// LogValue logs the target without its password.
func (t Target) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", t.Name), slog.String("endpoint", t.Endpoint),
		slog.String("auth", string(t.Auth)), slog.String("user", t.User))
}

// Options tune a Client. The zero value is usable.
type Options struct {
	Logger *slog.Logger
	// CallTimeout bounds a Run whose context has no deadline; 5m if zero.
	CallTimeout time.Duration
	// OperationTimeout is the WS-Management OperationTimeout, how long the
	// server may hold a Receive; 20s if zero.
	OperationTimeout time.Duration
	// MaxOutput bounds the stdout and stderr kept per command; 16 MiB if
	// zero. The rest is dropped and Result.Truncated set.
	MaxOutput int
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 5 * time.Minute
	}
	if o.OperationTimeout <= 0 {
		o.OperationTimeout = 20 * time.Second
	}
	if o.MaxOutput <= 0 {
		o.MaxOutput = 16 << 20
	}
	return o
}

// Result is what one command produced. Stderr is readable text: when the
// host serialized it as PowerShell CLIXML, as Windows PowerShell does for
// -EncodedCommand under WinRS, Stderr holds the decoded error text (see
// DecodeCLIXML) and RawStderr the stream as it arrived.
type Result struct {
	Stdout, Stderr string
	RawStderr      string // stderr as the host sent it
	ExitCode       int
	Truncated      bool // output beyond Options.MaxOutput was dropped
	Duration       time.Duration
	DryRun         bool // nothing ran; ExitCode means nothing
}

// Client runs commands on one host over WinRM (masterzen/winrm), with a
// deadline on every call and every failure typed (see ErrEmulation). It is
// safe for concurrent use; each Run opens and closes its own shell.
type Client struct {
	target Target
	opts   Options
	ep     *winrm.Endpoint
	http   *http.Client // shared by every call, so connections are reused
	log    *slog.Logger
}

// NewClient checks the target and prepares its HTTP client. It makes no
// network connection.
func NewClient(t Target, opts Options) (*Client, error) {
	opts = opts.withDefaults()
	ep, err := endpoint(t, opts)
	if err != nil {
		return nil, err
	}
	hc, err := newHTTPClient(t, opts.OperationTimeout)
	if err != nil {
		return nil, err
	}
	return &Client{target: t, opts: opts, ep: ep, http: hc,
		log: opts.Logger.With(logHost, t.Name)}, nil
}

// endpoint parses the target's URL into masterzen's Endpoint, which builds
// the a:To header of every request.
func endpoint(t Target, opts Options) (*winrm.Endpoint, error) {
	u, err := url.Parse(t.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("parse endpoint of %s: %q is not http(s)://host:port/wsman",
			t.Name, t.Endpoint)
	}
	if u.Path != "/wsman" {
		return nil, fmt.Errorf("parse endpoint of %s: path %q is not /wsman", t.Name, u.Path)
	}
	switch t.Auth {
	case AuthBasic, AuthNTLM:
	default:
		return nil, fmt.Errorf("client for %s: unsupported auth %q (want basic or ntlm)",
			t.Name, t.Auth)
	}
	https := u.Scheme == "https"
	port := 5985
	if https {
		port = 5986
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("parse endpoint of %s: bad port %q", t.Name, p)
		}
	}
	return winrm.NewEndpoint(u.Hostname(), port, https, t.InsecureSkipVerify, nil, nil, nil,
		opts.OperationTimeout+30*time.Second), nil
}

// Run runs one command line in the given shell and waits for it. The call
// is bounded by ctx, or by Options.CallTimeout when ctx has no deadline; a
// cancelled call still signals the remote command and deletes its shell.
// A non-zero exit code is not an error; a failure to run is, and matches
// ErrEmulation.
func (c *Client) Run(ctx context.Context, shell scenarios.Shell, line string) (Result, error) {
	return c.RunInput(ctx, shell, line, nil)
}

// RunInput is Run with stdin fed to the command (WS-Management Send
// requests of at most 32 KiB each, then end of stream); nil sends nothing.
func (c *Client) RunInput(ctx context.Context, shell scenarios.Shell, line string,
	stdin io.Reader) (Result, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.CallTimeout)
		defer cancel()
	}
	command, err := commandLine(shell, line)
	if err != nil {
		return Result{}, err
	}
	wc, err := c.winrmClient(ctx)
	if err != nil {
		return Result{}, err
	}

	start := time.Now()
	stdout := &cappedBuffer{max: c.opts.MaxOutput}
	stderr := &cappedBuffer{max: c.opts.MaxOutput}
	if stdin != nil {
		// Hide any WriterTo, so that io.Copy in masterzen/winrm writes (and
		// sends) 32 KiB at a time rather than the whole input at once.
		stdin = struct{ io.Reader }{stdin}
	}
	code, err := wc.RunWithContextWithInput(ctx, command, stdout, stderr, stdin)
	res := Result{Stdout: stdout.String(), RawStderr: stderr.String(), ExitCode: code,
		Truncated: stdout.dropped || stderr.dropped, Duration: time.Since(start)}
	res.Stderr, _ = DecodeCLIXML(res.RawStderr)
	c.log.Debug("command finished", logShell, string(shell), logExit, code,
		logDuration, res.Duration)
	if err != nil {
		return res, c.runError(ctx, err)
	}
	return res, nil
}

// runError types an error that reached us through masterzen/winrm, which
// may have replaced our transport's error with a context error or its own.
func (c *Client) runError(ctx context.Context, err error) error {
	if errors.Is(err, ErrEmulation) {
		return fmt.Errorf("run command on %s: %w", c.target.Name, err)
	}
	cause := ErrProtocol
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		cause = ErrTimeout
	case errors.Is(ctx.Err(), context.Canceled):
		cause = ErrInterrupted
	}
	return fmt.Errorf("run command on %s: %w: %w", c.target.Name, cause, err)
}

// winrmClient returns a masterzen client whose transport carries ctx.
func (c *Client) winrmClient(ctx context.Context) (*winrm.Client, error) {
	params := winrm.NewParameters(isoSeconds(c.opts.OperationTimeout), "en-US", 153600)
	params.TransportDecorator = func() winrm.Transporter {
		return &transport{ctx: ctx, host: c.target.Name, url: c.target.Endpoint,
			user: c.target.User, pass: c.target.Password, client: c.http, log: c.log}
	}
	// The credentials live in the transport only; masterzen gets none.
	wc, err := winrm.NewClientWithParameters(c.ep, "", "", params)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", c.target.Name, err)
	}
	return wc, nil
}

func isoSeconds(d time.Duration) string {
	return "PT" + strconv.Itoa(int(d.Round(time.Second)/time.Second)) + "S"
}

// commandLine turns a step into the WinRS command line: cmd lines as they
// are (WinRS runs them through cmd.exe), PowerShell as an encoded command.
func commandLine(shell scenarios.Shell, line string) (string, error) {
	switch shell {
	case scenarios.Cmd, "":
		return line, nil
	case scenarios.PowerShell:
		ps := winrm.Powershell(line)
		if ps == "" {
			return "", fmt.Errorf("encode powershell command: %w", ErrProtocol)
		}
		return ps, nil
	}
	return "", fmt.Errorf("run command: unknown shell %q", shell)
}

// cappedBuffer keeps at most max bytes and notes whether it dropped any.
type cappedBuffer struct {
	buf     bytes.Buffer
	max     int
	dropped bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.buf.Len()
	if room < len(p) {
		b.dropped = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *cappedBuffer) String() string { return b.buf.String() }
