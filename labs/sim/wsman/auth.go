package wsman

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
)

// connState is what HTTP.sys remembers about one TCP connection: an NTLM
// handshake in progress, or the user it authenticated.
type connState struct {
	mu    sync.Mutex
	nonce *[8]byte     // server challenge awaiting an AUTHENTICATE message
	user  string       // DOMAIN\name once NTLM succeeded on this connection
	sec   *ntlmSession // message security, when the client negotiated sealing
}

// session returns the connection's NTLM message security context, or nil.
func (c *connState) session() *ntlmSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sec
}

type connKey struct{}

// withConnState is the http.Server ConnContext hook: one state per
// connection, so NTLM's three legs and later requests share it.
func withConnState(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connState{})
}

func connOf(r *http.Request) *connState {
	if c, ok := r.Context().Value(connKey{}).(*connState); ok {
		return c
	}
	return &connState{} // a handler driven without Serve: no connection memory
}

// authenticate checks the request's credentials and answers 401 itself when
// they are missing, wrong, or mid-handshake. It returns the DOMAIN\name of the
// authenticated user.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	conn := connOf(r)
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(scheme, "Basic") && s.cfg.Auth&AuthBasic != 0:
		return s.basic(w, token)
	case (strings.EqualFold(scheme, "Negotiate") || strings.EqualFold(scheme, "NTLM")) &&
		s.cfg.Auth&AuthNegotiate != 0:
		return s.negotiate(w, r, conn, scheme, token)
	case scheme == "" && r.ContentLength != 0:
		// HTTP.sys keeps a connection authenticated after NTLM succeeds. An
		// empty POST is the exception: clients send one to set up a new
		// security context (masterzen/winrm's Encryption does, per message),
		// so it is challenged.
		conn.mu.Lock()
		user := conn.user
		conn.mu.Unlock()
		if user != "" {
			return user, true
		}
	}
	drain(r.Body)
	s.unauthorized(w)
	return "", false
}

// unauthorized answers 401 with the schemes the endpoint offers and no SOAP
// body, as Windows does.
func (s *Server) unauthorized(w http.ResponseWriter) {
	h := w.Header()
	if s.cfg.Auth&AuthNegotiate != 0 {
		h.Add("WWW-Authenticate", "Negotiate")
	}
	if s.cfg.Auth&AuthBasic != 0 {
		h.Add("WWW-Authenticate", `Basic realm="WSMAN"`)
	}
	h.Set("Server", "Microsoft-HTTPAPI/2.0")
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

func (s *Server) basic(w http.ResponseWriter, token string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	user, pass, ok := strings.Cut(string(raw), ":")
	if err != nil || !ok || !s.isUser(user) ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.Password)) != 1 {
		s.log.Debug("basic authentication failed")
		s.unauthorized(w)
		return "", false
	}
	return s.cfg.Domain + `\` + s.user, true
}

// isUser matches a user name as Windows does for a local account: case
// insensitive, bare or qualified by the domain, the computer name or ".".
func (s *Server) isUser(name string) bool {
	domain, user, ok := strings.Cut(name, `\`)
	if !ok {
		user, domain = name, ""
	}
	if at := strings.LastIndex(user, "@"); !ok && at >= 0 {
		user, domain = user[:at], user[at+1:]
	}
	return strings.EqualFold(user, s.user) && s.isDomain(domain)
}

func (s *Server) isDomain(d string) bool {
	return d == "" || d == "." || strings.EqualFold(d, s.cfg.Domain) ||
		strings.EqualFold(d, s.cfg.ComputerName) ||
		strings.EqualFold(strings.SplitN(d, ".", 2)[0], s.cfg.Domain)
}

// negotiate runs the server side of NTLM over the Negotiate (or NTLM)
// scheme: a NEGOTIATE_MESSAGE gets a challenge, an AUTHENTICATE_MESSAGE is
// verified against the configured password and marks the connection.
func (s *Server) negotiate(w http.ResponseWriter, r *http.Request, conn *connState,
	scheme, token string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(raw) > maxNTLMMessage {
		return s.rejectNegotiate(w, r, conn, "undecodable token")
	}
	typ, err := ntlmMessageType(raw)
	if err != nil {
		// SPNEGO (Kerberos) tokens start 0x60; only raw NTLMSSP is spoken here.
		return s.rejectNegotiate(w, r, conn, "not an NTLMSSP token")
	}
	switch typ {
	case ntlmNegotiate:
		s.challenge(w, r, conn, scheme, raw)
		return "", false
	case ntlmAuthenticate:
		return s.verify(w, r, conn, raw)
	}
	return s.rejectNegotiate(w, r, conn, "unexpected NTLM message")
}

func (s *Server) challenge(w http.ResponseWriter, r *http.Request, conn *connState,
	scheme string, negotiate []byte) {
	var clientFlags uint32
	if len(negotiate) >= 16 {
		clientFlags = uint32(negotiate[12]) | uint32(negotiate[13])<<8 |
			uint32(negotiate[14])<<16 | uint32(negotiate[15])<<24
	}
	target := ntlmTarget{Domain: strings.ToUpper(s.cfg.Domain),
		Computer:    strings.ToUpper(s.cfg.ComputerName),
		DNSDomain:   strings.ToLower(s.cfg.Domain) + ".lab",
		DNSComputer: strings.ToLower(s.cfg.ComputerName) + "." + strings.ToLower(s.cfg.Domain) + ".lab"}
	msg, nonce := newChallenge(clientFlags, target, s.now())
	conn.mu.Lock()
	conn.nonce, conn.user, conn.sec = &nonce, "", nil
	conn.mu.Unlock()

	drain(r.Body)
	h := w.Header()
	h.Set("WWW-Authenticate", scheme+" "+base64.StdEncoding.EncodeToString(msg))
	h.Set("Server", "Microsoft-HTTPAPI/2.0")
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request, conn *connState,
	raw []byte) (string, bool) {
	conn.mu.Lock()
	nonce := conn.nonce
	conn.nonce = nil // a challenge answers one AUTHENTICATE only
	conn.mu.Unlock()
	if nonce == nil {
		return s.rejectNegotiate(w, r, conn, "authenticate without challenge")
	}
	m, err := parseAuthenticate(raw)
	if err != nil {
		return s.rejectNegotiate(w, r, conn, err.Error())
	}
	if !s.isUser(m.Domain + `\` + m.User) {
		return s.rejectNegotiate(w, r, conn, "unknown user")
	}
	baseKey, err := verifyNTLMv2(m, s.cfg.Password, *nonce)
	if err != nil {
		return s.rejectNegotiate(w, r, conn, err.Error())
	}
	sec, err := newNTLMSession(m, baseKey)
	if err != nil {
		return s.rejectNegotiate(w, r, conn, err.Error())
	}
	user := s.cfg.Domain + `\` + s.user
	conn.mu.Lock()
	conn.user, conn.sec = user, sec
	conn.mu.Unlock()
	return user, true
}

func (s *Server) rejectNegotiate(w http.ResponseWriter, r *http.Request, conn *connState,
	why string) (string, bool) {
	conn.mu.Lock()
	conn.nonce, conn.user, conn.sec = nil, "", nil
	conn.mu.Unlock()
	s.log.Debug("ntlm authentication failed", "reason", why)
	drain(r.Body)
	s.unauthorized(w)
	return "", false
}
