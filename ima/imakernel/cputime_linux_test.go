package imakernel_test

import (
	"runtime"
	"syscall"
	"time"
)

// threadCPU returns the calling thread's CPU time (user + system), a cost
// measure that other processes competing for the machine do not inflate.
// Callers lock the goroutine to its thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func lockThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}
