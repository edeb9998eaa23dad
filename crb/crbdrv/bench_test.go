package crbdrv_test

import (
	"crypto/sha256"
	"syscall"
	"testing"
	"time"

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
// ratio, so that machine load affects both sides alike.
func BenchmarkPCRExtendInterleaved(b *testing.B) {
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
	var direct, chain time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := cmd.Execute(sim); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := cmd.Execute(chip); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		direct += t1.Sub(t0)
		chain += t2.Sub(t1)
	}
	b.ReportMetric(float64(direct.Nanoseconds())/float64(b.N), "direct-ns/op")
	b.ReportMetric(float64(chain.Nanoseconds())/float64(b.N), "chain-ns/op")
	b.ReportMetric(float64(chain)/float64(direct), "chain/direct")
}
