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
	user string       // DOMAIN\name as authenticated
	sec  *ntlmSession // set when the request was sealed: so is the answer
	op   Op
	hang bool // a hang fault applies: the command never finishes
}

// ServeHTTP runs the pipeline HTTP.sys and WinRM run: path and method,
// authentication, the size limit, unsealing or the AllowUnencrypted rule,
// decoding, then the operation.
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
	x := &exchange{w: w, r: r, user: user}
	body, ok := s.readBody(x)
	if !ok || !s.decode(x, body) || s.inject(x) {
		return
	}
	s.dispatch(x)
}

// readBody reads the request within MaxEnvelopeSizekb and returns the SOAP
// message: unsealed when the client sealed it, else plaintext if the
// transport allows it. It answers the request itself when it returns false.
func (s *Server) readBody(x *exchange) ([]byte, bool) {
	limit := int64(s.cfg.MaxEnvelopeSizeKB) << 10
	body, tooBig, err := readAllLimited(x.r.Body, limit)
	switch {
	case err != nil:
		return nil, false // the client went away
	case tooBig:
		drain(x.r.Body)
		s.fault(x, http.StatusRequestEntityTooLarge, faultEnvelopeSize())
		return nil, false
	case len(body) == 0:
		// An empty authenticated POST sets up NTLM message security before
		// the first sealed message (pywinrm does this); Windows answers 200.
		x.w.Header().Set("Content-Length", "0")
		x.w.WriteHeader(http.StatusOK)
		return nil, false
	}
	ct := strings.ToLower(x.r.Header.Get("Content-Type"))
	if strings.HasPrefix(ct, "multipart/encrypted") {
		return s.unsealBody(x, body)
	}
	if x.r.TLS == nil && !s.cfg.AllowUnencrypted {
		s.log.Debug("plaintext request refused: AllowUnencrypted is false",
			logKeyRemote, x.r.RemoteAddr)
		s.unauthorized(x.w)
		return nil, false
	}
	return body, true
}

// unsealBody opens an MS-WSMV sealed message with the connection's NTLM
// context. Without a context (Basic, or NTLM that did not negotiate
// sealing) or with a bad signature the request is refused.
func (s *Server) unsealBody(x *exchange, body []byte) ([]byte, bool) {
	sec := connOf(x.r).session()
	if sec == nil || !strings.Contains(x.r.Header.Get("Content-Type"), sealedProtocol) {
		s.log.Debug("sealed request without an NTLM security context", logKeyRemote,
			x.r.RemoteAddr)
		s.unauthorized(x.w)
		return nil, false
	}
	msg, err := sec.openSealedBody(body)
	if err != nil {
		s.log.Debug("sealed request refused", logKeyRemote, x.r.RemoteAddr, logKeyError, err)
		x.w.Header().Set("Content-Length", "0")
		x.w.WriteHeader(http.StatusBadRequest)
		return nil, false
	}
	x.sec = sec
	return msg, true
}

// decode parses the envelope into x, answering a fault when it cannot.
func (s *Server) decode(x *exchange, body []byte) bool {
	req, err := decodeRequest(body)
	if err != nil {
		s.fault(x, http.StatusBadRequest, faultInvalidParameter(err.Error()))
		return false
	}
	x.req = req
	x.op = opOf(req.Header.Action)
	return true
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
	s.write(x, http.StatusOK, b)
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
	s.write(x, status, b)
	bufPool.Put(b)
}

// write sends a SOAP body, sealed if the request was. Every plaintext SOAP
// response carries the SOAP content type: masterzen/winrm rejects any
// response without it.
func (s *Server) write(x *exchange, status int, b *bytes.Buffer) {
	body, ct := b.Bytes(), contentTypeSOAP
	if x.sec != nil {
		body, ct = x.sec.sealBody(body), sealedContentType
	}
	h := x.w.Header()
	h["Content-Type"] = []string{ct}
	h["Server"] = []string{"Microsoft-HTTPAPI/2.0"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	x.w.WriteHeader(status)
	_, _ = x.w.Write(body)
}
