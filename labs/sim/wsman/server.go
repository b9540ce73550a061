package wsman

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/svcharness/svcharness/labs/sim"
)

// AuthMethod is a set of HTTP authentication schemes the endpoint accepts,
// as winrm/config/service/auth holds them.
type AuthMethod uint8

// The authentication schemes.
const (
	AuthBasic     AuthMethod = 1 << iota // Basic, for local accounts
	AuthNegotiate                        // Negotiate carrying raw NTLMSSP (NTLMv2 only)
)

// Defaults from winrm/config on Windows Server 2012 R2 and later.
const (
	DefaultMaxEnvelopeSizeKB = 500
	DefaultMaxTimeout        = 60 * time.Second
	DefaultMaxShellsPerUser  = 30
	DefaultIdleTimeout       = 2 * time.Hour
	defaultOutputBuffer      = 1 << 20
	defaultStdinBuffer       = 16 << 20
	maxHeaderBytes           = 64 << 10
)

// Config configures one endpoint.
type Config struct {
	// Commander runs the commands; required.
	Commander sim.Commander
	// User and Password are the one account the endpoint accepts. User may be
	// "name" or "DOMAIN\name". The password is never logged.
	User, Password string
	// ComputerName is the host's NetBIOS name, reported in NTLM challenges and
	// in the Machine attribute of faults. Defaults to "WIN-SIM".
	ComputerName string
	// Domain is the NetBIOS domain named in NTLM challenges. Defaults to the
	// domain part of User, else ComputerName.
	Domain string
	// Auth is the set of accepted schemes; zero means Basic and Negotiate.
	Auth AuthMethod
	// AllowUnencrypted lets plaintext SOAP through over HTTP, as the Windows
	// setting of that name does. Over HTTPS it does not matter.
	AllowUnencrypted bool
	// TLS, when set, makes the endpoint speak HTTPS with this configuration.
	TLS *tls.Config

	MaxEnvelopeSizeKB int           // request size limit; default 500
	MaxTimeout        time.Duration // cap on a request's OperationTimeout; default 60s
	MaxShellsPerUser  int           // default 30
	IdleTimeout       time.Duration // a shell unused this long is deleted; default 2h
	OutputBuffer      int           // unreceived output held per command; default 1 MiB
	StdinBuffer       int           // unread stdin held per command; default 16 MiB

	// Clock returns the current time for shell idle accounting; nil means
	// time.Now.
	Clock func() time.Time

	// Faults, when set, injects faults into requests; see Rule.
	Faults *Faults
	// Logger receives lifecycle and per-request debug logs; nil discards.
	Logger *slog.Logger
}

// Server is one WinRM endpoint. Create it with New, run it with Start or
// Serve, and stop it with Close.
type Server struct {
	cfg     Config
	user    string // account name without domain
	log     *slog.Logger
	http    *http.Server
	baseCtx context.Context
	stop    context.CancelFunc
	now     func() time.Time

	mu     sync.Mutex
	shells map[string]*shell
	url    string
}

// Log keys.
const (
	logKeyAddr   = "addr"
	logKeyOp     = "op"
	logKeyShell  = "shell"
	logKeyRemote = "remote"
	logKeyFault  = "fault"
	logKeyError  = "error"
)

// New validates cfg, fills in defaults, and returns a server ready to start.
func New(cfg Config) (*Server, error) {
	if cfg.Commander == nil {
		return nil, errors.New("new wsman server: no commander")
	}
	if cfg.User == "" || cfg.Password == "" {
		return nil, errors.New("new wsman server: user and password are required")
	}
	cfg = withDefaults(cfg)
	domain, name, ok := strings.Cut(cfg.User, `\`)
	if !ok {
		name = domain
	}
	s := &Server{cfg: cfg, user: name, log: cfg.Logger, shells: map[string]*shell{},
		now: cfg.Clock}
	s.baseCtx, s.stop = context.WithCancel(context.Background())
	s.http = &http.Server{
		Handler:           s,
		ConnContext:       withConnState,
		ReadHeaderTimeout: 30 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		TLSConfig:         cfg.TLS,
		// WinRM speaks HTTP/1.1; a non-nil empty map keeps net/http from
		// offering h2, where per-connection NTLM and hijacking do not apply.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.ComputerName == "" {
		cfg.ComputerName = "WIN-SIM"
	}
	if cfg.Domain == "" {
		if d, _, ok := strings.Cut(cfg.User, `\`); ok {
			cfg.Domain = d
		} else {
			cfg.Domain = cfg.ComputerName
		}
	}
	if cfg.Auth == 0 {
		cfg.Auth = AuthBasic | AuthNegotiate
	}
	setDefault(&cfg.MaxEnvelopeSizeKB, DefaultMaxEnvelopeSizeKB)
	setDefault(&cfg.MaxTimeout, DefaultMaxTimeout)
	setDefault(&cfg.MaxShellsPerUser, DefaultMaxShellsPerUser)
	setDefault(&cfg.IdleTimeout, DefaultIdleTimeout)
	setDefault(&cfg.OutputBuffer, defaultOutputBuffer)
	setDefault(&cfg.StdinBuffer, defaultStdinBuffer)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return cfg
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Start listens on addr (host:port; port 0 picks one) and serves in the
// background. It returns the endpoint URL, http(s)://host:port/wsman.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	scheme := "http"
	if s.cfg.TLS != nil {
		scheme = "https"
	}
	url := scheme + "://" + ln.Addr().String() + "/wsman"
	s.mu.Lock()
	s.url = url
	s.mu.Unlock()
	go func() {
		if err := s.Serve(ln); err != nil {
			s.log.Error("wsman endpoint stopped", logKeyAddr, ln.Addr().String(), logKeyError, err)
		}
	}()
	s.log.Info("wsman endpoint listening", logKeyAddr, url)
	return url, nil
}

// Serve serves on ln until Close, speaking HTTPS when Config.TLS is set.
func (s *Server) Serve(ln net.Listener) error {
	var err error
	if s.cfg.TLS != nil {
		err = s.http.ServeTLS(ln, "", "")
	} else {
		err = s.http.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// URL returns the endpoint URL once Start has run.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the listener, closes every connection, and ends every running
// command.
func (s *Server) Close() error {
	s.stop()
	err := s.http.Close()
	s.mu.Lock()
	shells := s.shells
	s.shells = map[string]*shell{}
	s.mu.Unlock()
	for _, sh := range shells {
		sh.close()
	}
	return err
}

// Shells returns the number of open shells.
func (s *Server) Shells() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.shells)
}

// drain reads and discards what is left of a request body, bounded, so that
// the connection can be reused.
func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 1<<20))
}
