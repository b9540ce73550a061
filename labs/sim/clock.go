package sim

import (
	"sync"
	"time"
)

// Clock is the lab's time. It runs with the wall clock from its start and
// jumps forward when the model lets simulated time pass (a service start that
// times out after 30 seconds, the spacing between the events of one
// command), so scenarios see realistic gaps without waiting for them.
type Clock struct {
	mu      sync.Mutex
	start   time.Time
	wall    time.Time // wall time at start, for elapsed real time
	skipped time.Duration
	last    time.Time
}

// NewClock returns a clock reading start now.
func NewClock(start time.Time) *Clock {
	return &Clock{start: start.UTC(), wall: time.Now()}
}

// Now returns the current lab time, never earlier than a previous reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	t := c.start.Add(time.Since(c.wall) + c.skipped)
	if !t.After(c.last) {
		t = c.last.Add(100 * time.Nanosecond)
	}
	c.last = t
	return t
}

// Advance lets d of simulated time pass and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.skipped += d
	}
	return c.nowLocked()
}
