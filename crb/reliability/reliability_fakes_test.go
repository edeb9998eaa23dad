package reliability_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/require"
)

// seed fixes the simulator's hierarchy seeds so that runs compare.
const seed = 0x0f0a7

// action is what the fault-injecting partition does with one request.
type action int

const (
	pass        action = iota // hand the request to the real partition
	busy                      // FFA_ERROR(BUSY): the partition is busy
	retry                     // FFA_ERROR(RETRY)
	interrupted               // FFA_ERROR(INTERRUPTED)
	abortBefore               // partition abort before the TPM acts
	abortAfter                // the TPM acts, then the partition aborts
	swallow                   // answer TPM_OK and do nothing (CTRL_START stays set)
)

func (a action) String() string {
	return [...]string{"pass", "busy", "retry", "interrupted", "abort-before", "abort-after", "swallow"}[a]
}

// request is what the fault rule sees of one DEN0138 call.
type request struct {
	Seq       int // 0-based count of requests seen
	Func      crb.Func
	Qualifier crb.Qualifier
	Locality  int
	StartSet  bool // CTRL_START of that locality was set: START(command) runs a TPM command
}

// IsCommand reports whether the request makes the TPM run a command.
func (r request) IsCommand() bool {
	return r.Func == crb.FuncStart && r.Qualifier == crb.QualifierCommand && r.StartSet
}

// faultPartition wraps the TPM partition's spmc.Handler and applies rule to
// every request. It stands for a broken or overloaded secure partition.
type faultPartition struct {
	inner spmc.Handler
	dev   func() *crb.Device
	rule  func(request) action

	mu   sync.Mutex
	seq  int
	seen []string // "<func>/<qualifier> -> action"
}

func (f *faultPartition) decide(fn, q, loc uint64) action {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := request{Seq: f.seq, Func: crb.Func(uint32(fn)), Qualifier: crb.Qualifier(uint32(q)), Locality: int(loc)}
	if r.Func == crb.FuncStart && loc < crb.NumLocalities && f.dev != nil {
		r.StartSet = f.dev().Snapshot(int(loc)).Start&crb.CtrlStartInvoke != 0
	}
	f.seq++
	a := f.rule(r)
	f.seen = append(f.seen, fmt.Sprintf("%v/%v -> %v", r.Func, r.Qualifier, a))
	return a
}

var errPartitionAbort = errors.New("injected partition abort")

func (f *faultPartition) DirectReq(c spmc.Call, req ffa.DirectReq) (ffa.DirectResp, error) {
	switch a := f.decide(req.Args[1], req.Args[2], req.Args[3]); a {
	case pass:
		return f.inner.DirectReq(c, req)
	case swallow:
		return ffa.DirectResp{Args: [5]uint64{0, uint64(crb.StatusOK)}}, nil
	case abortAfter:
		_, _ = f.inner.DirectReq(c, req)
		return ffa.DirectResp{}, errPartitionAbort
	default:
		return ffa.DirectResp{}, a.status()
	}
}

func (f *faultPartition) DirectReq2(c spmc.Call, req ffa.DirectReq2) (ffa.DirectResp2, error) {
	switch a := f.decide(req.Args[0], req.Args[1], req.Args[2]); a {
	case pass:
		return f.inner.DirectReq2(c, req)
	case swallow:
		return ffa.DirectResp2{Args: [14]uint64{uint64(crb.StatusOK)}}, nil
	case abortAfter:
		_, _ = f.inner.DirectReq2(c, req)
		return ffa.DirectResp2{}, errPartitionAbort
	default:
		return ffa.DirectResp2{}, a.status()
	}
}

func (a action) status() error {
	switch a {
	case busy:
		return ffa.ErrBusy
	case retry:
		return ffa.ErrRetry
	case interrupted:
		return ffa.ErrInterrupted
	}
	return errPartitionAbort
}

// faultEngine wraps the TPM engine: mode decides, per command, what the
// engine does instead of answering normally.
type faultEngine struct {
	inner transport.TPM
	mode  func(cc uint32) engineFault
}

type engineFault int

const (
	engOK        engineFault = iota
	engError                 // the engine's Send fails (e.g. the swtpm socket broke)
	engTruncated             // the response is cut short of its header's size
	engShort                 // the response is shorter than a TPM header
	engRC                    // the engine answers a TPM error response (TPM_RC_FAILURE)
)

// rcFailure is TPM_RC_FAILURE: the TPM is in failure mode.
const rcFailure = 0x101

func (e *faultEngine) Send(cmd []byte) ([]byte, error) {
	var cc uint32
	if len(cmd) >= 10 {
		cc = uint32(cmd[6])<<24 | uint32(cmd[7])<<16 | uint32(cmd[8])<<8 | uint32(cmd[9])
	}
	switch e.mode(cc) {
	case engError:
		return nil, errors.New("injected engine error: connection reset")
	case engTruncated:
		rsp, err := e.inner.Send(cmd)
		if err != nil || len(rsp) <= 10 {
			return rsp, err
		}
		return rsp[:len(rsp)-1], nil
	case engShort:
		return []byte{0x80, 0x01, 0, 0}, nil
	case engRC:
		return crb.ErrorResponse(rcFailure), nil
	}
	return e.inner.Send(cmd)
}

// interruptingConduit returns FFA_INTERRUPT instead of the answer to the
// first n direct requests; FFA_RUN then resumes the partition, which answers.
// It models a secure interrupt preempting the TPM partition.
type interruptingConduit struct {
	inner   ffa.Conduit
	mu      sync.Mutex
	n       int
	pending []ffa.Frame
	runs    int
}

func (c *interruptingConduit) Call(f ffa.Frame) ffa.Frame {
	switch f.Func() {
	case ffa.FuncMsgSendDirectReq, ffa.FuncMsgSendDirectReq64, ffa.FuncMsgSendDirectReq2:
		c.mu.Lock()
		if c.n > 0 {
			c.n--
			c.pending = append(c.pending, f)
			c.mu.Unlock()
			// w1: endpoint/vCPU of the preempted partition.
			return ffa.Frame{uint64(ffa.FuncInterrupt), f[1] & 0xffff}
		}
		c.mu.Unlock()
	case ffa.FuncRun:
		c.mu.Lock()
		c.runs++
		if len(c.pending) > 0 {
			p := c.pending[0]
			c.pending = c.pending[1:]
			c.mu.Unlock()
			return c.inner.Call(p)
		}
		c.mu.Unlock()
	}
	return c.inner.Call(f)
}

// hookClock is a virtual clock that calls onSleep after each sleep.
type hookClock struct {
	crbdrv.VirtualClock
	mu      sync.Mutex
	sleeps  int
	onSleep func(n int)
}

func (c *hookClock) Sleep(d time.Duration) {
	c.VirtualClock.Sleep(d)
	c.mu.Lock()
	c.sleeps++
	n, f := c.sleeps, c.onSleep
	c.mu.Unlock()
	if f != nil {
		f(n)
	}
}

// rig is one machine with fault hooks and the normal-world chip on it.
type rig struct {
	t     *testing.T
	p     *platform.Platform
	part  *faultPartition
	chip  *crbdrv.Chip
	clock *hookClock
	logMu sync.Mutex
	logs  []string
}

type rigConfig struct {
	rule        func(request) action
	engine      func(cc uint32) engineFault
	noReq2      bool
	idle        bool
	busyTimeout time.Duration
	conduit     func(ffa.Conduit) ffa.Conduit
}

// newRig builds the machine (simulator engine, TPM partition wrapped by the
// fault rule) and opens the chip; the rule starts as "pass" during Open
// unless cfg.rule is used for probing too (it always is: Open's requests go
// through it).
func newRig(t *testing.T, cfg rigConfig) (*rig, error) {
	t.Helper()
	r := &rig{t: t, clock: &hookClock{}}
	rule := cfg.rule
	if rule == nil {
		rule = func(request) action { return pass }
	}
	pc := platform.Config{SimulatorSeed: seed, NoReq2: cfg.noReq2}
	var sim *engine.Simulator
	if cfg.engine != nil {
		s, err := engine.OpenSimulator(engine.SimulatorOptions{Seed: seed})
		require.NoError(t, err)
		sim = s
		pc.Engine = &faultEngine{inner: s, mode: cfg.engine}
	}
	var plat *platform.Platform
	pc.WrapHandler = func(h spmc.Handler) spmc.Handler {
		r.part = &faultPartition{inner: h, rule: rule, dev: func() *crb.Device { return plat.Device }}
		return r.part
	}
	p, err := platform.New(pc)
	require.NoError(t, err)
	plat = p
	r.p = p
	t.Cleanup(func() {
		_ = p.Close()
		if sim != nil {
			_ = sim.Close()
		}
	})
	var cd ffa.Conduit = p.Conduit()
	if cfg.conduit != nil {
		cd = cfg.conduit(cd)
	}
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: cd, MMIO: p.NS(), ControlArea: p.ControlArea(),
		Clock: r.clock, Idle: cfg.idle, BusyTimeout: cfg.busyTimeout, Log: r.log})
	r.chip = chip
	return r, err
}

func (r *rig) log(level, msg string) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	r.logs = append(r.logs, level+": "+msg)
}

func (r *rig) logText() string {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	return strings.Join(r.logs, "\n")
}

// extend is IMA's PCR extend through go-tpm: sha256 of s into pcr.
func extend(tpm transport.TPM, pcr int, s string) error {
	d := sha256.Sum256([]byte(s))
	_, err := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(pcr), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}},
	}.Execute(tpm)
	return err
}

// readPCR reads one sha256 PCR.
func readPCR(tpm transport.TPM, pcr int) ([]byte, error) {
	pr, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(uint(pcr))}}}}.Execute(tpm)
	if err != nil {
		return nil, err
	}
	if len(pr.PCRValues.Digests) != 1 {
		return nil, fmt.Errorf("PCR_Read returned %d digests", len(pr.PCRValues.Digests))
	}
	return pr.PCRValues.Digests[0].Buffer, nil
}

// replay computes the sha256 PCR value of extending each string's digest
// into a zero PCR, in order: what a verifier expects.
func replay(events ...string) []byte {
	pcr := make([]byte, 32)
	for _, e := range events {
		d := sha256.Sum256([]byte(e))
		h := sha256.New()
		h.Write(pcr)
		h.Write(d[:])
		pcr = h.Sum(nil)
	}
	return pcr
}
