package spmc_test

import (
	"testing"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc"
)

var sinkFrame ffa.Frame

// BenchmarkDirectReq: normal world -> SPMC -> partition echo -> back, for
// each direct-request form, next to a baseline that only encodes the
// request, decodes it, calls the same handler and encodes the response
// (the work no SPMC can avoid), and the same request through ffa.Client.
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
				sinkFrame = out
			}
		})
	}
	b.Run("baseline-handler-only", func(b *testing.B) {
		var h spmc.Handler = echo{}
		req := ffa.DirectReq2{Src: 0, Dst: tpmID, UUID: tpmUUID, Args: [14]uint64{1, 2, 3}}.Encode()
		b.ReportAllocs()
		for b.Loop() {
			r, _ := ffa.DecodeDirectReq2(req)
			resp, _ := h.DirectReq2(spmc.Call{}, r)
			resp.Src, resp.Dst = r.Dst, r.Src
			sinkFrame = resp.Encode()
		}
	})
	b.Run("client-REQ2", func(b *testing.B) {
		s := newSPMC(b, nil)
		cl := ffa.NewClient(s.NormalWorld(), ffa.ClientConfig{})
		if _, err := cl.Version(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cl.DirectReq2(tpmID, tpmUUID, [14]uint64{1, 2, 3}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
