package wsman

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/svcharness/svcharness/labs/sim"
)

// minEnvelope is the smallest MaxEnvelopeSize this server honours; below it
// no useful Receive response fits.
const minEnvelope = 8192

// envelopeOverhead is room left in a Receive response for everything but the
// base64 stream data.
const envelopeOverhead = 4096

// dispatch runs the operation a decoded request asks for.
func (s *Server) dispatch(x *exchange) {
	if !strings.EqualFold(strings.TrimSpace(x.req.Header.ResourceURI), resourceCmd) {
		s.fault(x, http.StatusInternalServerError, faultResourceNotFound())
		return
	}
	switch x.op {
	case OpCreate:
		s.create(x)
		return
	case "":
		s.fault(x, http.StatusInternalServerError, faultActionNotSupported(x.req.Header.Action))
		return
	}
	sh := s.shell(x.req.Header.selector("ShellId"))
	if sh == nil {
		s.fault(x, http.StatusInternalServerError,
			FaultShellNotFound(x.req.Header.selector("ShellId")))
		return
	}
	sh.touch(s.now())
	switch x.op {
	case OpCommand:
		s.command(x, sh)
	case OpReceive:
		s.receive(x, sh)
	case OpSend:
		s.send(x, sh)
	case OpSignal:
		s.signal(x, sh)
	case OpDelete:
		s.delete(x, sh)
	}
}

func (s *Server) shell(id string) *shell {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shells[strings.ToUpper(id)]
}

// create opens a shell unless the user is at the MaxShellsPerUser quota.
func (s *Server) create(x *exchange) {
	in, out := "stdin", "stdout stderr"
	if b := x.req.Body.Shell; b != nil {
		in, out = orDefault(b.InputStreams, in), orDefault(b.OutputStreams, out)
	}
	// TODO(codepage): WINRS_CODEPAGE (65001 from masterzen/winrm, 437 from
	// pywinrm) is not applied; output bytes pass through as the host model
	// writes them (UTF-8), which only matters for non-ASCII text.
	now := s.now()
	sh := &shell{id: newGUID(), owner: x.user, clientIP: clientIP(x.r),
		cmds: map[string]*command{}, lastActive: now}

	s.mu.Lock()
	s.reapIdleLocked(now)
	if n := s.shellsOfLocked(x.user); n >= s.cfg.MaxShellsPerUser {
		s.mu.Unlock()
		s.fault(x, http.StatusInternalServerError, FaultQuota(s.cfg.MaxShellsPerUser))
		return
	}
	s.shells[sh.id] = sh
	s.mu.Unlock()

	s.log.Debug("shell created", logKeyShell, sh.id, logKeyRemote, sh.clientIP)
	info := shellInfo{ID: sh.id, Owner: x.user, ClientIP: sh.clientIP,
		Address: s.endpointURL(x.r), InputStreams: in, OutputStreams: out,
		IdleTimeout: s.cfg.IdleTimeout}
	s.reply(x, func(b *bytes.Buffer) { writeCreateResponse(b, x.req.Header.MessageID, info) })
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

// reapIdleLocked deletes shells idle longer than IdleTimeout; s.mu is held.
func (s *Server) reapIdleLocked(now time.Time) {
	for id, sh := range s.shells {
		sh.mu.Lock()
		idle := now.Sub(sh.lastActive)
		sh.mu.Unlock()
		if idle > s.cfg.IdleTimeout {
			delete(s.shells, id)
			sh.close()
		}
	}
}

func (s *Server) shellsOfLocked(user string) int {
	n := 0
	for _, sh := range s.shells {
		if strings.EqualFold(sh.owner, user) {
			n++
		}
	}
	return n
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) endpointURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/wsman"
}

// command starts a process in the shell and answers with its CommandId.
func (s *Server) command(x *exchange, sh *shell) {
	cl := x.req.Body.CommandLine
	if cl == nil || strings.TrimSpace(cl.Command) == "" {
		s.fault(x, http.StatusInternalServerError, faultInvalidParameter("no command line"))
		return
	}
	var run sim.Commander = s.cfg.Commander
	if x.hang {
		run = hangCommander{}
	}
	c := sh.start(s, joinCommandLine(cl), run)
	s.reply(x, func(b *bytes.Buffer) { writeCommandResponse(b, x.req.Header.MessageID, c.id) })
}

// receive long-polls for output: it answers as soon as there is some, or
// with w:TimedOut when OperationTimeout passes first.
func (s *Server) receive(x *exchange, sh *shell) {
	rb := x.req.Body.Receive
	if rb == nil {
		s.fault(x, http.StatusInternalServerError, faultInvalidParameter("no Receive element"))
		return
	}
	id := strings.ToUpper(strings.TrimSpace(rb.DesiredStream.CommandID))
	c := sh.command(id)
	if c == nil {
		s.fault(x, http.StatusInternalServerError,
			faultInvalidParameter("no command with CommandId "+id))
		return
	}
	max := s.chunkSize(x.req.Header.MaxEnvelopeSize)
	ch, err := c.out.wait(x.r.Context(), max, s.receiveTimeout(x.req.Header.OperationTimeout))
	switch {
	case errors.Is(err, errWaitTimeout):
		s.fault(x, http.StatusInternalServerError, FaultTimedOut())
		return
	case err != nil:
		return // the client went away
	}
	s.reply(x, func(b *bytes.Buffer) {
		writeReceiveResponse(b, x.req.Header.MessageID, c.id, ch)
	})
}

// chunkSize is how many raw output bytes fit in one Receive response under
// the client's MaxEnvelopeSize, given base64's 4/3 growth.
func (s *Server) chunkSize(maxEnvelope string) int {
	n, err := strconv.Atoi(strings.TrimSpace(maxEnvelope))
	if err != nil || n > s.cfg.MaxEnvelopeSizeKB<<10 {
		n = s.cfg.MaxEnvelopeSizeKB << 10
	}
	n = max(n, minEnvelope)
	return (n - envelopeOverhead) / 4 * 3
}

// receiveTimeout is the request's OperationTimeout capped by MaxTimeout, less
// a margin so the fault reaches a client whose HTTP timeout equals it.
func (s *Server) receiveTimeout(op string) time.Duration {
	d, ok := parseDuration(op)
	if !ok || d <= 0 || d > s.cfg.MaxTimeout {
		d = s.cfg.MaxTimeout
	}
	return d - min(time.Second, d/10)
}

// send appends stdin data to a command.
func (s *Server) send(x *exchange, sh *shell) {
	sb := x.req.Body.Send
	if sb == nil {
		s.fault(x, http.StatusInternalServerError, faultInvalidParameter("no Send element"))
		return
	}
	for _, st := range sb.Streams {
		c := sh.command(strings.ToUpper(strings.TrimSpace(st.CommandID)))
		if c == nil {
			s.fault(x, http.StatusInternalServerError,
				faultInvalidParameter("no command with CommandId "+st.CommandID))
			return
		}
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
		if err != nil {
			s.fault(x, http.StatusInternalServerError, faultInvalidParameter("stdin is not base64"))
			return
		}
		end := st.End == "true" || st.End == "1"
		if err := c.in.send(data, end); err != nil {
			s.fault(x, http.StatusInternalServerError, FaultInternalError(err.Error()))
			return
		}
	}
	s.reply(x, func(b *bytes.Buffer) { writeSendResponse(b, x.req.Header.MessageID) })
}

// signal handles terminate and ctrl_c: the process is ended and the command
// forgotten.
func (s *Server) signal(x *exchange, sh *shell) {
	sg := x.req.Body.Signal
	if sg == nil {
		s.fault(x, http.StatusInternalServerError, faultInvalidParameter("no Signal element"))
		return
	}
	code := strings.TrimSpace(sg.Code)
	if code != signalTerminate && code != signalCtrlC {
		s.fault(x, http.StatusInternalServerError, faultInvalidParameter("signal "+code))
		return
	}
	id := strings.ToUpper(strings.TrimSpace(sg.CommandID))
	if !sh.removeCommand(id) {
		s.fault(x, http.StatusInternalServerError,
			faultInvalidParameter("no command with CommandId "+id))
		return
	}
	s.reply(x, func(b *bytes.Buffer) { writeSignalResponse(b, x.req.Header.MessageID) })
}

// delete closes the shell and ends its processes.
func (s *Server) delete(x *exchange, sh *shell) {
	s.mu.Lock()
	delete(s.shells, sh.id)
	s.mu.Unlock()
	sh.close()
	s.log.Debug("shell deleted", logKeyShell, sh.id)
	s.reply(x, func(b *bytes.Buffer) { writeDeleteResponse(b, x.req.Header.MessageID) })
}

// parseDuration parses the xs:duration forms clients send for
// OperationTimeout: PT60S, PT60.000S, PT1M30S, P0DT0H1M0S.
func parseDuration(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "P") {
		return 0, false
	}
	var d time.Duration
	inTime := false
	num := ""
	for _, r := range s[1:] {
		switch {
		case r == 'T':
			inTime = true
		case r >= '0' && r <= '9' || r == '.':
			num += string(r)
		default:
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v > 1e6 {
				return 0, false
			}
			unit, ok := durationUnit(r, inTime)
			if !ok {
				return 0, false
			}
			d += time.Duration(v * float64(unit))
			num = ""
		}
	}
	return d, num == ""
}

func durationUnit(r rune, inTime bool) (time.Duration, bool) {
	switch {
	case r == 'D' && !inTime:
		return 24 * time.Hour, true
	case r == 'H' && inTime:
		return time.Hour, true
	case r == 'M' && inTime:
		return time.Minute, true
	case r == 'S' && inTime:
		return time.Second, true
	}
	return 0, false
}
