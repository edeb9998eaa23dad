package kernel_test

import (
	"testing"

	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
)

// benchBoot boots the default preset (the TPM registers at device level)
// on a fresh machine per iteration and reports boots/s.
func benchBoot(b *testing.B, newEngine func() any, quiet bool) {
	p, _ := kernel.LookupPreset(kernel.DefaultPreset)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		var cfg platform.Config
		switch e := newEngine().(type) {
		case *engine.Simulator:
			cfg.Engine = e
		case *kerneltest.FakeTPM:
			cfg.Engine = e
		}
		m, err := platform.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		pl, err := kerneltest.KernelPlatform(m)
		if err != nil {
			b.Fatal(err)
		}
		spec := p.Spec(pl)
		spec.Quiet = quiet
		res, err := kernel.Boot(spec)
		if err != nil || res.Chip == nil {
			b.Fatalf("boot: %v, chip %v", err, res.Chip)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "boots/s")
	reportCPU(b, start)
}

// BenchmarkBoot is the whole chain without IMA: kernel initcalls and
// driver core, arm_ffa over the SPMC model, tpm_crb over the CRB MMIO model
// and the DEN0138 partition, and the TPM core's startup commands executed
// by the go-tpm-tools simulator.
func BenchmarkBoot(b *testing.B) {
	sim, err := engine.OpenSimulator(engine.SimulatorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	b.Run("simulator", func(b *testing.B) { benchBoot(b, func() any { return sim }, false) })
	b.Run("simulator-quiet", func(b *testing.B) { benchBoot(b, func() any { return sim }, true) })
	b.Run("fake", func(b *testing.B) { benchBoot(b, func() any { return &kerneltest.FakeTPM{} }, false) })
	b.Run("fake-quiet", func(b *testing.B) { benchBoot(b, func() any { return &kerneltest.FakeTPM{} }, true) })
}

// BenchmarkBootFast is the model-only fast path the CLI's explore uses:
// the same kernel model on kerneltest.FastWorld (a minimal FF-A/CRB secure
// world and the fake TPM), with the log and events off.
func BenchmarkBootFast(b *testing.B) {
	p, _ := kernel.LookupPreset(kernel.DefaultPreset)
	b.ReportAllocs()
	start := cpuTime()
	w, pl := kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
	for b.Loop() {
		w.Reset()
		spec := p.Spec(pl)
		spec.Quiet = true
		res, err := kernel.Boot(spec)
		if err != nil || res.Chip == nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "boots/s")
	reportCPU(b, start)
}

// BenchmarkBootFastParallel runs the fast path on every core (one
// FastWorld per goroutine), as explore's workers would.
func BenchmarkBootFastParallel(b *testing.B) {
	p, _ := kernel.LookupPreset(kernel.DefaultPreset)
	b.ReportAllocs()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		w, pl := kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
		for pb.Next() {
			w.Reset()
			spec := p.Spec(pl)
			spec.Quiet = true
			res, err := kernel.Boot(spec)
			if err != nil || res.Chip == nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "boots/s")
	reportCPU(b, start)
}
