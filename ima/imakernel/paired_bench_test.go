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
// marshaling costs on this path.
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
			const block = 32
			b.ResetTimer()
			for done := 0; done < b.N; done += block {
				n := min(block, b.N-done)
				t0 := time.Now()
				for i := 0; i < n; i++ {
					binary.LittleEndian.PutUint64(data, uint64(done+i))
					if out, err := m.MeasureData("/usr/bin/file", data, nil, ima.TemplateIMANG, 10); err != nil || out != ima.Measured {
						b.Fatalf("measure: %v %v", out, err)
					}
				}
				t1 := time.Now()
				for i := 0; i < n; i++ {
					vals.Digests[0].Digest[0] = byte(i)
					if _, err := (tpm2.PCRExtend{PCRHandle: tpm2.AuthHandle{Handle: 16, Auth: tpm2.PasswordAuth(nil)}, Digests: vals}).Execute(eng); err != nil {
						b.Fatal(err)
					}
				}
				t2 := time.Now()
				for i := 0; i < n; i++ {
					ds[0].Digest[0] = byte(i)
					if err := rawBytes.Extend(16, ds); err != nil {
						b.Fatal(err)
					}
				}
				t3 := time.Now()
				tMeasure += t1.Sub(t0)
				tRaw += t2.Sub(t1)
				tBytes += t3.Sub(t2)
			}
			b.StopTimer()
			n := float64(b.N)
			b.ReportMetric(n/tMeasure.Seconds(), "measure/s")
			b.ReportMetric(n/tRaw.Seconds(), "raw-gotpm/s")
			b.ReportMetric(n/tBytes.Seconds(), "raw-bytes/s")
			b.ReportMetric(tRaw.Seconds()/tMeasure.Seconds(), "ratio")
			b.ReportMetric(float64(len(banks)), "banks")
		})
	}
}
