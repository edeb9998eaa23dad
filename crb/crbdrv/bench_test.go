package crbdrv_test

import (
	"crypto/sha256"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

func extendLoop(b *testing.B, tpm transport.TPM) {
	d := sha256.Sum256([]byte("bench"))
	cmd := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(16), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}},
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := cmd.Execute(tpm); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time of the process per op: less disturbed than wall time when
	// other processes load the machine.
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPCRExtend compares go-tpm's PCR_Extend directly on the simulator
// with the same command through ffa -> spmc -> TPM partition -> crb ->
// simulator, in one run.
func BenchmarkPCRExtend(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		sim, err := engine.OpenSimulator(engine.SimulatorOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer sim.Close()
		extendLoop(b, sim)
	})
	b.Run("chain", func(b *testing.B) {
		p, err := platform.New(platform.Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea()})
		if err != nil {
			b.Fatal(err)
		}
		extendLoop(b, chip)
	})
}

// BenchmarkPCRExtendInterleaved runs one direct and one chain PCR_Extend
// per iteration on the same simulator and reports both means and their
// ratio, in wall time and in this thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID, the goroutine locked to its thread), so that
// machine load affects both sides alike.
func BenchmarkPCRExtendInterleaved(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sim, err := engine.OpenSimulator(engine.SimulatorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	p, err := platform.New(platform.Config{Engine: sim})
	if err != nil {
		b.Fatal(err)
	}
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea()})
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("bench"))
	cmd := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(16), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}},
	}
	var direct, chain, directCPU, chainCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0, c0 := time.Now(), threadCPU()
		if _, err := cmd.Execute(sim); err != nil {
			b.Fatal(err)
		}
		t1, c1 := time.Now(), threadCPU()
		if _, err := cmd.Execute(chip); err != nil {
			b.Fatal(err)
		}
		t2, c2 := time.Now(), threadCPU()
		direct += t1.Sub(t0)
		chain += t2.Sub(t1)
		directCPU += c1 - c0
		chainCPU += c2 - c1
	}
	n := float64(b.N)
	b.ReportMetric(float64(direct.Nanoseconds())/n, "direct-ns/op")
	b.ReportMetric(float64(chain.Nanoseconds())/n, "chain-ns/op")
	b.ReportMetric(float64(chain)/float64(direct), "chain/direct")
	b.ReportMetric(float64(directCPU.Nanoseconds())/n, "direct-cpu-ns/op")
	b.ReportMetric(float64(chainCPU.Nanoseconds())/n, "chain-cpu-ns/op")
	b.ReportMetric(float64(chainCPU)/float64(directCPU), "chain/direct-cpu")
}

// threadCPU returns the calling thread's CPU time.
func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
