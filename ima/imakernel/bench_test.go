package imakernel_test

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/imakernel"
	"github.com/ffatpm/ffatpm/ima/imatest"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
)

// bootedChain boots v6.17 with IMA on the simulator and returns IMA's state
// and the kernel's TPM chip (a transport.TPM whose Send goes through the
// TPM core, tpm_crb, FF-A, the SPMC, the DEN0138 partition and the CRB),
// and the simulator itself.
func bootedChain(b *testing.B, prebuilt bool) (*ima.IMA, transport.TPM, transport.TPM) {
	p, err := platform.New(platform.Config{})
	require.NoError(b, err)
	b.Cleanup(func() { p.Close() })
	kp, err := kerneltest.KernelPlatform(p)
	require.NoError(b, err)
	pr, _ := kernel.LookupPreset("v6.17")
	spec := pr.Spec(kp)
	spec.Quiet = true
	var chip transport.TPM
	spec.Initcalls = append(spec.Initcalls, kernel.Initcall{Name: "bench_grab_chip", Level: kernel.LevelLateSync,
		Fn: func(k *kernel.Kernel) error {
			if c := k.DefaultChip(); c != nil {
				chip = c
			}
			return nil
		}})
	x := imakernel.New(imakernel.Options{GoTPMExtend: !prebuilt})
	x.Install(&spec)
	_, err = kernel.Boot(spec)
	require.NoError(b, err)
	require.NotNil(b, x.State())
	require.False(b, x.State().Bypass())
	require.NotNil(b, chip)
	return x.State(), chip, p.Engine
}

// BenchmarkMeasure is one file measurement end to end through the kernel
// model's chain (hash, template, list, one TPM2_PCR_Extend of every
// allocated bank through tpm_crb -> FF-A -> SPMC -> partition -> CRB ->
// simulator), next to the raw simulator PCR_Extend with the same banks:
//
//	go test -run '^$' -bench . -benchtime 3s ./ima/imakernel/
func BenchmarkMeasure(b *testing.B) {
	for _, mode := range []struct {
		name     string
		prebuilt bool
	}{{"kernel-chain/gotpm", false}, {"kernel-chain/prebuilt", true}} {
		b.Run(mode.name, func(b *testing.B) {
			m, _, _ := bootedChain(b, mode.prebuilt)
			data := make([]byte, 4096)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				binary.LittleEndian.PutUint64(data, uint64(i))
				out, err := m.MeasureData("/usr/bin/file", data, nil, ima.TemplateIMANG, 10)
				if err != nil || out != ima.Measured {
					b.Fatalf("measure %d: %v %v", i, out, err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "measurements/s")
		})
	}
	// The baseline: TPM2_PCR_Extend of PCR 10 with every bank, through
	// go-tpm, straight into the simulator (no FF-A, no CRB).
	b.Run("raw-simulator/gotpm", func(b *testing.B) {
		_, _, eng := bootedChain(b, false)
		imatest.BenchExtendGoTPM(b, eng)
	})
	// The same extend as prebuilt bytes straight into the simulator.
	b.Run("raw-simulator/bytes", func(b *testing.B) {
		_, _, eng := bootedChain(b, false)
		imatest.BenchExtendBytes(b, eng)
	})
	// The same extend through the kernel chain without IMA's work on top.
	b.Run("raw-kernel-chain/bytes", func(b *testing.B) {
		_, chip, _ := bootedChain(b, false)
		imatest.BenchExtendBytes(b, chip)
	})
}
