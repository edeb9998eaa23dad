//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// procCPU returns the CPU time of every thread of process pid (0: this
// process; -1 or a gone process: 0), summed from /proc/PID/task/*/schedstat
// (nanoseconds on CPU, precise for running threads too).
func procCPU(pid int) time.Duration {
	if pid < 0 {
		return 0
	}
	dir := "/proc/self/task"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid) + "/task"
	}
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		if ns, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			sum += time.Duration(ns)
		}
	}
	return sum
}
