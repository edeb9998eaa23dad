package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-tpm-tools/simulator"
	"github.com/google/go-tpm/tpm2/transport"
)

// Func adapts a function to transport.TPM.
type Func func(cmd []byte) ([]byte, error)

// Send calls f.
func (f Func) Send(cmd []byte) ([]byte, error) { return f(cmd) }

// ErrSimulatorInUse is returned by OpenSimulator while another Simulator of
// this process is open.
var ErrSimulatorInUse = errors.New("engine: the go-tpm-tools simulator is already open in this process (one per process)")

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("engine: simulator closed")

// simGuard records whether this package holds the process-wide simulator.
// It mirrors the simulator's own process-global state (which this package
// cannot inspect) and is the only package-level variable: it lets a second
// OpenSimulator fail instead of blocking forever.
var simGuard sync.Mutex

// Simulator is the go-tpm-tools reference TPM as a transport.TPM.
type Simulator struct {
	mu     sync.Mutex
	sim    *simulator.Simulator
	closed bool
	// scratch receives each response before it is copied out at its own
	// size: a fresh 4 KiB slice per command cost more (allocation and
	// clearing) than the TPM work of a small command.
	scratch [maxResponse]byte
}

// maxResponse is the simulator's MAX_RESPONSE_SIZE (4096 in the reference
// implementation's TpmProfile.h).
const maxResponse = 4096

// SimulatorOptions choose how the simulator starts.
type SimulatorOptions struct {
	// Seed, when non-zero, derives the hierarchy seeds from it (go-tpm-tools'
	// GetWithFixedSeedInsecure), so keys created from templates are the same
	// on every run. Test use only.
	Seed int64
}

// OpenSimulator starts the simulator (manufactured, powered on, after
// TPM2_Startup(CLEAR)). Close it to let the next caller open it.
func OpenSimulator(opt SimulatorOptions) (*Simulator, error) {
	if !simGuard.TryLock() {
		return nil, ErrSimulatorInUse
	}
	var (
		s   *simulator.Simulator
		err error
	)
	if opt.Seed != 0 {
		s, err = simulator.GetWithFixedSeedInsecure(opt.Seed)
	} else {
		s, err = simulator.Get()
	}
	if err != nil {
		simGuard.Unlock()
		return nil, fmt.Errorf("engine: open simulator: %w", err)
	}
	return &Simulator{sim: s}, nil
}

// Send runs one command. A command shorter than a TPM header, or whose
// header size disagrees with its length, is refused with an error (the
// simulator's C code would misbehave on it).
func (s *Simulator) Send(cmd []byte) ([]byte, error) {
	if err := CheckCommand(cmd); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if _, err := s.sim.Write(cmd); err != nil {
		return nil, fmt.Errorf("engine: simulator: %w", err)
	}
	n, err := s.sim.Read(s.scratch[:])
	if err != nil {
		return nil, fmt.Errorf("engine: simulator read: %w", err)
	}
	// The caller owns the response (go-tpm may keep slices of it), so it
	// gets a copy of exactly the bytes the TPM wrote.
	return append([]byte(nil), s.scratch[:n]...), nil
}

// Reset power-cycles the TPM (TPM2_Shutdown, _TPM_Init, TPM2_Startup).
func (s *Simulator) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.sim.Reset()
}

// ManufactureReset wipes the TPM as on first manufacture, then starts it.
func (s *Simulator) ManufactureReset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.sim.ManufactureReset()
}

// Close shuts the simulator down and releases it for the next OpenSimulator.
func (s *Simulator) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.closed = true
	err := s.sim.Close()
	simGuard.Unlock()
	return err
}

var _ transport.TPMCloser = (*Simulator)(nil)

// CheckCommand checks the 10-byte TPM command header: tag, commandSize equal
// to len(cmd).
func CheckCommand(cmd []byte) error {
	if len(cmd) < 10 {
		return fmt.Errorf("engine: command of %d bytes is shorter than a TPM header", len(cmd))
	}
	if n := binary.BigEndian.Uint32(cmd[2:6]); n != uint32(len(cmd)) {
		return fmt.Errorf("engine: command header says %d bytes, got %d", n, len(cmd))
	}
	return nil
}
