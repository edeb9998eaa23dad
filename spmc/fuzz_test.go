package spmc_test

import (
	"encoding/binary"
	"testing"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/ffatpm/ffatpm/spmc/spmctest"
)

// fuzzFuncs biases the fuzzer towards the ABIs the SPMC serves; selector
// values past the list send the raw x0 from the input.
var fuzzFuncs = []ffa.FuncID{
	ffa.FuncVersion, ffa.FuncFeatures, ffa.FuncIDGet, ffa.FuncSpmIDGet, ffa.FuncRxTxMap64, ffa.FuncRxTxMap32,
	ffa.FuncRxTxUnmap, ffa.FuncRxRelease, ffa.FuncPartitionInfoGet, ffa.FuncPartitionInfoGetRegs,
	ffa.FuncMsgSendDirectReq, ffa.FuncMsgSendDirectReq64, ffa.FuncMsgSendDirectReq2,
	ffa.FuncMsgSendDirectResp, ffa.FuncMsgSendDirectResp2, ffa.FuncMsgWait, ffa.FuncRun, ffa.FuncMemShare64,
}

const stepSize = 1 + 8*8 // selector + x0(raw)..x7

// frames turns fuzz input into (endpoint, frame) steps.
func frames(b []byte) (eps []int, out []ffa.Frame) {
	for len(b) > 0 && len(out) < 64 {
		var step [stepSize]byte
		n := copy(step[:], b)
		b = b[n:]
		var f ffa.Frame
		for i := 0; i < 8; i++ {
			f[i] = binary.LittleEndian.Uint64(step[1+8*i:])
		}
		sel := int(step[0] & 0x7f)
		if sel < len(fuzzFuncs) {
			f[0] = uint64(fuzzFuncs[sel])
		}
		// keep addresses near the fixture's memory often enough to matter
		if step[0]&0x80 != 0 && (f.Func() == ffa.FuncRxTxMap64) {
			f[1] = spmctest.FixtureRAM + (f[1]%64)*0x800
			f[2] = spmctest.FixtureRAM + (f[2]%64)*0x800
			f[3] %= 4
		}
		eps = append(eps, int(step[0]>>7))
		out = append(out, f)
	}
	return eps, out
}

func seedSteps(steps ...ffa.Frame) []byte {
	var b []byte
	for _, f := range steps {
		sel := byte(0x7f)
		for i, id := range fuzzFuncs {
			if uint64(id) == f[0] {
				sel = byte(i)
			}
		}
		b = append(b, sel)
		for i := 0; i < 8; i++ {
			b = binary.LittleEndian.AppendUint64(b, f[i])
		}
	}
	return b
}

func validResult(in, out ffa.Frame) bool {
	if in.Func() == ffa.FuncVersion {
		return out.W(0) == ffa.VersionNotSupported || ffa.Version(out.W(0)).Valid()
	}
	switch out.Func() {
	case ffa.FuncError:
		st := ffa.Status(int32(out.W(2)))
		return st.Known() && out[1] == 0 && out[3] == 0 && out[4] == 0
	case ffa.FuncSuccess32, ffa.FuncSuccess64, ffa.FuncMsgSendDirectResp, ffa.FuncMsgSendDirectResp64, ffa.FuncMsgSendDirectResp2:
		return true
	}
	return false
}

// FuzzSPMCCall feeds sequences of arbitrary frames from two normal-world
// endpoints to the SPMC: no panic, every answer is a well-formed FF-A
// result, x8..x17 are preserved unless the ABI returns data there, and two
// fresh SPMCs answer the same sequence identically (determinism).
func FuzzSPMCCall(f *testing.F) {
	u := spmctest.UUIDEcho
	f.Add(seedSteps(
		ffa.VersionReq{Version: ffa.Version1_2}.Encode(),
		ffa.Frame{uint64(ffa.FuncIDGet)},
		ffa.FeaturesReq{ID: uint32(ffa.FuncRxTxMap64)}.Encode(),
		ffa.RxTxMapReq{TX: spmctest.FixtureRAM, RX: spmctest.FixtureRAM + 0x1000, PageCount: 1}.Encode(),
		ffa.PartitionInfoGetReq{Flags: 1}.Encode(),
		ffa.PartitionInfoGetReq{}.Encode(),
		ffa.RxReleaseReq{}.Encode(),
		ffa.PartitionInfoGetRegsReq{}.Encode(),
		ffa.DirectReq{Dst: 0x8001, Args: [5]uint64{1}}.Encode(),
		ffa.DirectReq2{Dst: 0x8001, UUID: u, Args: [14]uint64{1}}.Encode(),
		ffa.DirectReq{Dst: 0x8004, Args: [5]uint64{0x8005, 0x8004}}.Encode(),
		ffa.RxTxUnmapReq{}.Encode(),
	))
	f.Add(seedSteps(ffa.VersionReq{Version: ffa.Version1_0}.Encode(), ffa.PartitionInfoGetReq{Flags: 1}.Encode(),
		ffa.DirectReq2{Dst: 0x8001}.Encode(), ffa.VersionReq{Version: ffa.Version1_2}.Encode()))
	f.Add([]byte{0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		eps, steps := frames(b)
		run := func() []ffa.Frame {
			fx, err := spmctest.NewFixture(func(c *spmc.Config) { c.VersionPolicy = spmc.VersionPolicy(len(b) % 2) })
			if err != nil {
				t.Fatal(err)
			}
			fx.Unblock() // the blocker partition must never hold a fuzz run
			conduits := []ffa.Conduit{fx.NW, fx.OtherVM}
			outs := make([]ffa.Frame, len(steps))
			for i, in := range steps {
				for r := 8; r < 18; r++ {
					in[r] = uint64(r) << 56
				}
				out := conduits[eps[i]].Call(in)
				if !validResult(in, out) {
					t.Fatalf("step %d: %v -> %v", i, in, out)
				}
				high := out.Func() == ffa.FuncMsgSendDirectResp2 ||
					(out.Func() == ffa.FuncSuccess64 && in.Func() == ffa.FuncPartitionInfoGetRegs)
				if !high {
					for r := 8; r < 18; r++ {
						if out[r] != in[r] {
							t.Fatalf("step %d: x%d not preserved: %v -> %v", i, r, in, out)
						}
					}
				}
				outs[i] = out
			}
			return outs
		}
		a, b2 := run(), run()
		for i := range a {
			if a[i] != b2[i] {
				t.Fatalf("step %d not deterministic: %v vs %v", i, a[i], b2[i])
			}
		}
	})
}
