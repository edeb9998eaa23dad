package spmctest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/ffa"
)

// TB is the part of testing.TB the suite uses; *testing.T satisfies it.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Case is one conformance check.
type Case struct {
	Name string
	Rule string // the DEN0077 rule it checks
	Run  func(e *Env)
}

// Env is what a case runs against.
type Env struct {
	T  TB
	Fx *Fixture
	// rule is prefixed to failure messages.
	rule    string
	factory Factory
}

// Call sends a frame from the normal-world endpoint under test.
func (e *Env) Call(f ffa.Frame) ffa.Frame { return e.Fx.NW.Call(f) }

func (e *Env) failf(format string, args ...any) {
	e.T.Helper()
	e.T.Errorf("[%s] %s", e.rule, fmt.Sprintf(format, args...))
}

func (e *Env) fatalf(format string, args ...any) {
	e.T.Helper()
	e.T.Fatalf("[%s] %s", e.rule, fmt.Sprintf(format, args...))
}

// WantStatus checks that out is FFA_ERROR with status st.
func (e *Env) WantStatus(out ffa.Frame, st ffa.Status, what string) {
	e.T.Helper()
	if out.Func() != ffa.FuncError || ffa.Status(int32(out.W(2))) != st {
		e.failf("%s: got %v, want FFA_ERROR %s", what, out, st)
	}
}

// WantSuccess checks that out is FFA_SUCCESS (32 or 64).
func (e *Env) WantSuccess(out ffa.Frame, what string) {
	e.T.Helper()
	if !out.IsSuccess() {
		e.failf("%s: got %v, want FFA_SUCCESS", what, out)
	}
}

// Negotiate calls FFA_VERSION(v) and requires a compatible answer.
func (e *Env) Negotiate(v ffa.Version) {
	e.T.Helper()
	out := e.Call(ffa.VersionReq{Version: v}.Encode())
	r, err := ffa.DecodeVersionResp(out)
	if err != nil || r.NotSupported || r.Version.Major() != v.Major() {
		e.fatalf("FFA_VERSION(%v): got %v", v, out)
	}
}

// MapRxTx maps TX at Fx.RAM and RX right after it, pages each.
func (e *Env) MapRxTx(pages uint32) (tx, rx uint64) {
	e.T.Helper()
	tx, rx = e.Fx.RAM, e.Fx.RAM+uint64(pages)*4096
	out := e.Call(ffa.RxTxMapReq{TX: tx, RX: rx, PageCount: pages}.Encode())
	if !out.IsSuccess() {
		e.fatalf("FFA_RXTX_MAP(%#x, %#x, %d): got %v", tx, rx, pages, out)
	}
	return tx, rx
}

func (e *Env) direct(src, dst ffa.ID, is64 bool, args [5]uint64) ffa.Frame {
	return e.Call(ffa.DirectReq{Is64: is64, Src: src, Dst: dst, Args: args}.Encode())
}

func (e *Env) req2(src, dst ffa.ID, u ffa.UUID, args [14]uint64) ffa.Frame {
	return e.Call(ffa.DirectReq2{Src: src, Dst: dst, UUID: u, Args: args}.Encode())
}

// Run executes every case as a subtest, each on a fresh fixture.
func Run(t *testing.T, factory Factory) {
	t.Helper()
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			fx, err := factory()
			if err != nil {
				t.Fatalf("factory: %v", err)
			}
			c.Run(&Env{T: t, Fx: fx, rule: c.Rule, factory: factory})
		})
	}
}

// Result is the outcome of one case under Check.
type Result struct {
	Case     Case
	Failures []string
}

// Failed reports whether the case failed.
func (r Result) Failed() bool { return len(r.Failures) > 0 }

type recorder struct{ failures []string }

type fatal struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(fatal{})
}

// Check runs every case against fresh fixtures with a recording TB and
// returns one Result per case. A panic in the SPMC under test is recorded
// as a failure of the case.
func Check(factory Factory) []Result {
	var out []Result
	for _, c := range Cases() {
		rec := &recorder{}
		func() {
			defer func() {
				if p := recover(); p != nil {
					if _, ok := p.(fatal); !ok {
						rec.Errorf("panic: %v", p)
					}
				}
			}()
			fx, err := factory()
			if err != nil {
				rec.Fatalf("factory: %v", err)
			}
			c.Run(&Env{T: rec, Fx: fx, rule: c.Rule, factory: factory})
		}()
		out = append(out, Result{Case: c, Failures: rec.failures})
	}
	return out
}

func status32(st ffa.Status) uint64 { return uint64(uint32(int32(st))) }

// Cases returns the conformance cases.
func Cases() []Case {
	return []Case{
		// ---- FFA_VERSION ----
		{"version/1.2", "DEN0077 FFA_VERSION: a compatible request returns the callee's version", func(e *Env) {
			out := e.Call(ffa.VersionReq{Version: ffa.Version1_2}.Encode())
			if out.W(0) != uint32(e.Fx.Version) {
				e.failf("VERSION(1.2): got w0=%#x, want %#x", out.W(0), uint32(e.Fx.Version))
			}
		}},
		{"version/older-compatible", "DEN0077 FFA_VERSION: an older compatible caller (1.0, 1.1) gets the callee's version", func(e *Env) {
			for _, v := range []ffa.Version{ffa.Version1_0, ffa.Version1_1} {
				fx, err := e.fresh()
				if err != nil {
					e.fatalf("factory: %v", err)
				}
				out := fx.NW.Call(ffa.VersionReq{Version: v}.Encode())
				if out.W(0) != uint32(e.Fx.Version) {
					e.failf("VERSION(%v): got w0=%#x, want %#x", v, out.W(0), uint32(e.Fx.Version))
				}
			}
		}},
		{"version/bit31", "DEN0077 FFA_VERSION: bit 31 of w1 must be zero, else NOT_SUPPORTED", func(e *Env) {
			out := e.Call(ffa.Frame{uint64(ffa.FuncVersion), 1<<31 | uint64(ffa.Version1_2)})
			if out.W(0) != ffa.VersionNotSupported {
				e.failf("VERSION(bit31|1.2): got %#x, want NOT_SUPPORTED", out.W(0))
			}
		}},
		{"version/incompatible-major", "DEN0077 FFA_VERSION: a different major version is NOT_SUPPORTED", func(e *Env) {
			for _, v := range []ffa.Version{ffa.MakeVersion(0, 9), ffa.MakeVersion(2, 0)} {
				out := e.Call(ffa.VersionReq{Version: v}.Encode())
				if out.W(0) != ffa.VersionNotSupported {
					e.failf("VERSION(%v): got %#x, want NOT_SUPPORTED", v, out.W(0))
				}
			}
		}},
		{"version/newer-minor", "DEN0077 FFA_VERSION: a minor above the callee's is NOT_SUPPORTED at an S-EL2 SPMC; an EL3 SPMC answers with its own version", func(e *Env) {
			v := ffa.MakeVersion(e.Fx.Version.Major(), e.Fx.Version.Minor()+1)
			out := e.Call(ffa.VersionReq{Version: v}.Encode())
			want := ffa.VersionNotSupported
			if e.Fx.EL3Version {
				want = uint32(e.Fx.Version)
			}
			if out.W(0) != want {
				e.failf("VERSION(%v): got %#x, want %#x", v, out.W(0), want)
			}
		}},
		{"version/locked-after-other-abis", "DEN0077 FFA_VERSION: the version cannot change once other ABIs were used (S-EL2: NOT_SUPPORTED; EL3: the locked version)", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantSuccess(e.Call(ffa.Frame{uint64(ffa.FuncIDGet)}), "ID_GET")
			out := e.Call(ffa.VersionReq{Version: ffa.Version1_1}.Encode())
			want := ffa.VersionNotSupported
			if e.Fx.EL3Version {
				want = uint32(ffa.Version1_2)
			}
			if out.W(0) != want {
				e.failf("VERSION(1.1) after ID_GET: got %#x, want %#x", out.W(0), want)
			}
			// v1.1 rules must not apply: REQ2 still works.
			if out := e.req2(e.Fx.NWID, e.Fx.Echo.ID, e.Fx.Echo.UUID, [14]uint64{1}); out.Func() != ffa.FuncMsgSendDirectResp2 {
				e.failf("REQ2 after refused downgrade: got %v", out)
			}
		}},

		// ---- FFA_FEATURES ----
		{"features/unknown", "DEN0077 FFA_FEATURES: unknown function or feature IDs are NOT_SUPPORTED", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			for _, id := range []uint32{0, 0x8400_0000, 0x0F_FFFF, 0xC400_00FF, 0x8400_0100} {
				e.WantStatus(e.Call(ffa.FeaturesReq{ID: id}.Encode()), ffa.ErrNotSupported, fmt.Sprintf("FEATURES(%#x)", id))
			}
		}},
		{"features/rxtx-map-32", "DEN0077 FFA_FEATURES: the 32-bit RXTX_MAP is not served at a 64-bit normal-world instance", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.FeaturesReq{ID: uint32(ffa.FuncRxTxMap32)}.Encode()), ffa.ErrNotSupported, "FEATURES(RXTX_MAP_32)")
		}},
		{"features/rxtx-map-64", "DEN0077 FFA_FEATURES(FFA_RXTX_MAP): w2[1:0] minimum buffer size, w2[31:16] maximum page count", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			out := e.Call(ffa.FeaturesReq{ID: uint32(ffa.FuncRxTxMap64)}.Encode())
			e.WantSuccess(out, "FEATURES(RXTX_MAP_64)")
			if code := out.W(2) & 3; code == 3 {
				e.failf("minimum buffer size code 3 is reserved")
			}
			if maxp := out.W(2) >> 16; maxp != 0 && maxp != e.Fx.MaxPages {
				e.failf("maximum page count %d, want %d", maxp, e.Fx.MaxPages)
			}
		}},
		{"features/served-abis", "DEN0077 FFA_FEATURES: every ABI the SPMC serves to a v1.2 caller reports SUCCESS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			for _, id := range []ffa.FuncID{ffa.FuncVersion, ffa.FuncFeatures, ffa.FuncIDGet, ffa.FuncSpmIDGet,
				ffa.FuncRxTxMap64, ffa.FuncRxTxUnmap, ffa.FuncRxRelease, ffa.FuncPartitionInfoGet,
				ffa.FuncPartitionInfoGetRegs, ffa.FuncMsgSendDirectReq, ffa.FuncMsgSendDirectReq64,
				ffa.FuncMsgSendDirectReq2} {
				e.WantSuccess(e.Call(ffa.FeaturesReq{ID: uint32(id)}.Encode()), "FEATURES("+id.String()+")")
			}
		}},
		{"features/v1.2-abis-hidden-from-v1.0", "DEN0077 FFA_FEATURES: ABIs introduced after the caller's version are not reported", func(e *Env) {
			e.Negotiate(ffa.Version1_0)
			for _, id := range []ffa.FuncID{ffa.FuncSpmIDGet, ffa.FuncPartitionInfoGetRegs, ffa.FuncMsgSendDirectReq2} {
				e.WantStatus(e.Call(ffa.FeaturesReq{ID: uint32(id)}.Encode()), ffa.ErrNotSupported, "FEATURES("+id.String()+") at v1.0")
			}
		}},
		{"id-get", "DEN0077 FFA_ID_GET: SUCCESS with the caller's ID in w2", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			out := e.Call(ffa.Frame{uint64(ffa.FuncIDGet)})
			e.WantSuccess(out, "ID_GET")
			if ffa.ID(out.W(2)) != e.Fx.NWID {
				e.failf("ID_GET: w2=%#x, want %v", out.W(2), e.Fx.NWID)
			}
		}},
		{"spm-id-get", "DEN0077 FFA_SPM_ID_GET: SUCCESS with the SPMC ID in w2", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			out := e.Call(ffa.Frame{uint64(ffa.FuncSpmIDGet)})
			e.WantSuccess(out, "SPM_ID_GET")
			if ffa.ID(out.W(2)) != e.Fx.SPMCID {
				e.failf("SPM_ID_GET: w2=%#x, want %v", out.W(2), e.Fx.SPMCID)
			}
		}},
		{"registers/unused-zero-high-preserved", "SMCCC v1.2 / DEN0077: unused result registers are zero; x8..x17 are preserved by ABIs that do not use them", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			in := ffa.Frame{uint64(ffa.FuncIDGet)}
			for i := 8; i < 18; i++ {
				in[i] = 0x1111_0000_0000_0000 | uint64(i)
			}
			out := e.Call(in)
			e.WantSuccess(out, "ID_GET")
			for _, i := range []int{1, 3, 4, 5, 6, 7} {
				if out[i] != 0 {
					e.failf("x%d = %#x, want 0", i, out[i])
				}
			}
			for i := 8; i < 18; i++ {
				if out[i] != in[i] {
					e.failf("x%d = %#x, want preserved %#x", i, out[i], in[i])
				}
			}
		}},
		{"unsupported-abi", "DEN0077: an ABI the instance does not implement returns NOT_SUPPORTED", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			for _, id := range []ffa.FuncID{0x8400_00FF, ffa.FuncRxTxMap32, ffa.FuncMsgPoll} {
				e.WantStatus(e.Call(ffa.Frame{uint64(id)}), ffa.ErrNotSupported, id.String())
			}
		}},

		// ---- RX/TX ----
		{"rxtx/unaligned", "DEN0077 FFA_RXTX_MAP: TX or RX not 4 KiB aligned -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			r := e.Fx.RAM
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: r + 0x10, RX: r + 0x2000, PageCount: 1}.Encode()), ffa.ErrInvalidParameters, "unaligned TX")
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: r, RX: r + 0x2008, PageCount: 1}.Encode()), ffa.ErrInvalidParameters, "unaligned RX")
		}},
		{"rxtx/same-buffer", "DEN0077 FFA_RXTX_MAP: TX equal to RX -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: e.Fx.RAM, RX: e.Fx.RAM, PageCount: 1}.Encode()), ffa.ErrInvalidParameters, "TX == RX")
		}},
		{"rxtx/overlap", "DEN0077 FFA_RXTX_MAP: overlapping TX and RX -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: e.Fx.RAM, RX: e.Fx.RAM + 0x1000, PageCount: 2}.Encode()), ffa.ErrInvalidParameters, "overlap")
		}},
		{"rxtx/page-count", "DEN0077 FFA_RXTX_MAP: page count 0 or above the maximum -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: e.Fx.RAM, RX: e.Fx.RAM + 0x4000, PageCount: 0}.Encode()), ffa.ErrInvalidParameters, "0 pages")
			if e.Fx.MaxPages < 16 {
				n := e.Fx.MaxPages + 1
				e.WantStatus(e.Call(ffa.RxTxMapReq{TX: e.Fx.RAM, RX: e.Fx.RAM + uint64(n)*0x1000, PageCount: n}.Encode()), ffa.ErrInvalidParameters, "max+1 pages")
			}
		}},
		{"rxtx/mbz", "DEN0077 FFA_RXTX_MAP: w3[31:6] are MBZ -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.Frame{uint64(ffa.FuncRxTxMap64), e.Fx.RAM, e.Fx.RAM + 0x1000, 1 | 1<<8}), ffa.ErrInvalidParameters, "w3 MBZ")
		}},
		{"rxtx/device-memory", "DEN0077 FFA_RXTX_MAP: buffers in device memory -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: e.Fx.DeviceMem, RX: e.Fx.RAM, PageCount: 1}.Encode()), ffa.ErrInvalidParameters, "TX in device memory")
		}},
		{"rxtx/secure-memory", "DEN0077 FFA_RXTX_MAP / isolation: buffers in secure memory -> DENIED", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: e.Fx.RAM, RX: e.Fx.SecureRAM, PageCount: 1}.Encode()), ffa.ErrDenied, "RX in secure memory")
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: e.Fx.SecureRAM, RX: e.Fx.RAM, PageCount: 1}.Encode()), ffa.ErrDenied, "TX in secure memory")
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: e.Fx.RAM, RX: e.Fx.SecureRAM - 0x1000, PageCount: 2}.Encode()), ffa.ErrDenied, "RX straddling into secure memory")
		}},
		{"rxtx/not-owned", "DEN0077 FFA_RXTX_MAP / isolation: memory the caller does not own -> DENIED", func(e *Env) {
			if e.Fx.OtherRAM == 0 {
				return
			}
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: e.Fx.RAM, RX: e.Fx.OtherRAM, PageCount: 1}.Encode()), ffa.ErrDenied, "RX in another VM's RAM")
		}},
		{"rxtx/other-endpoint-buffers", "DEN0077 FFA_RXTX_MAP / isolation: buffers overlapping another endpoint's RX/TX -> DENIED", func(e *Env) {
			if e.Fx.OtherVM == nil {
				return
			}
			e.Negotiate(ffa.Version1_2)
			e.Fx.OtherVM.Call(ffa.VersionReq{Version: ffa.Version1_2}.Encode())
			base := e.Fx.OtherRAM
			if base == 0 {
				base = e.Fx.RAM + 0x8000
			}
			if out := e.Fx.OtherVM.Call(ffa.RxTxMapReq{TX: base, RX: base + 0x1000, PageCount: 1}.Encode()); !out.IsSuccess() {
				e.fatalf("other VM's RXTX_MAP in its own memory: got %v", out)
			}
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: e.Fx.RAM, RX: base + 0x1000, PageCount: 1}.Encode()), ffa.ErrDenied, "RX on the other VM's RX")
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: base, RX: e.Fx.RAM, PageCount: 1}.Encode()), ffa.ErrDenied, "TX on the other VM's TX")
			// and the other VM's mapping still works for it
			e.WantStatus(e.Fx.OtherVM.Call(ffa.RxTxMapReq{TX: base + 0x4000, RX: base + 0x5000, PageCount: 1}.Encode()), ffa.ErrDenied, "other VM maps twice")
		}},
		{"rxtx/map-twice", "DEN0077 FFA_RXTX_MAP: a second map while mapped -> DENIED", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.MapRxTx(1)
			e.WantStatus(e.Call(ffa.RxTxMapReq{TX: e.Fx.RAM + 0x4000, RX: e.Fx.RAM + 0x5000, PageCount: 1}.Encode()), ffa.ErrDenied, "second RXTX_MAP")
		}},
		{"rxtx/unmap", "DEN0077 FFA_RXTX_UNMAP: with no mapping or twice -> INVALID_PARAMETERS; mapping again after unmap works", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			unmap := ffa.RxTxUnmapReq{ID: e.Fx.NWID}.Encode()
			e.WantStatus(e.Call(unmap), ffa.ErrInvalidParameters, "UNMAP with nothing mapped")
			e.MapRxTx(1)
			e.WantSuccess(e.Call(unmap), "UNMAP")
			e.WantStatus(e.Call(unmap), ffa.ErrInvalidParameters, "second UNMAP")
			e.MapRxTx(2)
		}},
		{"rxtx/unmap-other-id", "DEN0077 FFA_RXTX_UNMAP: an ID other than the caller's -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.MapRxTx(1)
			e.WantStatus(e.Call(ffa.RxTxUnmapReq{ID: e.Fx.Echo.ID}.Encode()), ffa.ErrInvalidParameters, "UNMAP of a partition's buffers")
		}},
		{"rxtx/release-not-owned", "DEN0077 FFA_RX_RELEASE: releasing a buffer the caller does not own -> DENIED", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.RxReleaseReq{}.Encode()), ffa.ErrDenied, "RX_RELEASE before map")
			e.MapRxTx(1)
			e.WantStatus(e.Call(ffa.RxReleaseReq{}.Encode()), ffa.ErrDenied, "RX_RELEASE with empty RX")
		}},

		// ---- partition discovery ----
		{"info/no-rx-buffer", "DEN0077 FFA_PARTITION_INFO_GET: without an RX buffer -> BUSY; the count-only form still works", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.PartitionInfoGetReq{}.Encode()), ffa.ErrBusy, "INFO_GET without RX")
			out := e.Call(ffa.PartitionInfoGetReq{Flags: ffa.PartitionInfoGetFlagCountOnly}.Encode())
			e.WantSuccess(out, "INFO_GET count-only")
			if int(out.W(2)) != e.Fx.Partitions || out.W(3) != 0 {
				e.failf("count-only: count %d size %d, want %d and 0", out.W(2), out.W(3), e.Fx.Partitions)
			}
		}},
		{"info/rx-full", "DEN0077 FFA_PARTITION_INFO_GET: while RX is owned by the caller (not released) -> BUSY", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.MapRxTx(1)
			e.WantSuccess(e.Call(ffa.PartitionInfoGetReq{}.Encode()), "first INFO_GET")
			e.WantStatus(e.Call(ffa.PartitionInfoGetReq{}.Encode()), ffa.ErrBusy, "INFO_GET before RX_RELEASE")
			e.WantSuccess(e.Call(ffa.RxReleaseReq{}.Encode()), "RX_RELEASE")
			e.WantSuccess(e.Call(ffa.PartitionInfoGetReq{}.Encode()), "INFO_GET after RX_RELEASE")
			e.WantSuccess(e.Call(ffa.RxReleaseReq{}.Encode()), "RX_RELEASE")
			e.WantStatus(e.Call(ffa.RxReleaseReq{}.Encode()), ffa.ErrDenied, "second RX_RELEASE")
		}},
		{"info/unknown-uuid", "DEN0077 FFA_PARTITION_INFO_GET: a UUID no partition has -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.MapRxTx(1)
			u := ffa.MustParseUUID("00000000-dead-beef-0000-000000000001")
			e.WantStatus(e.Call(ffa.PartitionInfoGetReq{UUID: u}.Encode()), ffa.ErrInvalidParameters, "unknown UUID")
			e.WantStatus(e.Call(ffa.PartitionInfoGetReq{UUID: u, Flags: 1}.Encode()), ffa.ErrInvalidParameters, "unknown UUID count-only")
		}},
		{"info/flags-mbz", "DEN0077 FFA_PARTITION_INFO_GET: flag bits other than bit 0 are MBZ -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.MapRxTx(1)
			e.WantStatus(e.Call(ffa.PartitionInfoGetReq{Flags: 2}.Encode()), ffa.ErrInvalidParameters, "flags=2")
			e.WantStatus(e.Call(ffa.PartitionInfoGetReq{Flags: 1 << 31}.Encode()), ffa.ErrInvalidParameters, "flags=1<<31")
		}},
		{"info/descriptors-v1.2", "DEN0077 FFA_PARTITION_INFO_GET: a v1.1+ caller gets 24-byte descriptors (w3 = size) and the RX buffer after the last one is zeroed", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			_, rx := e.MapRxTx(1)
			junk := bytes.Repeat([]byte{0xAA}, 4096)
			if err := e.Fx.Mem.WriteBytes(rx, junk); err != nil {
				e.fatalf("prefill RX: %v", err)
			}
			out := e.Call(ffa.PartitionInfoGetReq{}.Encode())
			e.WantSuccess(out, "INFO_GET")
			n, size := int(out.W(2)), int(out.W(3))
			if n != e.Fx.Partitions || size != ffa.PartitionInfoSizeV1_1 {
				e.fatalf("count %d size %d, want %d and 24", n, size, e.Fx.Partitions)
			}
			buf := make([]byte, 4096)
			if err := e.Fx.Mem.ReadBytes(rx, buf); err != nil {
				e.fatalf("read RX: %v", err)
			}
			infos, err := ffa.ParsePartitionInfo(buf, n, size)
			if err != nil {
				e.fatalf("parse: %v", err)
			}
			e.checkDescs(infos, true)
			if !bytes.Equal(buf[n*size:], make([]byte, 4096-n*size)) {
				e.failf("RX after the last descriptor is not zeroed")
			}
		}},
		{"info/descriptors-v1.0", "DEN0077 FFA_PARTITION_INFO_GET: a v1.0 caller gets 8-byte v1.0 descriptors", func(e *Env) {
			e.Negotiate(ffa.Version1_0)
			_, rx := e.MapRxTx(1)
			out := e.Call(ffa.PartitionInfoGetReq{}.Encode())
			e.WantSuccess(out, "INFO_GET")
			n := int(out.W(2))
			buf := make([]byte, 4096)
			if err := e.Fx.Mem.ReadBytes(rx, buf); err != nil {
				e.fatalf("read RX: %v", err)
			}
			infos, err := ffa.ParsePartitionInfo(buf, n, ffa.PartitionInfoSizeV1_0)
			if err != nil {
				e.fatalf("parse: %v", err)
			}
			e.checkDescs(infos, false)
			if !bytes.Equal(buf[n*8:], make([]byte, 4096-n*8)) {
				e.failf("RX after the last 8-byte descriptor is not zeroed (a 24-byte descriptor was written?)")
			}
		}},
		{"info/by-uuid", "DEN0077 FFA_PARTITION_INFO_GET: a UUID selects the partitions that have it", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			_, rx := e.MapRxTx(1)
			out := e.Call(ffa.PartitionInfoGetReq{UUID: e.Fx.Echo.UUID}.Encode())
			e.WantSuccess(out, "INFO_GET(echo UUID)")
			if out.W(2) != 1 {
				e.fatalf("count %d, want 1", out.W(2))
			}
			buf := make([]byte, 24)
			_ = e.Fx.Mem.ReadBytes(rx, buf)
			infos, _ := ffa.ParsePartitionInfo(buf, 1, 24)
			if len(infos) != 1 || infos[0].ID != e.Fx.Echo.ID {
				e.failf("descriptor %+v, want ID %v", infos, e.Fx.Echo.ID)
			}
		}},
		{"info-regs/tag", "DEN0077 FFA_PARTITION_INFO_GET_REGS: a nonzero UUID info tag the SPMC did not hand out -> RETRY", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.PartitionInfoGetRegsReq{Tag: 7}.Encode()), ffa.ErrRetry, "tag 7")
		}},
		{"info-regs/bad-args", "DEN0077 FFA_PARTITION_INFO_GET_REGS: unknown UUID or start index past the end -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			u := ffa.MustParseUUID("00000000-dead-beef-0000-000000000001")
			e.WantStatus(e.Call(ffa.PartitionInfoGetRegsReq{UUID: u}.Encode()), ffa.ErrInvalidParameters, "unknown UUID")
			e.WantStatus(e.Call(ffa.PartitionInfoGetRegsReq{StartIndex: uint16(e.Fx.Partitions)}.Encode()), ffa.ErrInvalidParameters, "start past end")
		}},
		{"info-regs/indices", "DEN0077 FFA_PARTITION_INFO_GET_REGS: last index = count-1, current index and size 24; same descriptors as PARTITION_INFO_GET", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			var infos []ffa.PartitionInfo
			start := uint16(0)
			for i := 0; i < 64; i++ {
				out := e.Call(ffa.PartitionInfoGetRegsReq{StartIndex: start}.Encode())
				r, err := ffa.DecodePartitionInfoGetRegsResp(out, start)
				if err != nil {
					e.fatalf("INFO_GET_REGS(start %d): %v (%v)", start, err, out)
				}
				if int(r.LastIndex) != e.Fx.Partitions-1 || r.DescSize != 24 {
					e.failf("last index %d size %d, want %d and 24", r.LastIndex, r.DescSize, e.Fx.Partitions-1)
				}
				infos = append(infos, r.Infos[:r.N]...)
				if r.CurrentIndex >= r.LastIndex {
					break
				}
				start = r.CurrentIndex + 1
			}
			e.checkDescs(infos, true)
		}},

		// ---- direct messaging ----
		{"direct/echo", "DEN0077 FFA_MSG_SEND_DIRECT_REQ: the partition answers with the matching DIRECT_RESP, IDs swapped", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			args := [5]uint64{1, 2, 3, 0xFFFF_FFFF, 5}
			for _, is64 := range []bool{false, true} {
				out := e.direct(e.Fx.NWID, e.Fx.Echo.ID, is64, args)
				r, err := ffa.DecodeDirectResp(out)
				if err != nil || r.Is64 != is64 || r.Src != e.Fx.Echo.ID || r.Dst != e.Fx.NWID || r.Args != args {
					e.failf("REQ(64=%v): got %v", is64, out)
				}
			}
			args2 := [14]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 1 << 63}
			out := e.req2(e.Fx.NWID, e.Fx.Echo.ID, e.Fx.Echo.UUID, args2)
			r2, err := ffa.DecodeDirectResp2(out)
			if err != nil || r2.Src != e.Fx.Echo.ID || r2.Dst != e.Fx.NWID || r2.Args != args2 {
				e.failf("REQ2: got %v", out)
			}
		}},
		{"direct/invalid-destination", "DEN0077 direct messaging: destination = self, a normal-world ID or an unknown ID -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			dsts := []ffa.ID{e.Fx.NWID, 0x7FFF, 0x8FFF}
			if e.Fx.OtherVM != nil {
				dsts = append(dsts, e.Fx.OtherVMID)
			}
			for _, d := range dsts {
				e.WantStatus(e.direct(e.Fx.NWID, d, false, [5]uint64{}), ffa.ErrInvalidParameters, fmt.Sprintf("REQ to %v", d))
				e.WantStatus(e.req2(e.Fx.NWID, d, ffa.NilUUID, [14]uint64{}), ffa.ErrInvalidParameters, fmt.Sprintf("REQ2 to %v", d))
			}
		}},
		{"direct/to-spmc-spmd", "DEN0077 direct messaging / isolation: partition messages to the SPMC or SPMD ID -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			for _, d := range []ffa.ID{e.Fx.SPMCID, ffa.IDSPMD} {
				e.WantStatus(e.direct(e.Fx.NWID, d, true, [5]uint64{}), ffa.ErrInvalidParameters, fmt.Sprintf("REQ to %v", d))
			}
		}},
		{"direct/spoofed-sender", "DEN0077 direct messaging / isolation: a sender ID that is not the caller's (a partition's or another VM's) -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			srcs := []ffa.ID{e.Fx.RelayA.ID, e.Fx.SPMCID}
			if e.Fx.OtherVM != nil {
				srcs = append(srcs, e.Fx.OtherVMID)
			}
			for _, s := range srcs {
				e.WantStatus(e.direct(s, e.Fx.Echo.ID, false, [5]uint64{}), ffa.ErrInvalidParameters, fmt.Sprintf("REQ from %v", s))
				e.WantStatus(e.req2(s, e.Fx.Echo.ID, ffa.NilUUID, [14]uint64{}), ffa.ErrInvalidParameters, fmt.Sprintf("REQ2 from %v", s))
			}
			e.WantStatus(e.direct(e.Fx.Echo.ID, e.Fx.Echo.ID, false, [5]uint64{}), ffa.ErrInvalidParameters, "source = destination")
		}},
		{"direct/resp-from-normal-world", "DEN0077 direct messaging: the normal world sending DIRECT_RESP(2) -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.Call(ffa.DirectResp{Src: e.Fx.NWID, Dst: e.Fx.Echo.ID}.Encode()), ffa.ErrInvalidParameters, "RESP_32")
			e.WantStatus(e.Call(ffa.DirectResp{Is64: true, Src: e.Fx.NWID, Dst: e.Fx.Echo.ID}.Encode()), ffa.ErrInvalidParameters, "RESP_64")
			e.WantStatus(e.Call(ffa.DirectResp2{Src: e.Fx.NWID, Dst: e.Fx.Echo.ID}.Encode()), ffa.ErrInvalidParameters, "RESP2")
		}},
		{"direct/flags-mbz", "DEN0077 direct messaging: w2 flags (framework bit from the normal world, reserved bits) -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			for _, fl := range []uint32{ffa.DirectFlagFramework, ffa.DirectFlagFramework | 8, 1, 1 << 16} {
				out := e.Call(ffa.DirectReq{Src: e.Fx.NWID, Dst: e.Fx.Echo.ID, Flags: fl}.Encode())
				e.WantStatus(out, ffa.ErrInvalidParameters, fmt.Sprintf("flags %#x", fl))
			}
		}},
		{"direct/not-receiver", "DEN0077 direct messaging: a partition that cannot receive direct requests -> DENIED", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.direct(e.Fx.NWID, e.Fx.NoDirect.ID, false, [5]uint64{}), ffa.ErrDenied, "REQ to no-direct")
			e.WantStatus(e.req2(e.Fx.NWID, e.Fx.NoDirect.ID, ffa.NilUUID, [14]uint64{}), ffa.ErrDenied, "REQ2 to no-direct")
		}},
		{"direct/req2-not-advertised", "DEN0077 FFA_MSG_SEND_DIRECT_REQ2: a partition that does not advertise REQ2 receipt -> DENIED", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			e.WantStatus(e.req2(e.Fx.NWID, e.Fx.NoReq2.ID, e.Fx.NoReq2.UUID, [14]uint64{}), ffa.ErrDenied, "REQ2 to no-req2")
		}},
		{"direct/req2-uuid", "DEN0077 FFA_MSG_SEND_DIRECT_REQ2: an unknown UUID or another partition's UUID -> INVALID_PARAMETERS; the Nil UUID is accepted", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			u := ffa.MustParseUUID("00000000-dead-beef-0000-000000000001")
			e.WantStatus(e.req2(e.Fx.NWID, e.Fx.Echo.ID, u, [14]uint64{}), ffa.ErrInvalidParameters, "unknown UUID")
			e.WantStatus(e.req2(e.Fx.NWID, e.Fx.Echo.ID, e.Fx.NoReq2.UUID, [14]uint64{}), ffa.ErrInvalidParameters, "another partition's UUID")
			if out := e.req2(e.Fx.NWID, e.Fx.Echo.ID, ffa.NilUUID, [14]uint64{7}); out.Func() != ffa.FuncMsgSendDirectResp2 {
				e.failf("REQ2 with the Nil UUID: got %v", out)
			}
		}},
		{"direct/req2-version", "DEN0077 FFA_MSG_SEND_DIRECT_REQ2: REQ2 is v1.2; a caller that negotiated v1.1 -> DENIED", func(e *Env) {
			e.Negotiate(ffa.Version1_1)
			e.WantStatus(e.req2(e.Fx.NWID, e.Fx.Echo.ID, e.Fx.Echo.UUID, [14]uint64{}), ffa.ErrDenied, "REQ2 at v1.1")
		}},
		{"direct/req2-mbz", "DEN0077 FFA_MSG_SEND_DIRECT_REQ2: x1[63:32] are MBZ -> INVALID_PARAMETERS", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			f := ffa.DirectReq2{Src: e.Fx.NWID, Dst: e.Fx.Echo.ID, UUID: e.Fx.Echo.UUID}.Encode()
			f[1] |= 1 << 40
			e.WantStatus(e.Call(f), ffa.ErrInvalidParameters, "x1 upper bits")
		}},
		{"direct/partition-response-rules", "DEN0077 FFA_MSG_SEND_DIRECT_RESP(2): answering REQ with RESP2 or with the other width -> DENIED; a response with a spoofed sender, a wrong receiver or nonzero flags -> INVALID_PARAMETERS (returned to the partition, never delivered)", func(e *Env) {
			if e.Fx.Responder.ID == 0 {
				return
			}
			e.Negotiate(ffa.Version1_2)
			for _, c := range []struct {
				mode uint64
				want ffa.Status
			}{
				{ResponderWrongFamily, ffa.ErrDenied},
				{ResponderWrongWidth, ffa.ErrDenied},
				{ResponderSpoofSender, ffa.ErrInvalidParameters},
				{ResponderWrongDest, ffa.ErrInvalidParameters},
				{ResponderFlags, ffa.ErrInvalidParameters},
			} {
				out := e.direct(e.Fx.NWID, e.Fx.Responder.ID, false, [5]uint64{c.mode})
				r, err := ffa.DecodeDirectResp(out)
				if err != nil || r.Is64 || r.Src != e.Fx.Responder.ID || r.Dst != e.Fx.NWID {
					e.failf("mode %d: got %v, want the partition's corrected RESP_32", c.mode, out)
					continue
				}
				if r.Args[0] != status32(c.want) {
					e.failf("mode %d: the invalid response got %#x, want %s", c.mode, r.Args[0], c.want)
				}
			}
			out := e.direct(e.Fx.NWID, e.Fx.Responder.ID, true, [5]uint64{ResponderOK, 9})
			if r, err := ffa.DecodeDirectResp(out); err != nil || !r.Is64 || r.Args[0] != 0 {
				e.failf("valid RESP_64: got %v", out)
			}
		}},
		{"direct/busy-receiver", "DEN0077 direct messaging: a receiver with no free execution context (still handling another request) -> BUSY", func(e *Env) {
			if e.Fx.Blocker.ID == 0 {
				return
			}
			e.Negotiate(ffa.Version1_2)
			defer e.Fx.Unblock()
			done := make(chan ffa.Frame, 1)
			go func() {
				defer func() {
					if p := recover(); p != nil {
						done <- ffa.ErrorFrame(ffa.ErrAborted)
					}
				}()
				done <- e.direct(e.Fx.NWID, e.Fx.Blocker.ID, false, [5]uint64{1})
			}()
			select {
			case <-e.Fx.Blocked:
			case <-time.After(10 * time.Second):
				e.fatalf("the blocker partition never received the first request")
			}
			e.WantStatus(e.direct(e.Fx.NWID, e.Fx.Blocker.ID, false, [5]uint64{2}), ffa.ErrBusy, "second request while the first is handled")
			if out := e.direct(e.Fx.NWID, e.Fx.Echo.ID, false, [5]uint64{3}); out.Func() != ffa.FuncMsgSendDirectResp {
				e.failf("another partition is not busy: got %v", out)
			}
			e.Fx.Unblock()
			select {
			case out := <-done:
				if r, err := ffa.DecodeDirectResp(out); err != nil || r.Args[0] != 1 {
					e.failf("first request: got %v", out)
				}
			case <-time.After(10 * time.Second):
				e.fatalf("the first request never completed")
			}
			if out := e.direct(e.Fx.NWID, e.Fx.Blocker.ID, false, [5]uint64{4}); out.Func() != ffa.FuncMsgSendDirectResp {
				e.failf("after completion the partition takes requests again: got %v", out)
			}
		}},
		{"direct/call-chain-busy", "DEN0077 direct messaging: a request to a partition already in the call chain (SP1 -> SP2 -> SP1) -> BUSY", func(e *Env) {
			e.Negotiate(ffa.Version1_2)
			a, b := e.Fx.RelayA.ID, e.Fx.RelayB.ID
			out := e.direct(e.Fx.NWID, a, false, [5]uint64{uint64(b), uint64(a), 0})
			r, err := ffa.DecodeDirectResp(out)
			if err != nil {
				e.fatalf("REQ to relay A: %v", out)
			}
			if r.Args[0] != RelayFailed || r.Args[1] != status32(ffa.ErrBusy) {
				e.failf("SP1 -> SP2 -> SP1: inner result %#x %#x, want RelayFailed and BUSY", r.Args[0], r.Args[1])
			}
			// A chain without a loop works.
			out = e.direct(e.Fx.NWID, a, false, [5]uint64{uint64(b), 0, 42})
			if r, err := ffa.DecodeDirectResp(out); err != nil || r.Args[1] != 42 {
				e.failf("SP1 -> SP2: got %v", out)
			}
		}},
	}
}

// fresh builds another fixture for cases that need a clean SPMC.
func (e *Env) fresh() (*Fixture, error) { return e.factory() }

func (e *Env) checkDescs(infos []ffa.PartitionInfo, withUUID bool) {
	e.T.Helper()
	if len(infos) != e.Fx.Partitions {
		e.failf("%d descriptors, want %d", len(infos), e.Fx.Partitions)
	}
	want := map[ffa.ID]Ref{}
	for _, r := range []Ref{e.Fx.Echo, e.Fx.NoReq2, e.Fx.NoDirect, e.Fx.RelayA, e.Fx.RelayB, e.Fx.Responder, e.Fx.Blocker} {
		if r.ID != 0 {
			want[r.ID] = r
		}
	}
	seen := map[ffa.ID]bool{}
	for _, d := range infos {
		r, ok := want[d.ID]
		if !ok {
			continue
		}
		seen[d.ID] = true
		if !d.ID.Secure() {
			e.failf("descriptor ID %v without bit 15", d.ID)
		}
		if withUUID && d.UUID != r.UUID {
			e.failf("descriptor %v: UUID %v, want %v", d.ID, d.UUID, r.UUID)
		}
		if !withUUID && !d.UUID.IsNil() {
			e.failf("v1.0 descriptor %v carries a UUID", d.ID)
		}
		recv := d.Properties.Has(ffa.PropDirectReqRecv)
		if recv == (r.ID == e.Fx.NoDirect.ID) {
			e.failf("descriptor %v: properties %v", d.ID, d.Properties)
		}
		if d.ExecContexts == 0 {
			e.failf("descriptor %v: 0 execution contexts", d.ID)
		}
	}
	for id := range want {
		if !seen[id] {
			e.failf("no descriptor for partition %v", id)
		}
	}
}
