package main

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/mssim"
	"github.com/google/go-tpm/tpm2/transport"
)

// servePower is the served machine as the mssim Server sees it: the TPM
// (the current chain) and its power (mssim.Platform).
//
// With the built-in simulator, TPM_SIGNAL_POWER_OFF switches the machine
// off (commands then get an empty answer, as from the reference simulator
// when it is off) and TPM_SIGNAL_POWER_ON switches it back on, and
// TPM_SIGNAL_RESET does both: the simulator is power-cycled (_TPM_Init,
// then TPM2_Startup(CLEAR) as firmware would; PCRs are back at their reset
// values, a --boot is not re-run) and a fresh machine (SPMC, TPM partition,
// CRB, driver) is built around it, which also clears a CRB or partition
// left in an error state. TPM_SIGNAL_RESTART (resume with
// TPM2_Startup(STATE)) is not modelled. With an external engine (swtpm) the
// power signals are refused: its power is swtpm's own control channel.
type servePower struct {
	mu     sync.Mutex
	sim    *engine.Simulator // nil when the engine cannot be power-cycled
	engine transport.TPM
	name   string
	cur    *serveChainT
	off    bool
}

func newServePower(sim *engine.Simulator, eng transport.TPM, name string) (*servePower, error) {
	ch, err := serveChain(eng, name)
	if err != nil {
		return nil, err
	}
	return &servePower{sim: sim, engine: eng, name: name, cur: ch}, nil
}

// Send implements transport.TPM through the current chain.
func (p *servePower) Send(cmd []byte) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off {
		return []byte{}, nil
	}
	return p.cur.tpm.Send(cmd)
}

var errServePowerExternal = errors.New("the engine is external (swtpm): power it through swtpm's control channel")

// Signal implements mssim.Platform.
func (p *servePower) Signal(c mssim.Command) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch c {
	case mssim.SignalPowerOn:
		if !p.off {
			return nil // already on: a no-op, as in the reference
		}
		return p.cycle()
	case mssim.SignalPowerOff:
		if p.sim == nil {
			return errServePowerExternal
		}
		p.off = true
		return nil
	case mssim.SignalReset:
		if p.sim == nil {
			return errServePowerExternal
		}
		if p.off {
			return errors.New("TPM_SIGNAL_RESET while powered off")
		}
		return p.cycle()
	case mssim.SignalRestart:
		return errors.New("TPM Restart (TPM2_Startup(STATE) after TPM2_Shutdown(STATE)) is not modelled")
	}
	return fmt.Errorf("%v is not a power signal", c)
}

// cycle power-cycles the simulator and rebuilds the machine around it.
func (p *servePower) cycle() error {
	if err := p.sim.Reset(); err != nil {
		return fmt.Errorf("power-cycling the TPM simulator: %w", err)
	}
	ch, err := serveChain(p.engine, p.name)
	if err != nil {
		return fmt.Errorf("rebuilding the machine: %w", err)
	}
	p.cur.close()
	p.cur = ch
	p.off = false
	return nil
}

func (p *servePower) path() string { return p.cur.path }

func (p *servePower) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur.close()
}
