package crbdrv

import (
	"sync/atomic"
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
	now atomic.Int64
}

// Now returns the virtual time.
func (c *VirtualClock) Now() time.Duration { return time.Duration(c.now.Load()) }

// Sleep advances the virtual time.
func (c *VirtualClock) Sleep(d time.Duration) { c.now.Add(int64(d)) }
