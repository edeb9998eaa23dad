package crbtest

// Isolation cases that need one more fact about the target than Target
// gives: where the TPM partition's private memory is. They follow the
// suite's table style (IsolationCases, RunIsolation, CheckIsolation) and run
// over every direct-message ABI the partition advertises.
//
// The other isolation rules of the project live in the two suites already:
// spoofed sender IDs, requests to the SPMC/SPMD IDs and RX/TX buffers in
// secure memory or overlapping each other in spmc/spmctest (direct/
// spoofed-sender, direct/to-spmc-spmd, rxtx/secure-memory, rxtx/overlap,
// rxtx/other-endpoint-buffers); commands at a locality that was not granted
// and a second endpoint seizing a locality in Cases (command-inactive-
// locality, seize-from-lower-denied, second-endpoint-isolation).

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
	"github.com/ffatpm/ffatpm/spmc"
)

// PrivateMemory is memory that belongs to the TPM partition alone.
type PrivateMemory struct {
	Base, Size uint64
	// Secure, optional, is the partition's own view of the region; with it
	// the cases also check that a refused write changed nothing.
	Secure crbdrv.MMIO
}

// IsolationTarget is a Target plus the partition's private memory.
type IsolationTarget struct {
	Target
	Private []PrivateMemory
}

// IsolationFactory builds a fresh isolation target for one case.
type IsolationFactory func(t T) IsolationTarget

// IsolationEnv is an isolation case's view of the target.
type IsolationEnv struct {
	*Env
	Private []PrivateMemory
}

// IsolationCase is one isolation check.
type IsolationCase struct {
	Name string
	Rule string
	Run  func(t T, e *IsolationEnv)
}

// probeOffsets are where the cases poke a region: first byte, middle, last
// 8 bytes.
func probeOffsets(size uint64) []uint64 {
	if size < 16 {
		return []uint64{0}
	}
	return []uint64{0, (size / 2) &^ 7, size - 8}
}

// sentinel is a value the cases plant in private memory (through its secure
// view) to see whether a refused access changed it.
const sentinel uint64 = 0x5ec0_7e57_5ec0_7e57

// IsolationCases returns the isolation cases in a fixed order.
func IsolationCases() []IsolationCase {
	return []IsolationCase{
		{"private-memory-ns-access", "Isolation (FF-A DEN0077 / TrustZone): the normal world can neither read nor write the TPM partition's private memory; every access of 1, 2, 4 or 8 bytes is refused and changes nothing",
			func(t T, e *IsolationEnv) {
				if len(e.Private) == 0 {
					e.Skip("target names no private memory")
				}
				for _, r := range e.Private {
					for _, off := range probeOffsets(r.Size) {
						a := r.Base + off
						if r.Secure != nil {
							if err := r.Secure.Write(a, 8, sentinel); err != nil {
								t.Errorf("secure view write at %#x: %v", a, err)
								continue
							}
						}
						for _, size := range []int{1, 2, 4, 8} {
							if v, err := e.MMIO.Read(a, size); err == nil {
								t.Errorf("%s: normal-world read of %d bytes at %#x (partition private memory) succeeded: %#x", e.Via, size, a, v)
							}
							if err := e.MMIO.Write(a, size, 0); err == nil {
								t.Errorf("%s: normal-world write of %d bytes at %#x (partition private memory) succeeded", e.Via, size, a)
							}
						}
						if r.Secure != nil {
							if v, err := r.Secure.Read(a, 8); err != nil || v != sentinel {
								t.Errorf("%s: private memory at %#x changed by refused writes: %#x (%v)", e.Via, a, v, err)
							}
						}
					}
				}
			}},
		{"crb-addresses-into-private-memory", "Isolation / DEN0138 START(command): CRB command or response addresses pointing into the partition's private memory -> INV_CRB_CTRL_DATA, and the partition neither reads nor writes there (no confused deputy)",
			func(t T, e *IsolationEnv) {
				if len(e.Private) == 0 {
					e.Skip("target names no private memory")
				}
				buf := e.CRBBase + crb.DataBufferOffset
				for _, r := range e.Private {
					for _, which := range []string{"response", "command"} {
						target := r.Base
						if r.Secure != nil {
							for off := uint64(0); off < 64 && off+8 <= r.Size; off += 8 {
								_ = r.Secure.Write(target+off, 8, sentinel)
							}
							// A command the partition would run if it followed CMD_ADDR.
							if which == "command" {
								cmd := GetRandomCommand(8)
								for i, c := range cmd {
									_ = r.Secure.Write(target+uint64(i), 1, uint64(c))
								}
							}
						}
						e.Grant(0)
						e.WriteBuffer(0, GetRandomCommand(8))
						if which == "response" {
							e.W32(0, crb.RegRspAddr, uint32(target))
							e.W32(0, crb.RegRspAddr+4, uint32(target>>32))
						} else {
							e.W32(0, crb.RegCmdLAddr, uint32(target))
							e.W32(0, crb.RegCmdHAddr, uint32(target>>32))
						}
						e.W32(0, crb.RegCtrlStart, crb.CtrlStartInvoke)
						st, _ := e.Call(crb.FuncStart, qCmd, 0)
						e.Expect(which+" address in private memory", st, crb.StatusInvCRBCtrlData)
						if r.Secure != nil && which == "response" {
							for off := uint64(0); off < 64 && off+8 <= r.Size; off += 8 {
								if v, err := r.Secure.Read(target+off, 8); err != nil || v != sentinel {
									t.Errorf("%s: the partition wrote into its private memory at %#x for the normal world: %#x", e.Via, target+off, v)
									break
								}
							}
						}
						if which == "command" {
							// Nothing may have come back from the private command.
							if rsp := e.ReadBuffer(0, 10); bytes.Equal(rsp[:2], []byte{0x80, 0x01}) && rsp[9] == 0 && rsp[8] == 0 && rsp[7] == 0 && rsp[6] == 0 {
								t.Errorf("%s: a command read from private memory ran (success response in the buffer)", e.Via)
							}
						}
						// Restore the control area for the next probe.
						e.W32(0, crb.RegRspAddr, uint32(buf))
						e.W32(0, crb.RegRspAddr+4, uint32(buf>>32))
						e.W32(0, crb.RegCmdLAddr, uint32(buf))
						e.W32(0, crb.RegCmdHAddr, uint32(buf>>32))
						e.W32(0, crb.RegLocCtrl, crb.LocCtrlRelinquish)
						_, _ = e.Call(crb.FuncStart, qLoc, 0)
					}
				}
			}},
		{"rxtx-in-private-memory", "Isolation / DEN0077 FFA_RXTX_MAP: RX/TX buffers inside the TPM partition's private memory -> DENIED (or INVALID_PARAMETERS), so the SPMC never writes descriptors there for the normal world",
			func(t T, e *IsolationEnv) {
				if len(e.Private) == 0 {
					e.Skip("target names no private memory")
				}
				for _, r := range e.Private {
					if r.Size < 2*0x1000 {
						continue
					}
					base := (r.Base + 0xfff) &^ 0xfff
					out := e.Target.Conduit.Call(ffa.RxTxMapReq{TX: base, RX: base + 0x1000, PageCount: 1}.Encode())
					err := out.Err()
					if !errors.Is(err, ffa.ErrDenied) && !errors.Is(err, ffa.ErrInvalidParameters) {
						t.Errorf("%s: FFA_RXTX_MAP with buffers at %#x (partition private memory): got %v, want DENIED", e.Via, base, out)
						if err == nil {
							// Undo, so that later cases start clean.
							e.Target.Conduit.Call(ffa.Frame{uint64(ffa.FuncRxTxUnmap), uint64(e.Self) << 16})
						}
					}
				}
			}},
	}
}

// RunIsolation runs every isolation case against fresh targets from f, once
// per direct-message ABI the partition advertises.
func RunIsolation(t *testing.T, f IsolationFactory) {
	for _, via := range []Via{ViaReq32, ViaReq64, ViaReq2} {
		for _, c := range IsolationCases() {
			t.Run(via.String()+"/"+c.Name, func(t *testing.T) {
				runIsolationCase(t, f, via, c)
			})
		}
	}
}

// CheckIsolation runs the isolation cases with a recording T and returns
// the failures (none for a partition that keeps its memory private).
func CheckIsolation(f IsolationFactory) []Failure {
	var all []Failure
	for _, via := range []Via{ViaReq32, ViaReq64, ViaReq2} {
		for _, c := range IsolationCases() {
			r := &recorder{name: via.String() + "/" + c.Name}
			func() {
				defer func() {
					if p := recover(); p != nil {
						if _, ok := p.(failNow); !ok {
							buf := make([]byte, 4096)
							buf = buf[:runtime.Stack(buf, false)]
							r.Errorf("panic: %v\n%s", p, buf)
						}
					}
				}()
				runIsolationCase(r, f, via, c)
			}()
			all = append(all, r.fails...)
		}
	}
	return all
}

func runIsolationCase(t T, f IsolationFactory, via Via, c IsolationCase) {
	tg := f(t)
	if tg.Close != nil {
		defer tg.Close()
	}
	// Reuse runCase's setup and skips: a Case whose body runs ours.
	runCase(t, func(T) Target {
		inner := tg.Target
		inner.Close = nil
		return inner
	}, via, Case{Name: c.Name, Rule: c.Rule, Run: func(t T, e *Env) {
		c.Run(t, &IsolationEnv{Env: e, Private: tg.Private})
	}})
}

// PlatformIsolationFactory is PlatformFactory plus the platform's private
// memory region of the TPM partition (with its secure view).
func PlatformIsolationFactory(cfg platform.Config) IsolationFactory {
	return func(t T) IsolationTarget {
		c := cfg
		if c.Endpoints == nil {
			c.Endpoints = []spmc.Endpoint{{ID: 0}, {ID: 1}}
		}
		p, err := platform.New(c)
		if err != nil {
			t.Errorf("platform: %v", err)
			t.FailNow()
		}
		tg := Target{Conduit: p.Conduit(), Self: c.Endpoints[0].ID, MMIO: p.NS(), CRBBase: p.CRBBase,
			PartitionID: p.PartitionID, ClosedLocality: -1, Close: func() { _ = p.Close() }}
		return IsolationTarget{Target: tg, Private: []PrivateMemory{{
			Base: platform.DefaultSecureRAMBase, Size: platform.DefaultSecureRAMSize,
			Secure: p.Bus.Accessor(phys.Secure)}}}
	}
}
