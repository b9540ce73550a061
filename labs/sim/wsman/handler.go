package wsman

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const contentTypeSOAP = "application/soap+xml;charset=UTF-8"

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// exchange is one request being served.
type exchange struct {
	w    http.ResponseWriter
	r    *http.Request
	req  *request
	user string // DOMAIN\name as authenticated
	op   Op
	hang bool // a hang fault applies: the command never finishes
}

// ServeHTTP runs the pipeline HTTP.sys and WinRM run: path and method,
// authentication, the AllowUnencrypted rule, the size limit, decoding, then
// the operation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/wsman" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	user, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !s.acceptsTransport(w, r) {
		return
	}
	x, ok := s.readRequest(w, r, user)
	if !ok {
		return
	}
	if s.inject(x) {
		return
	}
	s.dispatch(x)
}

// acceptsTransport enforces AllowUnencrypted: over plain HTTP, a SOAP body
// that is not sealed is refused with 401, as Windows does.
func (s *Server) acceptsTransport(w http.ResponseWriter, r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(strings.ToLower(ct), "multipart/encrypted") {
		// TODO(ntlm-sealing): MS-WSMV message encryption is not implemented,
		// so pywinrm's default message_encryption=auto over HTTP and
		// masterzen's NewEncryption transport cannot talk to the simulator.
		http.Error(w, "message encryption is not supported by this endpoint",
			http.StatusUnsupportedMediaType)
		return false
	}
	if r.TLS != nil || s.cfg.AllowUnencrypted {
		return true
	}
	s.log.Debug("plaintext request refused: AllowUnencrypted is false", logKeyRemote, r.RemoteAddr)
	drain(r.Body)
	s.unauthorized(w)
	return false
}

// readRequest reads and decodes the body within MaxEnvelopeSizekb.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request,
	user string) (*exchange, bool) {
	limit := int64(s.cfg.MaxEnvelopeSizeKB) << 10
	body, tooBig, err := readAllLimited(r.Body, limit)
	x := &exchange{w: w, r: r, user: user}
	switch {
	case err != nil:
		return nil, false // the client went away
	case tooBig:
		drain(r.Body)
		s.fault(x, http.StatusRequestEntityTooLarge, faultEnvelopeSize())
		return nil, false
	}
	req, err := decodeRequest(body)
	if err != nil {
		s.fault(x, http.StatusBadRequest, faultInvalidParameter(err.Error()))
		return nil, false
	}
	x.req = req
	x.op = opOf(req.Header.Action)
	return x, true
}

func opOf(action string) Op {
	switch strings.TrimSpace(action) {
	case actionCreate:
		return OpCreate
	case actionCommand:
		return OpCommand
	case actionReceive:
		return OpReceive
	case actionSend:
		return OpSend
	case actionSignal:
		return OpSignal
	case actionDelete:
		return OpDelete
	}
	return ""
}

// inject applies the fault rule matching the request, if any, and reports
// whether it answered the request.
func (s *Server) inject(x *exchange) bool {
	rule := s.cfg.Faults.take(x.op)
	if rule == nil {
		return false
	}
	if rule.Kind == KindHang {
		x.hang = true
		return false
	}
	s.log.Debug("injecting fault", logKeyOp, string(x.op), logKeyFault, string(rule.Kind))
	switch rule.Kind {
	case KindSlow:
		select {
		case <-time.After(rule.Delay):
		case <-x.r.Context().Done():
			return true
		}
		return false
	case KindAuth:
		s.unauthorized(x.w)
	case KindTimeout:
		s.fault(x, http.StatusInternalServerError, FaultTimedOut())
	case KindDrop:
		dropConnection(x.w)
	case KindFault:
		f := rule.Fault
		if f == nil {
			f = FaultAccessDenied()
		}
		s.fault(x, http.StatusInternalServerError, f)
	}
	return true
}

// dropConnection closes the TCP connection without a response, as a host
// that crashes or a middlebox that resets does.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// reply writes a 200 response built by build.
func (s *Server) reply(x *exchange, build func(b *bytes.Buffer)) {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	build(b)
	s.write(x.w, http.StatusOK, b)
	bufPool.Put(b)
}

// fault writes f with status; Windows uses 500 for WS-Management faults.
func (s *Server) fault(x *exchange, status int, f *Fault) {
	relates := ""
	if x.req != nil {
		relates = x.req.Header.MessageID
	}
	s.log.Debug("fault", logKeyOp, string(x.op), logKeyFault, f.Subcode)
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	writeFault(b, relates, s.cfg.ComputerName, f)
	s.write(x.w, status, b)
	bufPool.Put(b)
}

// write sends a SOAP body. Every SOAP response carries the SOAP content type:
// masterzen/winrm rejects any response without it.
func (s *Server) write(w http.ResponseWriter, status int, b *bytes.Buffer) {
	h := w.Header()
	h["Content-Type"] = []string{contentTypeSOAP}
	h["Server"] = []string{"Microsoft-HTTPAPI/2.0"}
	h["Content-Length"] = []string{strconv.Itoa(b.Len())}
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
