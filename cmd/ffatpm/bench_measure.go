package main

import (
	"runtime"
	"syscall"
	"time"
)

// benchSide is one side of a comparison: op runs one operation (i counts
// from 0 across the whole measurement).
type benchSide struct {
	name string
	op   func(i int) error
	// pid, when non-zero, is another process doing this side's work (a
	// server): its CPU time counts for the side when lock is false.
	pid int
}

// sideResult is what one side measured.
type sideResult struct {
	Name    string  `json:"name"`
	Ops     int     `json:"ops"`
	NsPerOp float64 `json:"ns_per_op"`
	OpsPerS float64 `json:"ops_per_s"`
	CPUNsOp float64 `json:"cpu_ns_per_op,omitempty"` // CPU time per op: this thread's (clock_gettime THREAD_CPUTIME), or for socket sides this process's plus the server's
	// ServerCPUNsOp is the server process's share of CPUNsOp (socket sides).
	ServerCPUNsOp float64 `json:"server_cpu_ns_per_op,omitempty"`
	AllocsOp      float64 `json:"allocs_per_op,omitempty"`
}

// processCPU returns the CPU time of this process (who = RUSAGE_SELF) or of
// its waited-for children (RUSAGE_CHILDREN).
func processCPU(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureSides runs every side for total operations, interleaved in blocks
// of block operations (side order alternating from block to block), so
// that load from other processes falls on every side alike. It runs on one
// locked OS thread so that thread CPU time is meaningful. A short warm-up
// per side comes first and is not counted.
func measureSides(sides []benchSide, total, block int) ([]sideResult, error) {
	return measureSidesOpt(sides, total, block, true)
}

// measureSidesOpt is measureSides; lock=false leaves the goroutine free to
// move between OS threads (for sides that wait on sockets: a locked
// thread makes every wake-up a thread hand-off) and counts as CPU time
// every thread of this process plus the side's server process (pid).
func measureSidesOpt(sides []benchSide, total, block int, lock bool) ([]sideResult, error) {
	if lock {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	if block < 1 {
		block = 1
	}
	if total < block {
		total = block
	}
	for _, s := range sides {
		for i := 0; i < min(block, 8); i++ {
			if err := s.op(i); err != nil {
				return nil, errorf("%s (warm-up): %v", s.name, err)
			}
		}
	}
	wall := make([]time.Duration, len(sides))
	cpu := make([]time.Duration, len(sides))
	srv := make([]time.Duration, len(sides))
	done := make([]int, len(sides))
	for b := 0; done[0] < total; b++ {
		n := min(block, total-done[0])
		for k := range sides {
			j := k
			if b%2 == 1 {
				j = len(sides) - 1 - k
			}
			s := sides[j]
			if !lock {
				// Process-wide CPU time counts the garbage collector's
				// background work too: start every block with a finished
				// collection, so no side pays for the garbage of the one
				// before it (P2's in-process side allocates, the socket
				// sides next to it would otherwise carry its collections).
				runtime.GC()
			}
			cpuNow := threadCPU
			srvNow := func() time.Duration { return 0 }
			if !lock {
				srvNow = func() time.Duration { return procCPU(s.pid) }
				if s.pid == 0 {
					srvNow = func() time.Duration { return 0 }
				}
				cpuNow = func() time.Duration { return procCPU(0) }
			}
			s0 := srvNow()
			c0, t0 := cpuNow(), time.Now()
			for i := 0; i < n; i++ {
				if err := s.op(done[j] + i); err != nil {
					return nil, errorf("%s: %v", s.name, err)
				}
			}
			wall[j] += time.Since(t0)
			cpu[j] += cpuNow() - c0
			srv[j] += srvNow() - s0
			done[j] += n
		}
	}
	out := make([]sideResult, len(sides))
	for j, s := range sides {
		out[j] = sideResult{Name: s.name, Ops: done[j],
			NsPerOp:       float64(wall[j].Nanoseconds()) / float64(done[j]),
			OpsPerS:       float64(done[j]) / wall[j].Seconds(),
			CPUNsOp:       float64((cpu[j] + srv[j]).Nanoseconds()) / float64(done[j]),
			ServerCPUNsOp: float64(srv[j].Nanoseconds()) / float64(done[j])}
	}
	return out, nil
}

// allocsPerOp counts heap allocations per call over n calls of op (after
// one warm-up call), like testing.AllocsPerRun.
func allocsPerOp(n int, op func() error) (float64, error) {
	if err := op(); err != nil {
		return 0, err
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for i := 0; i < n; i++ {
		if err := op(); err != nil {
			return 0, err
		}
	}
	runtime.ReadMemStats(&m1)
	// Integer division, as testing.AllocsPerRun: a stray allocation by the
	// runtime during n calls does not make a fraction per call.
	return float64((m1.Mallocs - m0.Mallocs) / uint64(n)), nil
}
