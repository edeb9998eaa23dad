package crbtest

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/google/go-tpm/tpm2/transport"
)

// statusSlot returns the index of the DEN0138 status in a response payload.
const (
	reqStatus  = 1 // DIRECT_RESP: w4 = Args[1]
	req2Status = 0 // DIRECT_RESP2: x4 = Args[0]
)

// OKOnError wraps a partition so that every DEN0138 error status becomes
// OK: the behaviour of a partition that finds errors but does not report
// them (Arm Trusted Services' fTPM). The conformance suite must fail it.
func OKOnError(inner spmc.Handler) spmc.Handler {
	return spmc.HandlerFuncs{
		Req: func(c spmc.Call, req ffa.DirectReq) (ffa.DirectResp, error) {
			r, err := inner.DirectReq(c, req)
			if err == nil && !crb.Status(uint32(r.Args[reqStatus])).OK() {
				r.Args[reqStatus] = uint64(crb.StatusOK)
			}
			return r, err
		},
		Req2: func(c spmc.Call, req ffa.DirectReq2) (ffa.DirectResp2, error) {
			r, err := inner.DirectReq2(c, req)
			if err == nil && !crb.Status(uint32(r.Args[req2Status])).OK() {
				r.Args[req2Status] = uint64(crb.StatusOK)
			}
			return r, err
		},
	}
}

// Faults injects failures in front of a partition. Configure it, then pass
// Wrap as platform.Config.WrapHandler. Change the knobs only while no
// request is in flight; Counts is safe to call at any time.
type Faults struct {
	// BusyFirst answers FF-A BUSY to that many requests before passing
	// requests on.
	BusyFirst int
	// BusyAlways answers FF-A BUSY to every request.
	BusyAlways bool
	// AbortCommand, when n > 0, makes the n-th START(command) that finds
	// CTRL_START set abort the partition (FF-A ABORTED) after the engine
	// ran: the command executed but no response was delivered.
	AbortCommand int
	// SwallowCommands answers OK to START(command) without acting, so
	// CTRL_START is never cleared.
	SwallowCommands bool
	// Status, when nonzero, is answered (as a DEN0138 status) to every
	// START instead of passing it on.
	Status crb.Status

	mu       sync.Mutex
	calls    int
	busy     int
	commands int
}

// Counts returns how many requests arrived and how many got BUSY.
func (f *Faults) Counts() (calls, busy int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.busy
}

// decide returns the FF-A error to answer with, whether to swallow, a forced
// status, and whether to abort after running.
func (f *Faults) decide(fn, q uint64) (ffaErr error, swallow bool, st crb.Status, abort bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.BusyAlways || f.busy < f.BusyFirst {
		f.busy++
		return ffa.ErrBusy, false, 0, false
	}
	if crb.Func(fn) != crb.FuncStart {
		return nil, false, 0, false
	}
	if f.Status != 0 {
		return nil, false, f.Status, false
	}
	if crb.Qualifier(q) == crb.QualifierCommand {
		if f.SwallowCommands {
			return nil, true, 0, false
		}
		f.commands++
		if f.AbortCommand > 0 && f.commands == f.AbortCommand {
			return nil, false, 0, true
		}
	}
	return nil, false, 0, false
}

// Wrap returns the fault-injecting handler around inner.
func (f *Faults) Wrap(inner spmc.Handler) spmc.Handler {
	return spmc.HandlerFuncs{
		Req: func(c spmc.Call, req ffa.DirectReq) (ffa.DirectResp, error) {
			ferr, swallow, st, abort := f.decide(req.Args[1], req.Args[2])
			var r ffa.DirectResp
			switch {
			case ferr != nil:
				return r, ferr
			case swallow:
				r.Args[reqStatus] = uint64(crb.StatusOK)
				return r, nil
			case st != 0:
				r.Args[reqStatus] = uint64(st)
				return r, nil
			}
			r, err := inner.DirectReq(c, req)
			if abort {
				return ffa.DirectResp{}, errors.New("crbtest: partition aborted mid-command")
			}
			return r, err
		},
		Req2: func(c spmc.Call, req ffa.DirectReq2) (ffa.DirectResp2, error) {
			ferr, swallow, st, abort := f.decide(req.Args[0], req.Args[1])
			var r ffa.DirectResp2
			switch {
			case ferr != nil:
				return r, ferr
			case swallow:
				r.Args[req2Status] = uint64(crb.StatusOK)
				return r, nil
			case st != 0:
				r.Args[req2Status] = uint64(st)
				return r, nil
			}
			r, err := inner.DirectReq2(c, req)
			if abort {
				return ffa.DirectResp2{}, errors.New("crbtest: partition aborted mid-command")
			}
			return r, err
		},
	}
}

// ErrorEngine fails every command with err.
func ErrorEngine(err error) transport.TPM {
	return engine.Func(func([]byte) ([]byte, error) { return nil, err })
}

// TruncatingEngine runs commands on inner and cuts each response to n bytes
// (keeping the header's size field, which then lies).
func TruncatingEngine(inner transport.TPM, n int) transport.TPM {
	return engine.Func(func(cmd []byte) ([]byte, error) {
		rsp, err := inner.Send(cmd)
		if err != nil || len(rsp) <= n {
			return rsp, err
		}
		return rsp[:n], nil
	})
}

// RCEngine answers every command with a 10-byte response carrying rc.
func RCEngine(rc uint32) transport.TPM {
	return engine.Func(func([]byte) ([]byte, error) {
		b := make([]byte, 10)
		binary.BigEndian.PutUint16(b, 0x8001)
		binary.BigEndian.PutUint32(b[2:], 10)
		binary.BigEndian.PutUint32(b[6:], rc)
		return b, nil
	})
}

// PlatformFactory returns a Factory that builds a fresh platform.Platform
// per case from cfg (with a second normal-world endpoint, ID 1, for the
// isolation cases). Pass an Engine in cfg to share one simulator across
// cases.
func PlatformFactory(cfg platform.Config) Factory {
	return func(t T) Target {
		c := cfg
		if c.Endpoints == nil {
			c.Endpoints = []spmc.Endpoint{{ID: 0}, {ID: 1}}
		}
		p, err := platform.New(c)
		if err != nil {
			t.Errorf("platform: %v", err)
			t.FailNow()
		}
		closed := -1
		for n := crb.NumLocalities - 1; n >= 0; n-- {
			if p.Device.Closed(n) {
				closed = n
				break
			}
		}
		tg := Target{Conduit: p.Conduit(), Self: c.Endpoints[0].ID, MMIO: p.NS(), CRBBase: p.CRBBase,
			PartitionID: p.PartitionID, ClosedLocality: closed, SecureAddr: platform.DefaultSecureRAMBase,
			Close: func() { _ = p.Close() }}
		if len(c.Endpoints) > 1 {
			sc, err := p.SPMC.Conduit(c.Endpoints[1].ID)
			if err == nil {
				tg.Second = &Endpoint{Conduit: sc, ID: c.Endpoints[1].ID}
			}
		}
		return tg
	}
}

// GateEngine holds each command at the engine until the test releases it,
// once armed, so that a test can act while a command executes.
type GateEngine struct {
	Inner   transport.TPM
	Entered chan struct{} // receives when a command reaches the engine
	Release chan struct{} // send to let it run

	mu    sync.Mutex
	armed bool
}

// NewGateEngine wraps inner; the gate starts disarmed.
func NewGateEngine(inner transport.TPM) *GateEngine {
	return &GateEngine{Inner: inner, Entered: make(chan struct{}), Release: make(chan struct{})}
}

// Arm makes the next commands wait at the gate.
func (g *GateEngine) Arm(on bool) {
	g.mu.Lock()
	g.armed = on
	g.mu.Unlock()
}

// Send implements transport.TPM.
func (g *GateEngine) Send(cmd []byte) ([]byte, error) {
	g.mu.Lock()
	armed := g.armed
	g.mu.Unlock()
	if armed {
		g.Entered <- struct{}{}
		<-g.Release
	}
	return g.Inner.Send(cmd)
}
