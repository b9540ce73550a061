package emulate

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/Azure/go-ntlmssp"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"
)

// maxResponse bounds one WS-Management response body. Clients ask for
// envelopes of 150 KiB; anything far larger is not a WinRM server talking.
const maxResponse = 4 << 20

// cleanupGrace is how long Signal and Delete may take after the caller's
// context has ended: they stop the remote command and free the shell, which
// must happen after a timeout or an interrupt too.
const cleanupGrace = 10 * time.Second

// transport is a winrm.Transporter for one call. masterzen/winrm's own
// transport ignores HTTP errors and takes no context; this one sends every
// request under the call's context and returns WS-Management faults, HTTP
// errors and network failures as typed errors.
type transport struct {
	ctx    context.Context
	host   string // inventory name, for errors and logs
	url    string
	user   string
	pass   string
	client *http.Client
	log    *slog.Logger
}

// Transport is a no-op: the HTTP client is built once per host by Client.
func (t *transport) Transport(*winrm.Endpoint) error { return nil }

// Post sends one SOAP message and returns the response body.
func (t *transport) Post(_ *winrm.Client, msg *soap.SoapMessage) (string, error) {
	body := msg.String()
	op := operation(body)
	ctx := t.ctx
	if op == "Signal" || op == "Delete" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(t.ctx), cleanupGrace)
		defer cancel()
	}
	start := time.Now()
	resp, err := t.do(ctx, body)
	if err != nil {
		return "", fmt.Errorf("wsman %s on %s: %w", op, t.host, classify(ctx, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	t.log.Debug("wsman exchange", logOp, op, logStatus, resp.StatusCode,
		logDuration, time.Since(start))
	if err != nil {
		return "", fmt.Errorf("wsman %s on %s: read response: %w", op, t.host, classify(ctx, err))
	}
	return t.check(op, resp, data)
}

func (t *transport) do(ctx context.Context, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.SetBasicAuth(t.user, t.pass)
	return t.client.Do(req)
}

// check turns a response into the body or a typed error.
func (t *transport) check(op string, resp *http.Response, data []byte) (string, error) {
	if len(data) > maxResponse {
		return "", fmt.Errorf("wsman %s on %s: response larger than %d bytes: %w",
			op, t.host, maxResponse, ErrProtocol)
	}
	soapType := strings.Contains(resp.Header.Get("Content-Type"), "application/soap+xml")
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return "", fmt.Errorf("wsman %s on %s: HTTP 401: %w", op, t.host, ErrAuth)
	case resp.StatusCode == http.StatusOK && soapType:
		return t.checkBody(op, string(data))
	case soapType && len(data) > 0:
		f, err := parseFault(data)
		if err == nil {
			f.Host, f.Op, f.HTTPStatus = t.host, op, resp.StatusCode
			return "", f
		}
		return "", fmt.Errorf("wsman %s on %s: HTTP %d with an unreadable fault (%v): %w",
			op, t.host, resp.StatusCode, err, ErrProtocol)
	}
	return "", fmt.Errorf("wsman %s on %s: HTTP %d, content type %q: %w", op, t.host,
		resp.StatusCode, resp.Header.Get("Content-Type"), ErrProtocol)
}

// checkBody catches what masterzen/winrm would silently accept: a Create
// response without a shell ID yields a shell with an empty ID.
func (t *transport) checkBody(op, body string) (string, error) {
	if op == "Create" {
		if id, err := winrm.ParseOpenShellResponse(body); err != nil || id == "" {
			return "", fmt.Errorf("wsman Create on %s: response holds no shell ID: %w",
				t.host, ErrProtocol)
		}
	}
	return body, nil
}

var actionRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`Action[^>]*>\s*([^<\s]+)\s*<`)
})

// operation names the WS-Management operation of a request: the last
// segment of its a:Action URI ("Create", "Command", "Receive", …).
func operation(body string) string {
	m := actionRe().FindStringSubmatch(body)
	if m == nil {
		return "request"
	}
	return m[1][strings.LastIndexByte(m[1], '/')+1:]
}

// classify wraps a transport failure in the sentinel that says what kind it
// is, keeping the original for the message.
func classify(ctx context.Context, err error) error {
	var (
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		recordErr  tls.RecordHeaderError
		opErr      *net.OpError
		dnsErr     *net.DNSError
		netTimeout interface{ Timeout() bool }
	)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("%w: %w", ErrInterrupted, err)
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr),
		errors.As(err, &recordErr):
		return fmt.Errorf("%w: %w", ErrTLS, err)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	case errors.As(err, &netTimeout) && netTimeout.Timeout():
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	return fmt.Errorf("%w: %w", ErrDisconnected, err)
}

// newHTTPClient builds the HTTP client of one host: TLS verified against the
// given CA (or the system roots) unless explicitly turned off, NTLM when
// asked for, and a response-header timeout a little longer than the
// WS-Management OperationTimeout, so a server that never answers is noticed.
func newHTTPClient(t Target, opTimeout time.Duration) (*http.Client, error) {
	tlsConf := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.TLSServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // explicit opt-in
	}
	if len(t.CACert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(t.CACert) {
			return nil, fmt.Errorf("read CA certificate of %s: no PEM certificate found", t.Name)
		}
		tlsConf.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	newTransport := func(idle, conns int) *http.Transport {
		return &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSClientConfig:       tlsConf,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: opTimeout + 30*time.Second,
			MaxIdleConnsPerHost:   idle,
			MaxConnsPerHost:       conns, // 0: no limit
			IdleConnTimeout:       90 * time.Second,
		}
	}
	if t.Auth != AuthNTLM {
		return &http.Client{Transport: newTransport(4, 0)}, nil
	}
	// The negotiator takes the credentials from the Basic header the
	// transport sets and answers the server's NTLM challenge with them. The
	// server ties the handshake to the TCP connection, so each request gets
	// a connection of its own for all its legs (see pinnedPool).
	return &http.Client{Transport: &pinnedPool{max: maxPinnedIdle,
		dial: func() *pinnedConn {
			tr := newTransport(1, 1)
			return &pinnedConn{rt: ntlmssp.Negotiator{RoundTripper: tr}, tr: tr}
		}}}, nil
}

// maxPinnedIdle is how many authenticated connections a host's client keeps
// for reuse; a streamed command needs two at once (Send and Receive).
const maxPinnedIdle = 4

// pinnedPool is an http.RoundTripper for connection-bound authentication
// (NTLM): every request borrows a transport that holds one connection and
// keeps it until the response body is closed, so the legs of a handshake
// cannot land on a connection another request is using. Concurrent
// requests (a streamed command's Send beside its Receive, scenarios on the
// same host) borrow different transports. Transports of authenticated
// connections return to the pool and skip the handshake next time.
type pinnedPool struct {
	max  int
	dial func() *pinnedConn

	mu   sync.Mutex
	idle []*pinnedConn
}

type pinnedConn struct {
	rt http.RoundTripper
	tr *http.Transport
}

func (p *pinnedPool) get() *pinnedConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return c
	}
	return p.dial()
}

func (p *pinnedPool) put(c *pinnedConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) >= p.max {
		c.tr.CloseIdleConnections()
		return
	}
	p.idle = append(p.idle, c)
}

// RoundTrip sends req on a borrowed connection, which returns to the pool
// when the response body is closed.
func (p *pinnedPool) RoundTrip(req *http.Request) (*http.Response, error) {
	c := p.get()
	res, err := c.rt.RoundTrip(req)
	if err != nil {
		c.tr.CloseIdleConnections()
		p.put(c)
		return nil, err
	}
	res.Body = &releasingBody{ReadCloser: res.Body, release: func() { p.put(c) }}
	return res, nil
}

// CloseIdleConnections closes the pooled connections.
func (p *pinnedPool) CloseIdleConnections() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.idle {
		c.tr.CloseIdleConnections()
	}
	p.idle = nil
}

// releasingBody calls release once, when the body is closed.
type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
