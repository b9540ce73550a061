package suite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// lockPoll is how often a waiting Acquire tries again.
const lockPoll = 50 * time.Millisecond

// Locks are exclusive locks on lab hosts, one lock file per host in a
// directory every parallel process shares. The operating system releases a
// lock when its process dies, so a killed process never wedges the others.
type Locks struct{ Dir string }

// Acquire locks every host of hosts, in name order so that two processes
// never wait on each other in a cycle, and returns the function that releases
// them. It waits until ctx ends.
func (l Locks) Acquire(ctx context.Context, hosts []string) (release func(), err error) {
	names := make([]string, 0, len(hosts))
	for _, h := range hosts {
		names = append(names, strings.ToUpper(h))
	}
	slices.Sort(names)
	names = slices.Compact(names)

	var held []*os.File
	release = func() {
		for _, f := range held {
			_ = unlockFile(f)
			_ = f.Close()
		}
	}
	for _, n := range names {
		f, err := l.lock(ctx, n)
		if err != nil {
			release()
			return nil, err
		}
		held = append(held, f)
	}
	return release, nil
}

func (l Locks) lock(ctx context.Context, host string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(l.Dir, host+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock host %s: %w", host, err)
	}
	for {
		err := tryLockFile(f)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, errLocked) {
			f.Close()
			return nil, fmt.Errorf("lock host %s: %w", host, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock host %s: %w", host, context.Cause(ctx))
		case <-time.After(lockPoll):
		}
	}
}

// errLocked is what tryLockFile returns when another holder has the lock.
var errLocked = errors.New("held by another process")
