package spmctest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/ffatpm/ffatpm/spmc/spmctest"
)

func TestOurSPMCHafnium(t *testing.T) {
	spmctest.Run(t, func() (*spmctest.Fixture, error) { return spmctest.NewFixture(nil) })
}

func TestOurSPMCEL3(t *testing.T) {
	spmctest.Run(t, func() (*spmctest.Fixture, error) {
		return spmctest.NewFixture(func(c *spmc.Config) { c.VersionPolicy = spmc.VersionEL3 })
	})
}

// broken wraps our SPMC's conduit with a fault.
func broken(fault func(inner ffa.Conduit, in ffa.Frame) ffa.Frame) spmctest.Factory {
	return func() (*spmctest.Fixture, error) {
		fx, err := spmctest.NewFixture(nil)
		if err != nil {
			return nil, err
		}
		inner := fx.NW
		fx.NW = ffa.ConduitFunc(func(in ffa.Frame) ffa.Frame { return fault(inner, in) })
		return fx, nil
	}
}

func failedCases(res []spmctest.Result) map[string]bool {
	out := map[string]bool{}
	for _, r := range res {
		if r.Failed() {
			out[r.Case.Name] = true
		}
	}
	return out
}

// The suite can fail: each deliberately broken SPMC is caught by the cases
// that check the rule it breaks, and the healthy one passes Check too.
func TestSuiteCatchesBrokenSPMCs(t *testing.T) {
	healthy := spmctest.Check(func() (*spmctest.Fixture, error) { return spmctest.NewFixture(nil) })
	require.Empty(t, failedCases(healthy), "our SPMC must pass under Check as under Run")

	cases := []struct {
		name  string
		fault func(inner ffa.Conduit, in ffa.Frame) ffa.Frame
		want  []string
	}{
		{"trusts-sender-id", func(inner ffa.Conduit, in ffa.Frame) ffa.Frame {
			// forwards direct requests as if sent by the caller: spoofing works
			if fn := in.Func(); fn == ffa.FuncMsgSendDirectReq || fn == ffa.FuncMsgSendDirectReq64 || fn == ffa.FuncMsgSendDirectReq2 {
				if _, dst := ffa.UnpackIDs(in.W(1)); dst != 0 {
					in[1] = uint64(ffa.PackIDs(0, dst)) | in[1]&^0xFFFF_FFFF
				}
			}
			return inner.Call(in)
		}, []string{"direct/spoofed-sender"}},
		{"release-always-succeeds", func(inner ffa.Conduit, in ffa.Frame) ffa.Frame {
			if in.Func() == ffa.FuncRxRelease {
				inner.Call(in)
				return ffa.SuccessFrame()
			}
			return inner.Call(in)
		}, []string{"rxtx/release-not-owned", "info/rx-full"}},
		{"ignores-version-bit31", func(inner ffa.Conduit, in ffa.Frame) ffa.Frame {
			if in.Func() == ffa.FuncVersion {
				in[1] &^= 1 << 31
			}
			return inner.Call(in)
		}, []string{"version/bit31"}},
		{"error-to-success", func(inner ffa.Conduit, in ffa.Frame) ffa.Frame {
			out := inner.Call(in)
			if out.Func() == ffa.FuncError {
				return ffa.SuccessFrame()
			}
			return out
		}, []string{"rxtx/secure-memory", "direct/to-spmc-spmd", "features/unknown", "info/unknown-uuid", "direct/not-receiver"}},
		{"clobbers-high-registers", func(inner ffa.Conduit, in ffa.Frame) ffa.Frame {
			out := inner.Call(in)
			out[9] = 0xdead
			return out
		}, []string{"registers/unused-zero-high-preserved"}},
		{"delivers-invalid-partition-responses", func(inner ffa.Conduit, in ffa.Frame) ffa.Frame {
			// pretends the responder's first, invalid answer was delivered
			if in.Func() == ffa.FuncMsgSendDirectReq {
				if _, dst := ffa.UnpackIDs(in.W(1)); dst == 0x8006 && in[3] != 0 {
					return ffa.DirectResp{Src: dst, Args: [5]uint64{0, in[3]}}.Encode()
				}
			}
			return inner.Call(in)
		}, []string{"direct/partition-response-rules"}},
		{"hides-busy", func(inner ffa.Conduit, in ffa.Frame) ffa.Frame {
			out := inner.Call(in)
			if out.Err() == ffa.ErrBusy {
				_, dst := ffa.UnpackIDs(in.W(1))
				return ffa.DirectResp{Src: dst}.Encode()
			}
			return out
		}, []string{"direct/busy-receiver"}},
		{"panics", func(inner ffa.Conduit, in ffa.Frame) ffa.Frame {
			if in.Func() == ffa.FuncSpmIDGet {
				panic("firmware crash")
			}
			return inner.Call(in)
		}, []string{"spm-id-get"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			failed := failedCases(spmctest.Check(broken(c.fault)))
			for _, w := range c.want {
				assert.True(t, failed[w], "case %s should fail against %s; failed: %v", w, c.name, failed)
			}
		})
	}
}

func TestCasesCiteRules(t *testing.T) {
	names := map[string]bool{}
	for _, c := range spmctest.Cases() {
		assert.False(t, names[c.Name], "duplicate case %s", c.Name)
		names[c.Name] = true
		assert.Contains(t, c.Rule, "DEN0077", c.Name)
		assert.NotNil(t, c.Run)
	}
	assert.GreaterOrEqual(t, len(names), 40)
}
