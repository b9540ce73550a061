package wsman

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// output collects a command's stdout and stderr until a Receive takes them.
// It holds at most limit bytes: a command writing faster than the client
// receives blocks, as a process does on a full console pipe.
type output struct {
	mu       sync.Mutex
	stdout   []byte
	stderr   []byte
	done     bool
	exitCode int
	limit    int
	changed  chan struct{} // closed and replaced on every change
}

func newOutput(limit int) *output {
	return &output{limit: limit, changed: make(chan struct{})}
}

// notify wakes every waiter; the caller holds o.mu.
func (o *output) notify() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// write appends p to one stream, blocking while the buffer is full.
func (o *output) write(ctx context.Context, p []byte, stderr bool) (int, error) {
	total := 0
	for len(p) > 0 {
		o.mu.Lock()
		room := o.limit - len(o.stdout) - len(o.stderr)
		if room <= 0 {
			ch := o.changed
			o.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return total, ctx.Err()
			}
		}
		n := min(room, len(p))
		if stderr {
			o.stderr = append(o.stderr, p[:n]...)
		} else {
			o.stdout = append(o.stdout, p[:n]...)
		}
		o.notify()
		o.mu.Unlock()
		p, total = p[n:], total+n
	}
	return total, nil
}

func (o *output) finish(exitCode int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done, o.exitCode = true, exitCode
	o.notify()
}

// take removes up to max bytes of output. ok is false when there is nothing
// to report yet: no output and not finished.
func (o *output) take(max int) (c chunk, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := min(max, len(o.stdout))
	c.stdout, o.stdout = cut(o.stdout, n)
	n = min(max-n, len(o.stderr))
	c.stderr, o.stderr = cut(o.stderr, n)
	if len(c.stdout)+len(c.stderr) > 0 {
		o.notify() // room for a blocked writer
	}
	c.done = o.done && len(o.stdout) == 0 && len(o.stderr) == 0
	c.exitCode = o.exitCode
	return c, c.done || len(c.stdout)+len(c.stderr) > 0
}

// cut splits off the first n bytes, copying them so the buffer can be reused.
func cut(b []byte, n int) (head, rest []byte) {
	if n == 0 {
		return nil, b
	}
	head = append([]byte(nil), b[:n]...)
	rest = b[:copy(b, b[n:])]
	return head, rest
}

// errWaitTimeout reports that no output arrived within a Receive's timeout.
var errWaitTimeout = errors.New("operation timeout")

// wait blocks until output or completion is available, then takes it.
func (o *output) wait(ctx context.Context, max int, timeout time.Duration) (chunk, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		if c, ok := o.take(max); ok {
			return c, nil
		}
		o.mu.Lock()
		ch := o.changed
		o.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return chunk{}, errWaitTimeout
		case <-ctx.Done():
			return chunk{}, ctx.Err()
		}
	}
}

// streamWriter is the io.Writer a Commander sees for one output stream.
type streamWriter struct {
	ctx    context.Context
	out    *output
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	return w.out.write(w.ctx, p, w.stderr)
}

// input is a command's stdin: Send appends, the command reads, End closes.
// It holds at most limit bytes unread.
type input struct {
	mu      sync.Mutex
	buf     []byte
	eof     bool
	limit   int
	changed chan struct{}
	ctx     context.Context // the command's; reads end when it is cancelled
}

func newInput(ctx context.Context, limit int) *input {
	return &input{ctx: ctx, limit: limit, changed: make(chan struct{})}
}

// errStdinFull reports a Send the command has not made room for.
var errStdinFull = errors.New("stdin buffer full")

func (in *input) send(p []byte, end bool) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.buf)+len(p) > in.limit {
		return errStdinFull
	}
	in.buf = append(in.buf, p...)
	in.eof = in.eof || end
	close(in.changed)
	in.changed = make(chan struct{})
	return nil
}

func (in *input) Read(p []byte) (int, error) {
	for {
		in.mu.Lock()
		if len(in.buf) > 0 {
			n := copy(p, in.buf)
			// Advance rather than move the rest down: a large upload is
			// read in small pieces, and moving it each time is quadratic.
			in.buf = in.buf[n:]
			if len(in.buf) == 0 {
				in.buf = nil
			}
			in.mu.Unlock()
			return n, nil
		}
		if in.eof {
			in.mu.Unlock()
			return 0, io.EOF
		}
		ch := in.changed
		in.mu.Unlock()
		select {
		case <-ch:
		case <-in.ctx.Done():
			return 0, in.ctx.Err()
		}
	}
}
