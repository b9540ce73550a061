package emulate

import (
	"errors"
	"fmt"
	"strings"
)

// ErrEmulation matches every error that means the emulation itself failed:
// the lab could not be reached, refused the credentials, timed out, or
// answered with a WS-Management fault. A harness maps these to the verdict
// "emulation error", never to "detection missed".
var ErrEmulation = errors.New("emulation error")

// Kinds of emulation failure. Each matches ErrEmulation too.
var (
	ErrAuth         = emulationKind("authentication failed")
	ErrUnreachable  = emulationKind("host unreachable")
	ErrDisconnected = emulationKind("connection lost")
	ErrTimeout      = emulationKind("timed out")
	ErrInterrupted  = emulationKind("interrupted")
	ErrTLS          = emulationKind("tls verification failed")
	ErrProtocol     = emulationKind("protocol error")
)

// kindError is a sentinel that also matches ErrEmulation.
type kindError struct{ msg string }

func emulationKind(msg string) error { return &kindError{msg} }

func (k *kindError) Error() string        { return k.msg }
func (k *kindError) Is(target error) bool { return target == ErrEmulation }

// WS-Management fault codes (the WSManFault Code attribute) that callers
// branch on. The values are Windows' own.
const (
	CodeAccessDenied      = 0x80070005 // 2147942405: the account is not allowed
	CodeOperationTimedOut = 0x80338029 // 2150858793: Receive held for OperationTimeout
	CodeShellNotFound     = 0x8033805B // 2150858843: the shell ID is unknown
	CodeShellQuota        = 0x803381A5 // 2150859173: too many shells for the user
)

// FaultError is a WS-Management fault: an HTTP error response (500, as
// Windows sends) whose body is a SOAP Fault. masterzen/winrm ignores these;
// the transport in this package returns them.
type FaultError struct {
	Host       string // inventory name of the host
	Op         string // WS-Management operation: Create, Command, Receive, Send, Signal, Delete
	HTTPStatus int
	Code       string // SOAP fault code, e.g. "s:Receiver"
	Subcode    string // e.g. "w:InternalError", "w:TimedOut"
	Reason     string
	WSManCode  uint32 // f:WSManFault/@Code; 0 when absent
	Machine    string // f:WSManFault/@Machine
	Message    string // f:WSManFault/f:Message text, provider faults included
}

// Error describes the fault. For a w:TimedOut fault it always mentions
// OperationTimeout: masterzen/winrm recognises a Receive that timed out by
// that word and polls again, which is the protocol's intent.
func (e *FaultError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wsman fault on %s %s (HTTP %d", e.Host, e.Op, e.HTTPStatus)
	if e.Subcode != "" {
		b.WriteString(", " + e.Subcode)
	} else if e.Code != "" {
		b.WriteString(", " + e.Code)
	}
	if e.WSManCode != 0 {
		fmt.Fprintf(&b, ", code %d", e.WSManCode)
	}
	b.WriteString(")")
	text := firstNonEmpty(e.Message, e.Reason)
	if text != "" {
		b.WriteString(": " + text)
	}
	if e.timedOut() && !strings.Contains(text, "OperationTimeout") {
		b.WriteString(" (OperationTimeout)")
	}
	return b.String()
}

// Is makes every fault match ErrEmulation; an access-denied fault matches
// ErrAuth and a w:TimedOut fault ErrTimeout.
func (e *FaultError) Is(target error) bool {
	switch target {
	case ErrEmulation:
		return true
	case ErrAuth:
		return e.WSManCode == CodeAccessDenied
	case ErrTimeout:
		return e.timedOut()
	}
	return false
}

func (e *FaultError) timedOut() bool {
	return e.WSManCode == CodeOperationTimedOut || localName(e.Subcode) == "TimedOut"
}

func localName(qname string) string {
	if i := strings.LastIndexByte(qname, ':'); i >= 0 {
		return qname[i+1:]
	}
	return qname
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
