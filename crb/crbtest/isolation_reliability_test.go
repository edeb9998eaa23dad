package crbtest_test

import (
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/crbtest"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOurPartitionKeepsItsMemoryPrivate(t *testing.T) {
	sim := openSim(t)
	crbtest.RunIsolation(t, crbtest.PlatformIsolationFactory(platform.Config{Engine: sim}))
}

// failedCases returns the case names (without the ABI prefix) that failed.
func failedCases(fails []crbtest.Failure) map[string]bool {
	m := map[string]bool{}
	for _, f := range fails {
		m[f.Case[strings.Index(f.Case, "/")+1:]] = true
	}
	return m
}

// leakyMMIO is a broken bus: the normal world's accesses to the private
// region go through with the secure view (a TZASC left open).
type leakyMMIO struct {
	ns, s      crbdrv.MMIO
	base, size uint64
}

func (l leakyMMIO) in(a uint64) bool { return a >= l.base && a < l.base+l.size }
func (l leakyMMIO) Read(a uint64, n int) (uint64, error) {
	if l.in(a) {
		return l.s.Read(a, n)
	}
	return l.ns.Read(a, n)
}
func (l leakyMMIO) Write(a uint64, n int, v uint64) error {
	if l.in(a) {
		return l.s.Write(a, n, v)
	}
	return l.ns.Write(a, n, v)
}

// deputy is a broken TPM partition: it follows RSP_ADDR wherever it points
// (writing a response there with its secure view) instead of checking it.
func deputy(p **platform.Platform) func(spmc.Handler) spmc.Handler {
	return func(inner spmc.Handler) spmc.Handler {
		follow := func(fn, q uint64) bool {
			pl := *p
			if crb.Func(uint32(fn)) != crb.FuncStart || crb.Qualifier(uint32(q)) != crb.QualifierCommand {
				return false
			}
			s := pl.Bus.Accessor(phys.Secure)
			rsp, err := s.Read(pl.CRBBase+uint64(crb.RegRspAddr), 8)
			if err != nil || (rsp >= pl.CRBBase && rsp < pl.CRBBase+crb.WindowSize) {
				return false
			}
			_ = s.WriteBytes(rsp, crb.ErrorResponse(0))
			return true
		}
		return spmc.HandlerFuncs{
			Req: func(c spmc.Call, req ffa.DirectReq) (ffa.DirectResp, error) {
				if follow(req.Args[1], req.Args[2]) {
					return ffa.DirectResp{Args: [5]uint64{0, uint64(crb.StatusOK)}}, nil
				}
				return inner.DirectReq(c, req)
			},
			Req2: func(c spmc.Call, req ffa.DirectReq2) (ffa.DirectResp2, error) {
				if follow(req.Args[0], req.Args[1]) {
					return ffa.DirectResp2{Args: [14]uint64{uint64(crb.StatusOK)}}, nil
				}
				return inner.DirectReq2(c, req)
			},
		}
	}
}

// mapAnything is a broken SPMC: FFA_RXTX_MAP succeeds whatever the memory.
type mapAnything struct{ inner ffa.Conduit }

func (m mapAnything) Call(f ffa.Frame) ffa.Frame {
	if f.Func() == ffa.FuncRxTxMap64 || f.Func() == ffa.FuncRxTxMap32 {
		return ffa.SuccessFrame()
	}
	return m.inner.Call(f)
}

// TestBrokenTargetsFailIsolation proves each isolation case can fail.
func TestBrokenTargetsFailIsolation(t *testing.T) {
	sim := openSim(t)
	good := crbtest.PlatformIsolationFactory(platform.Config{Engine: sim})
	t.Run("leaky bus", func(t *testing.T) {
		fails := failedCases(crbtest.CheckIsolation(func(tt crbtest.T) crbtest.IsolationTarget {
			tg := good(tt)
			tg.MMIO = leakyMMIO{ns: tg.MMIO, s: tg.Private[0].Secure, base: tg.Private[0].Base, size: tg.Private[0].Size}
			return tg
		}))
		assert.True(t, fails["private-memory-ns-access"], "%v", fails)
	})
	t.Run("partition follows RSP_ADDR", func(t *testing.T) {
		fails := failedCases(crbtest.CheckIsolation(func(tt crbtest.T) crbtest.IsolationTarget {
			var p *platform.Platform
			cfg := platform.Config{Engine: sim, Endpoints: []spmc.Endpoint{{ID: 0}, {ID: 1}}, WrapHandler: deputy(&p)}
			pl, err := platform.New(cfg)
			require.NoError(t, err)
			p = pl
			return crbtest.IsolationTarget{
				Target: crbtest.Target{Conduit: pl.Conduit(), MMIO: pl.NS(), CRBBase: pl.CRBBase, PartitionID: pl.PartitionID,
					ClosedLocality: -1, Close: func() { _ = pl.Close() }},
				Private: []crbtest.PrivateMemory{{Base: platform.DefaultSecureRAMBase, Size: platform.DefaultSecureRAMSize,
					Secure: pl.Bus.Accessor(phys.Secure)}},
			}
		}))
		assert.True(t, fails["crb-addresses-into-private-memory"], "%v", fails)
	})
	t.Run("SPMC maps anything", func(t *testing.T) {
		fails := failedCases(crbtest.CheckIsolation(func(tt crbtest.T) crbtest.IsolationTarget {
			tg := good(tt)
			tg.Conduit = mapAnything{tg.Conduit}
			return tg
		}))
		assert.True(t, fails["rxtx-in-private-memory"], "%v", fails)
	})
}
