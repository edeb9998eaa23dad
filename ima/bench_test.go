package ima_test

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imatest"
)

// BenchmarkListAppend shows that appending stays O(1) as the list grows:
// the cost per append with 100k entries already present is compared with an
// empty list in the same run.
func BenchmarkListAppend(b *testing.B) {
	algs := []hashalg.Alg{hashalg.SHA1, hashalg.SHA256}
	entry := func(i int) ima.Entry {
		var k [8]byte
		binary.LittleEndian.PutUint64(k[:], uint64(i))
		return ima.Entry{PCR: 10, Template: ima.TemplateIMANG,
			Fields:  []ima.Field{{ID: ima.FieldDNG, Data: k[:]}, {ID: ima.FieldNNG, Data: []byte("/f\x00")}},
			Digests: [][]byte{hashalg.SHA1.Sum(k[:]), hashalg.SHA256.Sum(k[:])}}
	}
	for _, pre := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("prefill=%d", pre), func(b *testing.B) {
			l := ima.NewList(algs, "tpm")
			for i := 0; i < pre; i++ {
				if _, err := l.Append(entry(i), false); err != nil {
					b.Fatal(err)
				}
			}
			es := make([]ima.Entry, b.N)
			for i := range es {
				es[i] = entry(pre + i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := l.Append(es[i], false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// target is a TPM reached either directly (the simulator) or through the
// whole chain: FF-A conduit -> SPMC -> DEN0138 partition -> CRB -> simulator.
type target struct {
	name string
	open func(b *testing.B) transport.TPM
}

func targets() []target {
	return []target{
		{"sim", func(b *testing.B) transport.TPM { return imatest.Simulator(b) }},
		{"chain", func(b *testing.B) transport.TPM {
			p, err := platform.New(platform.Config{})
			require.NoError(b, err)
			b.Cleanup(func() { p.Close() })
			chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea()})
			require.NoError(b, err)
			return chip
		}},
	}
}

// BenchmarkMeasure is one file measurement end to end: policy-free
// MeasureData hashes the content, builds the ima-ng template, computes the
// template digest for every bank, appends to the list and extends PCR 10 in
// every allocated bank with one TPM2_PCR_Extend. BenchmarkRawPCRExtend
// below is the same extend alone; compare them in one run:
//
//	go test -run '^$' -bench 'Measure|RawPCRExtend' ./ima/
func BenchmarkMeasure(b *testing.B) {
	for _, tg := range targets() {
		for _, prebuilt := range []bool{false, true} {
			name := tg.name + "/gotpm"
			if prebuilt {
				name = tg.name + "/prebuilt"
			}
			b.Run(name, func(b *testing.B) {
				t := tg.open(b)
				rot, err := ima.NewTPM(t, ima.WithPrebuiltExtend(prebuilt))
				require.NoError(b, err)
				m, err := ima.Init(ima.Config{}, rot, ima.BootAggregateName, nil)
				require.NoError(b, err)
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
				b.ReportMetric(float64(len(rot.Banks())), "banks")
			})
		}
	}
}

// BenchmarkRawPCRExtend is TPM2_PCR_Extend of PCR 10 with a digest for
// every allocated bank and nothing else: through go-tpm's marshaling, and
// as prebuilt command bytes sent directly.
func BenchmarkRawPCRExtend(b *testing.B) {
	for _, tg := range targets() {
		b.Run(tg.name+"/gotpm", func(b *testing.B) { imatest.BenchExtendGoTPM(b, tg.open(b)) })
		b.Run(tg.name+"/bytes", func(b *testing.B) { imatest.BenchExtendBytes(b, tg.open(b)) })
	}
}
