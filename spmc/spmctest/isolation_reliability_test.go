package spmctest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc/spmctest"
)

// TestIsolationCasesCatchTargetedBreaks: for each isolation rule of the
// reliability issue that this suite holds, an SPMC broken in exactly that
// rule fails the case (and the suite's other isolation cases still pass
// where the break does not reach them).
func TestIsolationCasesCatchTargetedBreaks(t *testing.T) {
	isDirect := func(fn ffa.FuncID) bool {
		return fn == ffa.FuncMsgSendDirectReq || fn == ffa.FuncMsgSendDirectReq64 || fn == ffa.FuncMsgSendDirectReq2
	}
	cases := []struct {
		name  string
		fault func(inner ffa.Conduit, in ffa.Frame) ffa.Frame
		want  []string
		keep  []string // isolation cases the break must not affect
	}{
		{"rxtx-map-anything", func(inner ffa.Conduit, in ffa.Frame) ffa.Frame {
			// maps RX/TX without checking security state, ownership or overlap
			if fn := in.Func(); fn == ffa.FuncRxTxMap64 || fn == ffa.FuncRxTxMap32 {
				return ffa.SuccessFrame()
			}
			return inner.Call(in)
		}, []string{"rxtx/secure-memory", "rxtx/overlap", "rxtx/other-endpoint-buffers"},
			[]string{"direct/spoofed-sender", "direct/to-spmc-spmd"}},
		{"delivers-to-spmc-and-spmd", func(inner ffa.Conduit, in ffa.Frame) ffa.Frame {
			// answers direct requests addressed to the SPMC or SPMD itself
			if isDirect(in.Func()) {
				src, dst := ffa.UnpackIDs(in.W(1))
				if dst == ffa.IDSPMD || dst == ffa.IDSPMCDefault {
					return ffa.DirectResp{Is64: in.Func() != ffa.FuncMsgSendDirectReq, Src: dst, Dst: src}.Encode()
				}
			}
			return inner.Call(in)
		}, []string{"direct/to-spmc-spmd"},
			[]string{"direct/spoofed-sender", "rxtx/secure-memory", "rxtx/other-endpoint-buffers"}},
		{"sender-from-w1", func(inner ffa.Conduit, in ffa.Frame) ffa.Frame {
			// believes the sender ID in w1 (a spoofed partition or VM ID passes)
			if isDirect(in.Func()) {
				src, dst := ffa.UnpackIDs(in.W(1))
				if src != 0 && src != dst {
					in[1] = uint64(ffa.PackIDs(0, dst)) | in[1]&^0xFFFF_FFFF
				}
			}
			return inner.Call(in)
		}, []string{"direct/spoofed-sender"},
			[]string{"direct/to-spmc-spmd", "rxtx/secure-memory"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			failed := failedCases(spmctest.Check(broken(c.fault)))
			for _, w := range c.want {
				assert.True(t, failed[w], "case %s should fail against %s; failed: %v", w, c.name, failed)
			}
			for _, k := range c.keep {
				assert.False(t, failed[k], "case %s should not be affected by %s", k, c.name)
			}
		})
	}
}
