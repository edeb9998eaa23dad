package crbdrv

import (
	"sync"
	"time"
)

// Clock is the driver's time source: ktime_get and usleep_range/msleep.
type Clock interface {
	Now() time.Duration
	Sleep(d time.Duration)
}

// VirtualClock is a deterministic Clock: Sleep advances Now by exactly d.
// The zero value starts at 0 and is ready to use.
type VirtualClock struct {
	mu  sync.Mutex
	now time.Duration
}

// Now returns the virtual time.
func (c *VirtualClock) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep advances the virtual time.
func (c *VirtualClock) Sleep(d time.Duration) {
	c.mu.Lock()
	c.now += d
	c.mu.Unlock()
}
