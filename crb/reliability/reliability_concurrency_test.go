package reliability_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vCPU work for the concurrency test: each vCPU owns one PCR so that the
// outcome does not depend on the interleaving, and records every result it
// sees so the concurrent run can be compared with a serial one.
const (
	vcpus      = 8
	iterations = 40
)

// countingConduit counts FF-A answers by function ID and error status.
type countingConduit struct {
	inner ffa.Conduit
	calls atomic.Int64
	busy  atomic.Int64
}

func (c *countingConduit) Call(f ffa.Frame) ffa.Frame {
	out := c.inner.Call(f)
	c.calls.Add(1)
	if out.Func() == ffa.FuncError && ffa.Status(int32(uint32(out[2]))) == ffa.ErrBusy {
		c.busy.Add(1)
	}
	return out
}

// sleepingClock is a virtual clock whose Sleep also sleeps for real, as
// usleep_range does: a vCPU spinning on BUSY gives the others the CPU (with
// a purely virtual clock a spinning retry loop could use up busy_timeout_ms
// of virtual time before the partition is free).
type sleepingClock struct{ crbdrv.VirtualClock }

func (c *sleepingClock) Sleep(d time.Duration) {
	c.VirtualClock.Sleep(d)
	time.Sleep(d)
}

type vcpuResult struct {
	ffa []string // FF-A answers, in program order
	pcr []byte   // the vCPU's PCR at the end
}

type chainCounts struct {
	ffaCalls, busyAnswers, tpmCommands int64
	overlap                            int64 // most vCPUs inside an iteration at once
}

// runChain runs the workload on a fresh machine, with the vCPUs either one
// after the other (serial) or all at once.
func runChain(t *testing.T, concurrent bool) ([]vcpuResult, chainCounts) {
	t.Helper()
	p, err := platform.New(platform.Config{SimulatorSeed: seed})
	require.NoError(t, err)
	defer p.Close()
	cc := &countingConduit{inner: p.Conduit()}

	// The TPM driver (tpm_crb + tpm_crb_ffa): one chip shared by all vCPUs.
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: cc, MMIO: p.NS(), ControlArea: p.ControlArea(), Clock: &sleepingClock{}})
	require.NoError(t, err)
	// A second tpm_crb_ffa instance (another driver talking to the same
	// partition without the chip's lock), so partition BUSY can happen.
	cl := ffa.NewClient(cc, ffa.ClientConfig{TX: platform.DefaultNSRAMBase, RX: platform.DefaultNSRAMBase + 0x10000, Mem: p.NS()})
	rep, err := cl.Init()
	require.NoError(t, err)
	var tpmInfo ffa.PartitionInfo
	for _, pi := range rep.Partitions {
		if pi.ID == p.PartitionID {
			tpmInfo = pi
		}
	}
	drv2, err := crbdrv.NewFFA(crbdrv.FFAConfig{Messenger: cl, Partition: tpmInfo, Clock: &sleepingClock{}})
	require.NoError(t, err)
	var tpmCmds atomic.Int64
	var inside, overlap atomic.Int64 // vCPUs inside an iteration now, and the most at once

	work := func(g int) (vcpuResult, error) {
		var res vcpuResult
		rec := func(format string, a ...any) { res.ffa = append(res.ffa, fmt.Sprintf(format, a...)) }
		pcr := g + 1
		for i := 0; i < iterations; i++ {
			n := inside.Add(1)
			for {
				o := overlap.Load()
				if n <= o || overlap.CompareAndSwap(o, n) {
					break
				}
			}
			// FF-A calls from this vCPU.
			infos, err := cl.PartitionInfoGet(crbdrv.ServiceUUID())
			rec("info_get %v %v", infos, err)
			regs, err := cl.PartitionInfoGetRegs(ffa.UUID{})
			rec("info_get_regs %v %v", regs, err)
			id, err := cl.IDGet()
			rec("id %v %v", id, err)
			fr, err := cl.Features(uint32(ffa.FuncMsgSendDirectReq2), 0)
			rec("features %v %v", fr, err)
			v, err := drv2.Call(crb.FuncGetInterfaceVersion, 0, 0, 0)
			rec("get_interface_version %#x %v", v, err)
			// TPM commands through the chain.
			d := sha256.Sum256([]byte(fmt.Sprintf("vcpu %d measurement %d", g, i)))
			_, err = tpm2.PCRExtend{
				PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(pcr), Auth: tpm2.PasswordAuth(nil)},
				Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}},
			}.Execute(chip)
			tpmCmds.Add(1)
			if err != nil {
				inside.Add(-1)
				return res, fmt.Errorf("vcpu %d extend %d: %w", g, i, err)
			}
			gr, err := tpm2.GetRandom{BytesRequested: 16}.Execute(chip)
			tpmCmds.Add(1)
			if err != nil {
				inside.Add(-1)
				return res, fmt.Errorf("vcpu %d GetRandom: %w", g, err)
			}
			rec("random %d bytes", len(gr.RandomBytes.Buffer))
			inside.Add(-1)
		}
		v, err := readPCR(chip, pcr)
		tpmCmds.Add(1)
		res.pcr = v
		return res, err
	}

	results := make([]vcpuResult, vcpus)
	errs := make([]error, vcpus)
	if concurrent {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := 0; g < vcpus; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[g], errs[g] = work(g)
			}()
		}
		close(start)
		wg.Wait()
	} else {
		for g := 0; g < vcpus; g++ {
			results[g], errs[g] = work(g)
		}
	}
	for _, err := range errs {
		require.NoError(t, err)
	}
	return results, chainCounts{ffaCalls: cc.calls.Load(), busyAnswers: cc.busy.Load(), tpmCommands: tpmCmds.Load(), overlap: overlap.Load()}
}

// withDeadline fails the test, with every goroutine's stack, if f does not
// return in d: a deadlock must not hang CI.
func withDeadline(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		t.Fatalf("no result after %v: deadlock or livelock", d)
	}
}

// TestConcurrentChain: vCPUs issue FF-A calls and TPM commands at once
// through ffa -> spmc -> TPM partition -> crb -> simulator. Every answer and
// every PCR equals the serial run's, and the PCRs equal the replay of each
// vCPU's measurements.
func TestConcurrentChain(t *testing.T) {
	var serial, conc []vcpuResult
	var sc, cc chainCounts
	withDeadline(t, 90*time.Second, func() {
		serial, sc = runChain(t, false)
		conc, cc = runChain(t, true)
	})
	require.Len(t, conc, vcpus)
	for g := 0; g < vcpus; g++ {
		assert.Equal(t, serial[g].ffa, conc[g].ffa, "vCPU %d FF-A answers", g)
		assert.True(t, bytes.Equal(serial[g].pcr, conc[g].pcr), "vCPU %d PCR", g)
		var ev []string
		for i := 0; i < iterations; i++ {
			ev = append(ev, fmt.Sprintf("vcpu %d measurement %d", g, i))
		}
		assert.Equal(t, replay(ev...), conc[g].pcr, "vCPU %d PCR replays", g)
	}
	t.Logf("serial: %d FF-A calls, %d BUSY answers, %d TPM commands", sc.ffaCalls, sc.busyAnswers, sc.tpmCommands)
	t.Logf("concurrent (%d vCPUs x %d iterations): %d FF-A calls, %d BUSY answers (retried by tpm_crb_ffa), %d TPM commands, up to %d vCPUs in flight at once",
		vcpus, iterations, cc.ffaCalls, cc.busyAnswers, cc.tpmCommands, cc.overlap)
	assert.Equal(t, sc.tpmCommands, cc.tpmCommands)
	assert.Equal(t, int64(1), sc.overlap, "the serial run is serial")
	assert.Greater(t, cc.overlap, int64(1), "the vCPUs really ran at the same time")
}

// TestConcurrentSPMCEndpoints: several normal-world endpoints (VMs), each on
// its own goroutine, negotiate a version, map their own RX/TX buffers, read
// partition info through them and send malformed frames (random function
// IDs and arguments from a seeded generator; direct requests excluded so
// that no endpoint changes the shared TPM state) — all at once. Each
// endpoint's answers equal those of a serial run.
func TestConcurrentSPMCEndpoints(t *testing.T) {
	const endpoints = 6
	const junk = 400
	var eps []spmc.Endpoint
	for i := 0; i < endpoints; i++ {
		eps = append(eps, spmc.Endpoint{ID: ffa.ID(i + 1)})
	}
	run := func(concurrent bool) [][]string {
		p, err := platform.New(platform.Config{SimulatorSeed: seed, Endpoints: eps})
		require.NoError(t, err)
		defer p.Close()
		work := func(i int) []string {
			var out []string
			c, err := p.SPMC.Conduit(eps[i].ID)
			if err != nil {
				return []string{err.Error()}
			}
			call := func(f ffa.Frame) { out = append(out, c.Call(f).String()) }
			tx := platform.DefaultNSRAMBase + uint64(i)*0x20000
			call(ffa.VersionReq{Version: ffa.Version1_2}.Encode())
			call(ffa.Frame{uint64(ffa.FuncIDGet)})
			call(ffa.RxTxMapReq{TX: tx, RX: tx + 0x10000, PageCount: 1}.Encode())
			// Mapping another endpoint's buffers (or the same ones twice) must fail.
			call(ffa.RxTxMapReq{TX: tx, RX: tx + 0x10000, PageCount: 1}.Encode())
			for k := 0; k < 5; k++ {
				call(ffa.PartitionInfoGetReq{}.Encode())
				rx := make([]byte, 64)
				_ = p.NS().ReadBytes(tx+0x10000, rx)
				out = append(out, fmt.Sprintf("rx %x", rx))
				call(ffa.Frame{uint64(ffa.FuncRxRelease)})
				call(ffa.Frame{uint64(ffa.FuncRxRelease)}) // nothing held: DENIED
			}
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for k := 0; k < junk; k++ {
				var f ffa.Frame
				for r := range f {
					f[r] = rng.Uint64()
				}
				switch rng.IntN(3) {
				case 0: // a real FF-A function with garbage arguments
					fns := ffa.Funcs()
					f[0] = uint64(fns[rng.IntN(len(fns))].ID)
				case 1: // an FF-A-range number nobody defined
					f[0] = uint64(0x84000000 | rng.Uint32N(0x100) | uint32(rng.IntN(2))<<30)
				}
				switch ffa.FuncID(f[0]) {
				case ffa.FuncMsgSendDirectReq, ffa.FuncMsgSendDirectReq64, ffa.FuncMsgSendDirectReq2,
					ffa.FuncRxTxUnmap, ffa.FuncRxTxMap32, ffa.FuncRxTxMap64:
					continue
				}
				call(f)
			}
			return out
		}
		res := make([][]string, endpoints)
		if concurrent {
			var wg sync.WaitGroup
			for i := 0; i < endpoints; i++ {
				wg.Add(1)
				go func() { defer wg.Done(); res[i] = work(i) }()
			}
			wg.Wait()
		} else {
			for i := 0; i < endpoints; i++ {
				res[i] = work(i)
			}
		}
		return res
	}
	var serial, conc [][]string
	withDeadline(t, 60*time.Second, func() {
		serial = run(false)
		conc = run(true)
	})
	n := 0
	for i := range serial {
		require.Equal(t, serial[i], conc[i], "endpoint %d", i+1)
		n += len(conc[i])
	}
	t.Logf("%d endpoints, %d frames in all (valid and malformed), answers identical to the serial run", endpoints, n)
}
