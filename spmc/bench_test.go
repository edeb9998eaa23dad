package spmc_test

import (
	"testing"

	"github.com/ffatpm/ffatpm/ffa"
)

// BenchmarkDirectReq: normal world -> SPMC -> partition echo -> back.
func BenchmarkDirectReq(b *testing.B) {
	for _, bc := range []struct {
		name string
		req  ffa.Frame
	}{
		{"REQ32", ffa.DirectReq{Src: 0, Dst: tpmID, Args: [5]uint64{1, 2, 3, 4, 5}}.Encode()},
		{"REQ64", ffa.DirectReq{Is64: true, Src: 0, Dst: tpmID, Args: [5]uint64{1, 2, 3, 4, 5}}.Encode()},
		{"REQ2", ffa.DirectReq2{Src: 0, Dst: tpmID, UUID: tpmUUID, Args: [14]uint64{1, 2, 3}}.Encode()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := newSPMC(b, nil)
			nw := s.NormalWorld()
			nw.Call(ffa.VersionReq{Version: ffa.Version1_2}.Encode())
			b.ReportAllocs()
			for b.Loop() {
				out := nw.Call(bc.req)
				if out[0] == uint64(ffa.FuncError) {
					b.Fatal(out)
				}
			}
		})
	}
}
