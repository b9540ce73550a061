package wsman

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Op names a WS-Management operation on the shell resource, for fault rules.
type Op string

// The operations a fault rule can target.
const (
	OpAny     Op = "any"
	OpCreate  Op = "create"
	OpCommand Op = "command"
	OpReceive Op = "receive"
	OpSend    Op = "send"
	OpSignal  Op = "signal"
	OpDelete  Op = "delete"
)

// FaultKind says what an injected fault does to a request.
type FaultKind string

// The kinds of injected fault.
const (
	// KindAuth answers 401, as for a rejected credential.
	KindAuth FaultKind = "auth"
	// KindFault answers HTTP 500 with Rule.Fault (access denied by default).
	KindFault FaultKind = "fault"
	// KindTimeout answers the w:TimedOut fault at once, as a Receive that
	// reached its OperationTimeout does.
	KindTimeout FaultKind = "timeout"
	// KindSlow waits Rule.Delay, then serves the request normally.
	KindSlow FaultKind = "slow"
	// KindDrop closes the TCP connection without answering.
	KindDrop FaultKind = "drop"
	// KindHang makes a Command start a process that never finishes until it
	// is signalled or its shell deleted. Only Command requests match it.
	KindHang FaultKind = "hang"
)

// Rule injects one kind of fault into requests for an operation.
type Rule struct {
	Op    Op        // the operation to match; OpAny matches all
	Kind  FaultKind // what to do
	Times int       // how many matching requests to affect; 0 means all
	Skip  int       // how many matching requests to let through first
	Delay time.Duration
	Fault *Fault // for KindFault; nil means FaultAccessDenied
}

// Faults is a deterministic, count-based list of fault rules, safe for
// concurrent use. The first rule that matches a request applies.
type Faults struct {
	mu    sync.Mutex
	rules []*ruleState
}

type ruleState struct {
	Rule
	seen, fired int
}

// NewFaults returns a rule list holding rules.
func NewFaults(rules ...Rule) *Faults {
	f := &Faults{}
	for _, r := range rules {
		f.Add(r)
	}
	return f
}

// Add appends a rule.
func (f *Faults) Add(r Rule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, &ruleState{Rule: r})
}

// Reset removes every rule.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Fired reports how many requests each rule has affected, in the order the
// rules were added.
func (f *Faults) Fired() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := make([]int, len(f.rules))
	for i, r := range f.rules {
		n[i] = r.fired
	}
	return n
}

// take returns the rule that applies to a request for op, counting it, or
// nil. A nil *Faults applies none.
func (f *Faults) take(op Op) *Rule {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.Op != OpAny && r.Op != op || r.Kind == KindHang && op != OpCommand {
			continue
		}
		if r.Times > 0 && r.fired >= r.Times {
			continue
		}
		r.seen++
		if r.seen <= r.Skip {
			continue
		}
		r.fired++
		rule := r.Rule
		return &rule
	}
	return nil
}

// namedFaults are the faults a rule spec may name after "fault=".
var namedFaults = map[string]func() *Fault{
	"access-denied":   FaultAccessDenied,
	"timeout":         FaultTimedOut,
	"shell-not-found": func() *Fault { return FaultShellNotFound(newGUID()) },
	"quota":           func() *Fault { return FaultQuota(30) },
	"internal": func() *Fault {
		return FaultInternalError("The filename or extension is too long. ")
	},
}

// ParseRule parses a rule from its flag form OP:KIND[=ARG][*TIMES][+SKIP]:
// "receive:timeout*3", "command:fault=internal", "any:slow=2s",
// "create:drop*1", "command:hang", "any:auth+4". ARG is a duration for slow
// and a fault name for fault (access-denied, internal, quota,
// shell-not-found, timeout).
func ParseRule(spec string) (Rule, error) {
	var r Rule
	rest, skip, ok := strings.Cut(spec, "+")
	if ok {
		n, err := strconv.Atoi(skip)
		if err != nil || n < 0 {
			return r, fmt.Errorf("parse fault rule %q: bad skip count %q", spec, skip)
		}
		r.Skip = n
	}
	rest, times, ok := strings.Cut(rest, "*")
	if ok {
		n, err := strconv.Atoi(times)
		if err != nil || n < 1 {
			return r, fmt.Errorf("parse fault rule %q: bad count %q", spec, times)
		}
		r.Times = n
	}
	op, kind, ok := strings.Cut(rest, ":")
	if !ok {
		return r, fmt.Errorf("parse fault rule %q: want OP:KIND", spec)
	}
	r.Op = Op(strings.ToLower(op))
	if !validOp(r.Op) {
		return r, fmt.Errorf("parse fault rule %q: unknown operation %q", spec, op)
	}
	kind, arg, _ := strings.Cut(kind, "=")
	r.Kind = FaultKind(strings.ToLower(kind))
	if err := r.setArg(arg); err != nil {
		return r, fmt.Errorf("parse fault rule %q: %w", spec, err)
	}
	return r, nil
}

func validOp(op Op) bool {
	switch op {
	case OpAny, OpCreate, OpCommand, OpReceive, OpSend, OpSignal, OpDelete:
		return true
	}
	return false
}

func (r *Rule) setArg(arg string) error {
	switch r.Kind {
	case KindSlow:
		d, err := time.ParseDuration(arg)
		if err != nil || d <= 0 {
			return fmt.Errorf("slow needs a positive duration, got %q", arg)
		}
		r.Delay = d
	case KindFault:
		if arg == "" {
			return nil
		}
		mk, ok := namedFaults[arg]
		if !ok {
			return fmt.Errorf("unknown fault %q", arg)
		}
		r.Fault = mk()
	case KindAuth, KindTimeout, KindDrop, KindHang:
		if arg != "" {
			return fmt.Errorf("%s takes no argument", r.Kind)
		}
	default:
		return fmt.Errorf("unknown fault kind %q", r.Kind)
	}
	return nil
}
