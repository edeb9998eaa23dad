//go:build linux

package main

import (
	"syscall"
	"time"
	"unsafe"
)

// clockThreadCPUTimeID is Linux's CLOCK_THREAD_CPUTIME_ID.
const clockThreadCPUTimeID = 3

// threadCPU returns the calling OS thread's CPU time with nanosecond
// resolution (clock_gettime(CLOCK_THREAD_CPUTIME_ID)). The cgo simulator
// runs on the calling thread, so for in-process sides this is the work
// done, whatever the rest of the machine does. (getrusage(RUSAGE_THREAD)
// is not used: for a running thread it lags by up to a scheduler tick.)
func threadCPU() time.Duration {
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
