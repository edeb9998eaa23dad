package imatest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/simulator"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// SoftTPM is a software PCR bank set implementing ima.RootOfTrust with the
// TPM's rules (24 PCRs, default index 10, boot_aggregate over PCR0..7 or
// 0..9). FailExtend makes every Extend fail with ErrInjected.
type SoftTPM struct {
	mu         sync.Mutex
	banks      []hashalg.Alg
	pcrs       map[hashalg.Alg]*[ima.TPMPCRs][]byte
	FailExtend bool
	// ExtendErr is the error a failing Extend returns; nil means ErrInjected.
	ExtendErr error
	// FailRead makes Read of these registers fail with ErrInjected.
	FailRead map[int]bool
	Extends  int
}

// ErrInjected is the error SoftTPM returns when told to fail.
var ErrInjected = errors.New("imatest: injected failure")

// NewSoftTPM returns zeroed banks for algs.
func NewSoftTPM(algs ...hashalg.Alg) *SoftTPM {
	s := &SoftTPM{banks: algs, pcrs: map[hashalg.Alg]*[ima.TPMPCRs][]byte{}}
	for _, a := range algs {
		var p [ima.TPMPCRs][]byte
		for i := range p {
			p[i] = make([]byte, a.Size())
		}
		s.pcrs[a] = &p
	}
	return s
}

// Name implements ima.RootOfTrust.
func (s *SoftTPM) Name() string { return "tpm" }

// Banks implements ima.RootOfTrust.
func (s *SoftTPM) Banks() []hashalg.Alg { return append([]hashalg.Alg(nil), s.banks...) }

// DefaultIndex implements ima.RootOfTrust.
func (s *SoftTPM) DefaultIndex() int { return ima.DefaultPCR }

// BootAggregateIndices implements ima.RootOfTrust.
func (s *SoftTPM) BootAggregateIndices(a hashalg.Alg) []int { return ima.TPMBootAggregateIndices(a) }

// Extend implements ima.RootOfTrust.
func (s *SoftTPM) Extend(index int, ds []hashalg.Digest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.FailExtend {
		if s.ExtendErr != nil {
			return s.ExtendErr
		}
		return ErrInjected
	}
	if index < 0 || index >= ima.TPMPCRs {
		return fmt.Errorf("imatest: PCR %d out of range", index)
	}
	for _, b := range s.banks {
		d, ok := hashalg.Find(ds, b)
		if !ok || len(d) != b.Size() {
			return fmt.Errorf("imatest: missing or bad %v digest", b)
		}
		s.pcrs[b][index] = b.Extend(s.pcrs[b][index], d)
	}
	s.Extends++
	return nil
}

// Read implements ima.RootOfTrust.
func (s *SoftTPM) Read(index int, a hashalg.Alg) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pcrs[a]
	if !ok {
		return nil, fmt.Errorf("imatest: no %v bank", a)
	}
	if s.FailRead[index] {
		return nil, ErrInjected
	}
	if index < 0 || index >= ima.TPMPCRs {
		return nil, fmt.Errorf("imatest: PCR %d out of range", index)
	}
	return append([]byte(nil), p[index]...), nil
}

// Simulator opens the go-tpm-tools simulator (one per process: callers
// must not run in parallel), starts it up and closes it at cleanup.
func Simulator(tb testing.TB) transport.TPM {
	tb.Helper()
	sim, err := simulator.OpenSimulator()
	if err != nil {
		tb.Fatalf("open simulator: %v", err)
	}
	tb.Cleanup(func() { sim.Close() })
	return sim
}

// Startup sends TPM2_Startup(CLEAR) and ignores TPM_RC_INITIALIZE (already started).
func Startup(t transport.TPM) error {
	_, err := tpm2.Startup{StartupType: tpm2.TPMSUClear}.Execute(t)
	if err != nil && !errors.Is(err, tpm2.TPMRCInitialize) {
		return err
	}
	return nil
}

// NeedTool returns the path of a peer tool. When it is missing the test is
// skipped, unless CI=true, where a missing tool fails the test.
func NeedTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is required under CI=true but is not installed: %v", name, err)
	}
	tb.Skipf("%s not installed: %v", name, err)
	return ""
}
