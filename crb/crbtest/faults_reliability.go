package crbtest

// Fault injectors the reliability tests need beyond Faults: FF-A error
// statuses other than BUSY (RETRY, INTERRUPTED), a partition abort before
// the TPM acts, faults armed and disarmed around one operation, FFA_INTERRUPT
// from the SPMC, and engines that fail only while armed.

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/google/go-tpm/tpm2/transport"
)

// FaultAction is what an Injector does with one DEN0138 request.
type FaultAction uint8

// Fault actions.
const (
	FaultPass        FaultAction = iota // hand the request to the partition
	FaultBusy                           // FFA_ERROR(BUSY)
	FaultRetry                          // FFA_ERROR(RETRY)
	FaultInterrupted                    // FFA_ERROR(INTERRUPTED)
	FaultAbortBefore                    // partition abort (FFA_ERROR(ABORTED)) before the TPM acts
	FaultAbortAfter                     // the partition acts, then aborts: the answer is lost
	FaultSwallow                        // answer OK and do nothing (CTRL_START, CTRL_REQ stay set)
)

func (a FaultAction) String() string {
	switch a {
	case FaultPass:
		return "pass"
	case FaultBusy:
		return "busy"
	case FaultRetry:
		return "retry"
	case FaultInterrupted:
		return "interrupted"
	case FaultAbortBefore:
		return "abort-before"
	case FaultAbortAfter:
		return "abort-after"
	case FaultSwallow:
		return "swallow"
	}
	return fmt.Sprintf("FaultAction(%d)", uint8(a))
}

// FaultRequest is what an Injector's rule sees of one request.
type FaultRequest struct {
	Seq       int // 0-based count of requests seen while armed
	Func      crb.Func
	Qualifier crb.Qualifier
	Locality  int
	// StartSet: CTRL_START of that locality was set when the request
	// arrived (START(command) then runs a TPM command); known only when the
	// Injector has a Device.
	StartSet bool
}

// IsCommand reports whether the request makes the TPM run a command.
func (r FaultRequest) IsCommand() bool {
	return r.Func == crb.FuncStart && r.Qualifier == crb.QualifierCommand && r.StartSet
}

// IsCtrlReq reports whether the request is a START(command) for a cmdReady
// or goIdle request (CTRL_START clear).
func (r FaultRequest) IsCtrlReq() bool {
	return r.Func == crb.FuncStart && r.Qualifier == crb.QualifierCommand && !r.StartSet
}

// ErrInjectedAbort is the error an Injector's partition aborts with (the
// SPMC turns it into FFA_ERROR(ABORTED)).
var ErrInjectedAbort = errors.New("crbtest: injected partition abort")

// Injector wraps a partition handler and applies Rule to each request while
// armed; disarmed, every request passes. Use Wrap as
// platform.Config.WrapHandler and set Device (after platform.New) so rules can
// tell a command from a cmdReady/goIdle request.
type Injector struct {
	Rule   func(FaultRequest) FaultAction
	Device func() *crb.Device

	armed atomic.Bool
	mu    sync.Mutex
	seq   int
	log   []string
}

// Arm starts applying Rule (the request count restarts at 0).
func (in *Injector) Arm() {
	in.mu.Lock()
	in.seq = 0
	in.mu.Unlock()
	in.armed.Store(true)
}

// Disarm stops applying Rule.
func (in *Injector) Disarm() { in.armed.Store(false) }

// Log returns "func/qualifier -> action" for every armed request.
func (in *Injector) Log() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.log...)
}

func (in *Injector) decide(fn, q, loc uint64) FaultAction {
	if !in.armed.Load() || in.Rule == nil {
		return FaultPass
	}
	r := FaultRequest{Func: crb.Func(uint32(fn)), Qualifier: crb.Qualifier(uint32(q)), Locality: int(loc)}
	if r.Func == crb.FuncStart && loc < crb.NumLocalities && in.Device != nil {
		if d := in.Device(); d != nil {
			r.StartSet = d.Snapshot(int(loc)).Start&crb.CtrlStartInvoke != 0
		}
	}
	in.mu.Lock()
	r.Seq = in.seq
	in.seq++
	in.mu.Unlock()
	a := in.Rule(r)
	in.mu.Lock()
	in.log = append(in.log, fmt.Sprintf("%v/%v -> %v", r.Func, r.Qualifier, a))
	in.mu.Unlock()
	return a
}

func (a FaultAction) ffaError() error {
	switch a {
	case FaultBusy:
		return ffa.ErrBusy
	case FaultRetry:
		return ffa.ErrRetry
	case FaultInterrupted:
		return ffa.ErrInterrupted
	}
	return ErrInjectedAbort
}

// Wrap returns the injecting handler around inner.
func (in *Injector) Wrap(inner spmc.Handler) spmc.Handler {
	return spmc.HandlerFuncs{
		Req: func(c spmc.Call, req ffa.DirectReq) (ffa.DirectResp, error) {
			switch a := in.decide(req.Args[1], req.Args[2], req.Args[3]); a {
			case FaultPass:
				return inner.DirectReq(c, req)
			case FaultSwallow:
				var r ffa.DirectResp
				r.Args[reqStatus] = uint64(crb.StatusOK)
				return r, nil
			case FaultAbortAfter:
				_, _ = inner.DirectReq(c, req)
				return ffa.DirectResp{}, ErrInjectedAbort
			default:
				return ffa.DirectResp{}, a.ffaError()
			}
		},
		Req2: func(c spmc.Call, req ffa.DirectReq2) (ffa.DirectResp2, error) {
			switch a := in.decide(req.Args[0], req.Args[1], req.Args[2]); a {
			case FaultPass:
				return inner.DirectReq2(c, req)
			case FaultSwallow:
				var r ffa.DirectResp2
				r.Args[req2Status] = uint64(crb.StatusOK)
				return r, nil
			case FaultAbortAfter:
				_, _ = inner.DirectReq2(c, req)
				return ffa.DirectResp2{}, ErrInjectedAbort
			default:
				return ffa.DirectResp2{}, a.ffaError()
			}
		},
	}
}

// InterruptingConduit stands for an SPMC whose secure interrupt preempts the
// partition: while armed, each of the next N direct requests is answered
// FFA_INTERRUPT; the caller's FFA_RUN then resumes the partition, which
// answers the request.
type InterruptingConduit struct {
	Inner ffa.Conduit

	mu      sync.Mutex
	n       int
	pending []ffa.Frame
	runs    int
}

// Interrupt makes the next n direct requests come back as FFA_INTERRUPT.
func (c *InterruptingConduit) Interrupt(n int) {
	c.mu.Lock()
	c.n = n
	c.mu.Unlock()
}

// Runs returns how many FFA_RUN calls resumed a request.
func (c *InterruptingConduit) Runs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs
}

// Call implements ffa.Conduit.
func (c *InterruptingConduit) Call(f ffa.Frame) ffa.Frame {
	switch f.Func() {
	case ffa.FuncMsgSendDirectReq, ffa.FuncMsgSendDirectReq64, ffa.FuncMsgSendDirectReq2:
		c.mu.Lock()
		if c.n > 0 {
			c.n--
			c.pending = append(c.pending, f)
			c.mu.Unlock()
			// w1: the preempted receiver's ID (vCPU 0).
			return ffa.Frame{uint64(ffa.FuncInterrupt), f[1] & 0xffff}
		}
		c.mu.Unlock()
	case ffa.FuncRun:
		c.mu.Lock()
		if len(c.pending) > 0 {
			p := c.pending[0]
			c.pending = c.pending[1:]
			c.runs++
			c.mu.Unlock()
			return c.Inner.Call(p)
		}
		c.mu.Unlock()
	}
	return c.Inner.Call(f)
}

// SwitchEngine runs commands on Normal, or, while armed and Match accepts
// the command code (nil Match: every command), on Faulty.
type SwitchEngine struct {
	Normal transport.TPM
	Faulty transport.TPM
	Match  func(cc uint32) bool

	armed atomic.Bool
	hits  atomic.Int64
}

// Arm routes matching commands to Faulty.
func (s *SwitchEngine) Arm() { s.armed.Store(true) }

// Disarm routes every command to Normal.
func (s *SwitchEngine) Disarm() { s.armed.Store(false) }

// Hits returns how many commands went to Faulty.
func (s *SwitchEngine) Hits() int { return int(s.hits.Load()) }

// Send implements transport.TPM.
func (s *SwitchEngine) Send(cmd []byte) ([]byte, error) {
	if s.armed.Load() {
		var cc uint32
		if len(cmd) >= 10 {
			cc = uint32(cmd[6])<<24 | uint32(cmd[7])<<16 | uint32(cmd[8])<<8 | uint32(cmd[9])
		}
		if s.Match == nil || s.Match(cc) {
			s.hits.Add(1)
			return s.Faulty.Send(cmd)
		}
	}
	return s.Normal.Send(cmd)
}
