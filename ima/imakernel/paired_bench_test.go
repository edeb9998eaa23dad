package imakernel_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// BenchmarkMeasureVsRaw interleaves, in blocks of 32, one file measurement
// end to end through the kernel chain and the raw simulator
// TPM2_PCR_Extend (go-tpm, same banks), so both see the same machine load.
// It reports each one's rate and the ratio measure/raw (the target is
// >= 0.9); also the raw extend as prebuilt bytes, to show what go-tpm's
// marshaling costs on this path. Wall-clock rates swing with the machine's
// load; the thread CPU times (the simulator runs on the calling thread
// through cgo) and ratio-cpu do not.
//
//	go test -run '^$' -bench MeasureVsRaw -benchtime 3000x ./ima/imakernel/
func BenchmarkMeasureVsRaw(b *testing.B) {
	for _, mode := range []struct {
		name     string
		prebuilt bool
	}{{"measure=prebuilt", true}, {"measure=gotpm", false}} {
		b.Run(mode.name, func(b *testing.B) {
			m, _, eng := bootedChain(b, mode.prebuilt)
			banks, err := ima.TPMBanks(eng)
			require.NoError(b, err)
			vals := tpm2.TPMLDigestValues{}
			for _, a := range banks {
				vals.Digests = append(vals.Digests, tpm2.TPMTHA{HashAlg: tpm2.TPMIAlgHash(a), Digest: make([]byte, a.Size())})
			}
			rawBytes, err := ima.NewTPM(eng, ima.WithPrebuiltExtend(true))
			require.NoError(b, err)
			ds := make([]hashalg.Digest, 0, len(banks))
			for _, a := range banks {
				ds = append(ds, hashalg.Digest{Alg: a, Digest: make([]byte, a.Size())})
			}
			data := make([]byte, 4096)
			var tMeasure, tRaw, tBytes time.Duration
			var cMeasure, cRaw, cBytes time.Duration // this thread's CPU time
			const block = 32
			defer lockThread()()
			b.ResetTimer()
			for done := 0; done < b.N; done += block {
				n := min(block, b.N-done)
				c0, t0 := threadCPU(), time.Now()
				for i := 0; i < n; i++ {
					binary.LittleEndian.PutUint64(data, uint64(done+i))
					if out, err := m.MeasureData("/usr/bin/file", data, nil, ima.TemplateIMANG, 10); err != nil || out != ima.Measured {
						b.Fatalf("measure: %v %v", out, err)
					}
				}
				c1, t1 := threadCPU(), time.Now()
				for i := 0; i < n; i++ {
					vals.Digests[0].Digest[0] = byte(i)
					if _, err := (tpm2.PCRExtend{PCRHandle: tpm2.AuthHandle{Handle: 16, Auth: tpm2.PasswordAuth(nil)}, Digests: vals}).Execute(eng); err != nil {
						b.Fatal(err)
					}
				}
				c2, t2 := threadCPU(), time.Now()
				for i := 0; i < n; i++ {
					ds[0].Digest[0] = byte(i)
					if err := rawBytes.Extend(16, ds); err != nil {
						b.Fatal(err)
					}
				}
				c3, t3 := threadCPU(), time.Now()
				tMeasure += t1.Sub(t0)
				tRaw += t2.Sub(t1)
				tBytes += t3.Sub(t2)
				cMeasure += c1 - c0
				cRaw += c2 - c1
				cBytes += c3 - c2
			}
			b.StopTimer()
			n := float64(b.N)
			b.ReportMetric(n/tMeasure.Seconds(), "measure/s")
			b.ReportMetric(n/tRaw.Seconds(), "raw-gotpm/s")
			b.ReportMetric(n/tBytes.Seconds(), "raw-bytes/s")
			b.ReportMetric(tRaw.Seconds()/tMeasure.Seconds(), "ratio")
			b.ReportMetric(float64(len(banks)), "banks")
			if cMeasure > 0 && cRaw > 0 && cBytes > 0 {
				b.ReportMetric(float64(cMeasure.Microseconds())/n, "measure-cpu-us")
				b.ReportMetric(float64(cRaw.Microseconds())/n, "raw-gotpm-cpu-us")
				b.ReportMetric(float64(cBytes.Microseconds())/n, "raw-bytes-cpu-us")
				b.ReportMetric(cRaw.Seconds()/cMeasure.Seconds(), "ratio-cpu")
			}
		})
	}
}
