package spmc_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
	"github.com/ffatpm/ffatpm/spmc"
)

// A partition with one execution context that is still handling a request
// answers a second, concurrent request with BUSY (DEN0077 direct messaging:
// receiver busy).
func TestBusyWhileHandling(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	blocking := spmc.HandlerFuncs{Req: func(_ spmc.Call, r ffa.DirectReq) (ffa.DirectResp, error) {
		if r.Args[0] == 1 {
			close(entered)
			<-release
		}
		return ffa.DirectResp{Args: r.Args}, nil
	}}
	s := newSPMC(t, func(c *spmc.Config) {
		c.Partitions[0].Handler = blocking
		c.Endpoints = []spmc.Endpoint{{ID: 0}, {ID: 1}}
	})
	nw := s.NormalWorld()
	vm1, err := s.Conduit(1)
	require.NoError(t, err)
	done := make(chan ffa.Frame)
	go func() { done <- nw.Call(ffa.DirectReq{Dst: tpmID, Args: [5]uint64{1}}.Encode()) }()
	<-entered
	out := vm1.Call(ffa.DirectReq{Src: 1, Dst: tpmID, Args: [5]uint64{2}}.Encode())
	assert.Equal(t, ffa.ErrBusy, out.Err())
	// the other partition is not affected
	out = vm1.Call(ffa.DirectReq{Src: 1, Dst: echoID, Args: [5]uint64{2}}.Encode())
	assert.NoError(t, out.Err())
	close(release)
	first := <-done
	assert.Equal(t, ffa.FuncMsgSendDirectResp, first.Func())
	out = vm1.Call(ffa.DirectReq{Src: 1, Dst: tpmID, Args: [5]uint64{2}}.Encode())
	assert.Equal(t, ffa.FuncMsgSendDirectResp, out.Func(), "free again after the first request completed")
}

// Re-entrant request from inside a handler through the normal-world
// conduit: the only execution context is taken -> BUSY.
func TestReentrantBusy(t *testing.T) {
	var s *spmc.SPMC
	var inner ffa.Frame
	h := spmc.HandlerFuncs{Req: func(_ spmc.Call, r ffa.DirectReq) (ffa.DirectResp, error) {
		inner = s.NormalWorld().Call(ffa.DirectReq{Dst: tpmID}.Encode())
		return ffa.DirectResp{}, nil
	}}
	s = newSPMC(t, func(c *spmc.Config) { c.Partitions[0].Handler = h })
	out := s.NormalWorld().Call(ffa.DirectReq{Dst: tpmID}.Encode())
	require.NoError(t, out.Err())
	assert.Equal(t, ffa.ErrBusy, inner.Err())
}

// What a handler returns decides what the caller sees.
func TestHandlerErrors(t *testing.T) {
	cases := []struct {
		name string
		err  error
		pan  bool
		want ffa.Status
	}{
		{"status-retry", ffa.ErrRetry, false, ffa.ErrRetry},
		{"status-interrupted", ffa.ErrInterrupted, false, ffa.ErrInterrupted},
		{"wrapped-status", fmt.Errorf("engine: %w", ffa.ErrBusy), false, ffa.ErrBusy},
		{"go-error-is-abort", errors.New("engine exploded"), false, ffa.ErrAborted},
		{"panic-is-abort", nil, true, ffa.ErrAborted},
		{"unknown-status-is-abort", ffa.Status(-77), false, ffa.ErrAborted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := spmc.HandlerFuncs{
				Req: func(spmc.Call, ffa.DirectReq) (ffa.DirectResp, error) {
					if c.pan {
						panic("boom")
					}
					return ffa.DirectResp{}, c.err
				},
				Req2: func(spmc.Call, ffa.DirectReq2) (ffa.DirectResp2, error) {
					if c.pan {
						panic("boom")
					}
					return ffa.DirectResp2{}, c.err
				},
			}
			s := newSPMC(t, func(cfg *spmc.Config) { cfg.Partitions[0].Handler = h })
			nw := s.NormalWorld()
			nw.Call(ffa.VersionReq{Version: ffa.Version1_2}.Encode())
			out := nw.Call(ffa.DirectReq{Dst: tpmID}.Encode())
			assert.Equal(t, c.want, out.Err())
			out = nw.Call(ffa.DirectReq2{Dst: tpmID, UUID: tpmUUID}.Encode())
			assert.Equal(t, c.want, out.Err())
			// the execution context was given back
			h2 := nw.Call(ffa.DirectReq{Dst: echoID}.Encode())
			assert.NoError(t, h2.Err())
		})
	}
}

// HandlerFuncs without a function answers NOT_SUPPORTED.
func TestHandlerFuncsNil(t *testing.T) {
	s := newSPMC(t, func(cfg *spmc.Config) { cfg.Partitions[0].Handler = spmc.HandlerFuncs{} })
	nw := s.NormalWorld()
	nw.Call(ffa.VersionReq{Version: ffa.Version1_2}.Encode())
	assert.Equal(t, ffa.ErrNotSupported, func() error { f := nw.Call(ffa.DirectReq{Dst: tpmID}.Encode()); return f.Err() }())
	assert.Equal(t, ffa.ErrNotSupported, func() error { f := nw.Call(ffa.DirectReq2{Dst: tpmID}.Encode()); return f.Err() }())
}

// Secure-side requests between partitions: needs the send property.
func TestPartitionToPartition(t *testing.T) {
	var got ffa.DirectResp
	var gotErr error
	h := spmc.HandlerFuncs{Req: func(c spmc.Call, r ffa.DirectReq) (ffa.DirectResp, error) {
		assert.Equal(t, ffa.ID(0), c.Caller())
		assert.Equal(t, tpmID, c.Self())
		assert.Equal(t, 1, c.Depth())
		got, gotErr = c.DirectReq(echoID, true, [5]uint64{5, 6})
		return ffa.DirectResp{}, nil
	}}
	s := newSPMC(t, func(cfg *spmc.Config) { cfg.Partitions[0].Handler = h })
	out := s.NormalWorld().Call(ffa.DirectReq{Dst: tpmID}.Encode())
	require.NoError(t, out.Err())
	assert.ErrorIs(t, gotErr, ffa.ErrDenied, "tpm partition lacks the direct-request-send property")

	s = newSPMC(t, func(cfg *spmc.Config) {
		cfg.Partitions[0].Handler = h
		cfg.Partitions[0].Properties |= ffa.PropDirectReqSend
	})
	out = s.NormalWorld().Call(ffa.DirectReq{Dst: tpmID}.Encode())
	require.NoError(t, out.Err())
	require.NoError(t, gotErr)
	assert.Equal(t, ffa.DirectResp{Is64: true, Src: echoID, Dst: tpmID, Args: [5]uint64{5, 6}}, got)

	var zero spmc.Call
	_, err := zero.DirectReq(echoID, false, [5]uint64{})
	assert.ErrorIs(t, err, ffa.ErrDenied)
}

// Isolation: RX/TX buffers of two endpoints must not overlap (issue 9).
func TestRxTxOverlapAcrossEndpoints(t *testing.T) {
	s := newSPMC(t, func(c *spmc.Config) { c.Endpoints = []spmc.Endpoint{{ID: 0}, {ID: 1}} })
	vm0, _ := s.Conduit(0)
	vm1, _ := s.Conduit(1)
	require.NoError(t, ffa.CheckSuccess(vm0.Call(ffa.RxTxMapReq{TX: nsRAM, RX: nsRAM + 0x2000, PageCount: 2}.Encode())))
	cases := []struct {
		name   string
		tx, rx uint64
	}{
		{"tx-on-tx", nsRAM, nsRAM + 0x8000},
		{"rx-on-rx", nsRAM + 0x8000, nsRAM + 0x3000},
		{"tx-straddles", nsRAM + 0x3000, nsRAM + 0x8000},
	}
	for _, c := range cases {
		out := vm1.Call(ffa.RxTxMapReq{TX: c.tx, RX: c.rx, PageCount: 2}.Encode())
		assert.Equal(t, ffa.ErrDenied, out.Err(), c.name)
	}
	assert.NoError(t, ffa.CheckSuccess(vm1.Call(ffa.RxTxMapReq{TX: nsRAM + 0x8000, RX: nsRAM + 0xA000, PageCount: 2}.Encode())))
	// unmapped memory and memory straddling past the end of RAM are not owned
	vm2 := newSPMC(t, nil).NormalWorld()
	assert.Equal(t, ffa.ErrDenied, vm2.Call(ffa.RxTxMapReq{TX: 0x1000, RX: nsRAM, PageCount: 1}.Encode()).Err())
	end := uint64(nsRAM + 0x100_0000)
	assert.Equal(t, ffa.ErrDenied, vm2.Call(ffa.RxTxMapReq{TX: end - 0x1000, RX: nsRAM, PageCount: 2}.Encode()).Err())
	assert.Equal(t, ffa.ErrInvalidParameters, vm2.Call(ffa.RxTxMapReq{TX: ^uint64(0) &^ 0xfff, RX: nsRAM, PageCount: 2}.Encode()).Err(), "wraps")
	noBus, err := spmc.New(spmc.Config{})
	require.NoError(t, err)
	assert.Equal(t, ffa.ErrDenied, noBus.NormalWorld().Call(ffa.RxTxMapReq{TX: nsRAM, RX: nsRAM + 0x1000, PageCount: 1}.Encode()).Err())
}

// PARTITION_INFO_GET reports NO_MEMORY when descriptors do not fit RX, and
// one descriptor per UUID to v1.1+ callers.
func TestPartitionInfoMultiUUIDAndNoMemory(t *testing.T) {
	var parts []spmc.Partition
	for i := range 200 {
		parts = append(parts, spmc.Partition{ID: ffa.ID(0x8100 + i), UUIDs: []ffa.UUID{{byte(i + 1)}}})
	}
	parts[0].UUIDs = append(parts[0].UUIDs, ffa.UUID{0xEE})
	s := newSPMC(t, func(c *spmc.Config) { c.Partitions = parts })
	nw := s.NormalWorld()
	nw.Call(ffa.VersionReq{Version: ffa.Version1_2}.Encode())
	require.NoError(t, ffa.CheckSuccess(nw.Call(ffa.RxTxMapReq{TX: nsRAM, RX: nsRAM + 0x1000, PageCount: 1}.Encode())))
	out := nw.Call(ffa.PartitionInfoGetReq{Flags: 1}.Encode())
	assert.Equal(t, uint32(201), out.W(2))
	assert.Equal(t, ffa.ErrNoMemory, nw.Call(ffa.PartitionInfoGetReq{}.Encode()).Err(), "201*24 > 4096")
	out = nw.Call(ffa.PartitionInfoGetReq{UUID: ffa.UUID{0xEE}}.Encode())
	require.NoError(t, ffa.CheckSuccess(out))
	assert.Equal(t, uint32(1), out.W(2))

	regs := nw.Call(ffa.PartitionInfoGetRegsReq{StartIndex: 195}.Encode())
	r, err := ffa.DecodePartitionInfoGetRegsResp(regs, 195)
	require.NoError(t, err)
	assert.Equal(t, uint16(200), r.LastIndex)
	assert.Equal(t, uint16(199), r.CurrentIndex)
	assert.Equal(t, 5, r.N)
}

func TestNewRejectsBadConfig(t *testing.T) {
	h := spmc.HandlerFuncs{}
	cases := []struct {
		name string
		cfg  spmc.Config
	}{
		{"spmc-id-not-secure", spmc.Config{ID: 5}},
		{"version-2.0", spmc.Config{Version: ffa.MakeVersion(2, 0)}},
		{"version-1.3", spmc.Config{Version: ffa.MakeVersion(1, 3)}},
		{"policy", spmc.Config{VersionPolicy: 9}},
		{"max-pages", spmc.Config{MaxRxTxPages: 64}},
		{"secure-endpoint", spmc.Config{Endpoints: []spmc.Endpoint{{ID: 0x8000}}}},
		{"dup-endpoint", spmc.Config{Endpoints: []spmc.Endpoint{{ID: 1}, {ID: 1}}}},
		{"partition-not-secure", spmc.Config{Partitions: []spmc.Partition{{ID: 1}}}},
		{"partition-is-spmc", spmc.Config{Partitions: []spmc.Partition{{ID: 0x8000}}}},
		{"partition-is-spmd", spmc.Config{Partitions: []spmc.Partition{{ID: 0xFFFF}}}},
		{"receiver-without-handler", spmc.Config{Partitions: []spmc.Partition{{ID: 0x8001, Properties: ffa.PropDirectReqRecv}}}},
		{"nil-uuid", spmc.Config{Partitions: []spmc.Partition{{ID: 0x8001, UUIDs: []ffa.UUID{{}}}}}},
		{"dup-uuid", spmc.Config{Partitions: []spmc.Partition{{ID: 0x8001, UUIDs: []ffa.UUID{tpmUUID, tpmUUID}}}}},
		{"dup-partition", spmc.Config{Partitions: []spmc.Partition{{ID: 0x8001, Handler: h}, {ID: 0x8001}}}},
	}
	for _, c := range cases {
		_, err := spmc.New(c.cfg)
		assert.Error(t, err, c.name)
	}
	_, err := newSPMC(t, nil).Conduit(7)
	assert.Error(t, err)
}

func TestAccessors(t *testing.T) {
	s := newSPMC(t, nil)
	assert.Equal(t, ffa.IDSPMCDefault, s.ID())
	assert.Equal(t, ffa.Version1_2, s.Version())
	ps := s.Partitions()
	require.Len(t, ps, 2)
	assert.Equal(t, "tpm", ps[0].Name)
	assert.Equal(t, []ffa.PartitionInfo{{ID: tpmID, ExecContexts: 1, Properties: ps[0].Properties, UUID: tpmUUID}}, ps[0].Info())
	assert.Len(t, spmc.Partition{ID: 0x8009}.Info(), 1)
	assert.Equal(t, "hafnium", spmc.VersionHafnium.String())
	assert.Equal(t, "el3", spmc.VersionEL3.String())
	assert.Contains(t, spmc.VersionPolicy(7).String(), "7")
}

// Several vCPUs calling at once: -race clean and every result equals the
// serial one.
func TestConcurrentCallers(t *testing.T) {
	s := newSPMC(t, func(c *spmc.Config) {
		c.Endpoints = []spmc.Endpoint{{ID: 0}, {ID: 1}, {ID: 2}, {ID: 3}}
		c.Partitions[1].ExecContexts = 64
	})
	var wg sync.WaitGroup
	errs := make(chan error, 4*500)
	for vm := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _ := s.Conduit(ffa.ID(vm))
			c.Call(ffa.VersionReq{Version: ffa.Version1_2}.Encode())
			base := uint64(nsRAM + vm*0x10000)
			if err := ffa.CheckSuccess(c.Call(ffa.RxTxMapReq{TX: base, RX: base + 0x1000, PageCount: 1}.Encode())); err != nil {
				errs <- err
				return
			}
			for i := range 500 {
				args := [5]uint64{uint64(vm), uint64(i)}
				out := c.Call(ffa.DirectReq{Is64: true, Src: ffa.ID(vm), Dst: echoID, Args: args}.Encode())
				r, err := ffa.DecodeDirectResp(out)
				if err != nil || r.Args != args {
					errs <- fmt.Errorf("vm %d req %d: %v", vm, i, out)
				}
				if i%50 == 0 {
					if err := ffa.CheckSuccess(c.Call(ffa.PartitionInfoGetReq{}.Encode())); err != nil {
						errs <- err
					}
					if err := ffa.CheckSuccess(c.Call(ffa.RxReleaseReq{}.Encode())); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// An endpoint that never called FFA_VERSION is served as a v1.0 caller:
// v1.1+/v1.2 ABIs are NOT_SUPPORTED (REQ2: DENIED), PARTITION_INFO_GET has
// no flags and returns 8-byte descriptors.
func TestCallsBeforeVersionNegotiation(t *testing.T) {
	s := newSPMC(t, nil)
	nw := s.NormalWorld()
	assert.Equal(t, ffa.ErrNotSupported, nw.Call(ffa.Frame{uint64(ffa.FuncSpmIDGet)}).Err())
	assert.Equal(t, ffa.ErrNotSupported, nw.Call(ffa.PartitionInfoGetRegsReq{}.Encode()).Err())
	assert.Equal(t, ffa.ErrDenied, nw.Call(ffa.DirectReq2{Dst: tpmID, UUID: tpmUUID}.Encode()).Err())
	assert.Equal(t, ffa.ErrInvalidParameters, nw.Call(ffa.PartitionInfoGetReq{Flags: 1}.Encode()).Err())
	require.NoError(t, ffa.CheckSuccess(nw.Call(ffa.RxTxMapReq{TX: nsRAM, RX: nsRAM + 0x1000, PageCount: 1}.Encode())))
	out := nw.Call(ffa.PartitionInfoGetReq{}.Encode())
	require.NoError(t, ffa.CheckSuccess(out))
	assert.Equal(t, uint32(2), out.W(2))
	assert.Equal(t, uint32(0), out.W(3), "v1.0 reports no descriptor size")
	// direct requests work at v1.0
	assert.Equal(t, ffa.FuncMsgSendDirectResp, nw.Call(ffa.DirectReq{Dst: tpmID}.Encode()).Func())
	// the version is now locked at 1.0 (Hafnium policy)
	assert.Equal(t, uint64(ffa.VersionNotSupported), nw.Call(ffa.VersionReq{Version: ffa.Version1_2}.Encode())[0])
	assert.Equal(t, uint64(ffa.Version1_2), nw.Call(ffa.VersionReq{Version: ffa.Version1_0}.Encode())[0])
}

// A 64-bit direct request with junk in x1[63:32] is refused; a 32-bit one
// ignores the upper halves as SMCCC requires.
func TestDirectReqUpperBits(t *testing.T) {
	s := newSPMC(t, nil)
	nw := s.NormalWorld()
	f := ffa.DirectReq{Is64: true, Dst: tpmID}.Encode()
	f[1] |= 1 << 48
	assert.Equal(t, ffa.ErrInvalidParameters, nw.Call(f).Err())
	f = ffa.DirectReq{Dst: tpmID, Args: [5]uint64{5}}.Encode()
	f[1] |= 1 << 48
	f[3] |= 1 << 40
	out := nw.Call(f)
	r, err := ffa.DecodeDirectResp(out)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), r.Args[0])
}

type frameFunc func(spmc.Call, ffa.Frame) ffa.Frame

func (f frameFunc) DirectFrame(c spmc.Call, in ffa.Frame) ffa.Frame { return f(c, in) }

// Register-level partitions: what the SPMC does with each kind of answer.
func TestFrameHandler(t *testing.T) {
	const me = ffa.ID(0x8007)
	cases := []struct {
		name string
		h    func(calls *[]ffa.Frame) frameFunc
		req  ffa.Frame
		want func(t *testing.T, out ffa.Frame, calls []ffa.Frame)
	}{
		{"never-valid-aborts", func(calls *[]ffa.Frame) frameFunc {
			return func(_ spmc.Call, in ffa.Frame) ffa.Frame {
				*calls = append(*calls, in)
				return ffa.DirectResp2{Src: me}.Encode()
			}
		}, ffa.DirectReq{Dst: me}.Encode(), func(t *testing.T, out ffa.Frame, calls []ffa.Frame) {
			assert.Equal(t, ffa.ErrAborted, out.Err())
			require.Len(t, calls, spmc.MaxResponseAttempts)
			assert.Equal(t, ffa.ErrDenied, calls[1].Err())
		}},
		{"error-passes-through", func(*[]ffa.Frame) frameFunc {
			return func(spmc.Call, ffa.Frame) ffa.Frame { return ffa.ErrorFrame(ffa.ErrRetry) }
		}, ffa.DirectReq{Dst: me}.Encode(), func(t *testing.T, out ffa.Frame, _ []ffa.Frame) {
			assert.Equal(t, ffa.ErrRetry, out.Err())
		}},
		{"unknown-error-code-refused", func(calls *[]ffa.Frame) frameFunc {
			return func(_ spmc.Call, in ffa.Frame) ffa.Frame {
				*calls = append(*calls, in)
				if in.Func() == ffa.FuncError {
					return ffa.DirectResp{Src: me, Args: [5]uint64{uint64(in.W(2))}}.Encode()
				}
				return ffa.Frame{uint64(ffa.FuncError), 0, 77}
			}
		}, ffa.DirectReq{Dst: me}.Encode(), func(t *testing.T, out ffa.Frame, _ []ffa.Frame) {
			r, err := ffa.DecodeDirectResp(out)
			require.NoError(t, err)
			assert.Equal(t, uint64(uint32(0xFFFFFFFE)), r.Args[0])
		}},
		{"other-abi-not-supported", func(*[]ffa.Frame) frameFunc {
			return func(_ spmc.Call, in ffa.Frame) ffa.Frame {
				if in.Func() == ffa.FuncError {
					return ffa.DirectResp2{Src: me, Args: [14]uint64{uint64(in.W(2))}}.Encode()
				}
				return ffa.Frame{uint64(ffa.FuncIDGet)}
			}
		}, ffa.DirectReq2{Dst: me}.Encode(), func(t *testing.T, out ffa.Frame, _ []ffa.Frame) {
			r, err := ffa.DecodeDirectResp2(out)
			require.NoError(t, err)
			assert.Equal(t, uint64(0xFFFFFFFF), r.Args[0])
		}},
		{"resp2-mbz", func(*[]ffa.Frame) frameFunc {
			return func(_ spmc.Call, in ffa.Frame) ffa.Frame {
				if in.Func() == ffa.FuncError {
					return ffa.DirectResp2{Src: me, Args: [14]uint64{uint64(in.W(2))}}.Encode()
				}
				f := ffa.DirectResp2{Src: me}.Encode()
				f[3] = 1
				return f
			}
		}, ffa.DirectReq2{Dst: me}.Encode(), func(t *testing.T, out ffa.Frame, _ []ffa.Frame) {
			r, err := ffa.DecodeDirectResp2(out)
			require.NoError(t, err)
			assert.Equal(t, uint64(0xFFFFFFFE), r.Args[0])
		}},
		{"panic-aborts", func(*[]ffa.Frame) frameFunc {
			return func(spmc.Call, ffa.Frame) ffa.Frame { panic("sp crashed") }
		}, ffa.DirectReq{Dst: me}.Encode(), func(t *testing.T, out ffa.Frame, _ []ffa.Frame) {
			assert.Equal(t, ffa.ErrAborted, out.Err())
		}},
		{"32-bit-response-cleaned", func(*[]ffa.Frame) frameFunc {
			return func(spmc.Call, ffa.Frame) ffa.Frame {
				f := ffa.DirectResp{Src: me, Args: [5]uint64{1}}.Encode()
				f[3] |= 1 << 40 // junk in the upper half is not passed on
				return f
			}
		}, ffa.DirectReq{Dst: me}.Encode(), func(t *testing.T, out ffa.Frame, _ []ffa.Frame) {
			assert.Equal(t, uint64(1), out[3])
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var calls []ffa.Frame
			s := newSPMC(t, func(cfg *spmc.Config) {
				cfg.Partitions = append(cfg.Partitions, spmc.Partition{Name: "raw", ID: me, FrameHandler: c.h(&calls),
					Properties: ffa.PropDirectReqRecv | ffa.PropDirectReq2Recv})
			})
			nw := s.NormalWorld()
			nw.Call(ffa.VersionReq{Version: ffa.Version1_2}.Encode())
			c.want(t, nw.Call(c.req), calls)
		})
	}
}

// Partition property bits 9 and 10 (DIRECT_REQ2 receive/send) are defined
// by FF-A v1.2; at v1.1 they are reserved, so a caller that negotiated v1.1
// must not see them (else Linux at v1.1 would pick REQ2 and get DENIED).
func TestPartitionInfoHidesREQ2BitsBelowV12(t *testing.T) {
	for _, v := range []ffa.Version{ffa.Version1_1, ffa.Version1_2} {
		t.Run(v.String(), func(t *testing.T) {
			s := newSPMC(t, nil)
			nw := s.NormalWorld()
			require.Equal(t, uint64(ffa.Version1_2), nw.Call(ffa.VersionReq{Version: v}.Encode())[0])
			require.NoError(t, ffa.CheckSuccess(nw.Call(ffa.RxTxMapReq{TX: nsRAM, RX: nsRAM + 0x1000, PageCount: 1}.Encode())))
			out := nw.Call(ffa.PartitionInfoGetReq{UUID: tpmUUID}.Encode())
			require.NoError(t, ffa.CheckSuccess(out))
			buf := make([]byte, ffa.PartitionInfoSizeV1_1)
			require.NoError(t, s.Bus().Accessor(phys.NonSecure).ReadBytes(nsRAM+0x1000, buf))
			infos, err := ffa.ParsePartitionInfo(buf, 1, ffa.PartitionInfoSizeV1_1)
			require.NoError(t, err)
			req2 := infos[0].Properties.Has(ffa.PropDirectReq2Recv)
			assert.Equal(t, v.AtLeast(ffa.Version1_2), req2)
			assert.True(t, infos[0].Properties.Has(ffa.PropDirectReqRecv))
		})
	}
}
