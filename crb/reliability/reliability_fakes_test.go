package reliability_test

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/crbtest"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/require"
)

var tableFile = flag.String("reliability.table", "", "append each fault's observed outcome as a Markdown table row to this file (docs/reliability.md)")

// appendRow appends one Markdown table row to -reliability.table.
func appendRow(t *testing.T, cells ...string) {
	t.Helper()
	if *tableFile == "" {
		return
	}
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(strings.ReplaceAll(c, "|", "\\|"), "\n", "; ")
	}
	f, err := os.OpenFile(*tableFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer f.Close()
	_, err = fmt.Fprintf(f, "| %s |\n", strings.Join(cells, " | "))
	require.NoError(t, err)
}

// seed fixes the simulator's hierarchy seeds so that runs compare.
const seed = 0x0f0a7

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
	inj   *crbtest.Injector
	eng   *crbtest.SwitchEngine // nil unless an engine fault was asked for
	ic    *crbtest.InterruptingConduit
	chip  *crbdrv.Chip
	clock *hookClock
	logMu sync.Mutex
	logs  []string
}

type rigConfig struct {
	rule        func(crbtest.FaultRequest) crbtest.FaultAction
	faulty      func(normal transport.TPM) transport.TPM // engine while armed (PCR_Extend only)
	noReq2      bool
	idle        bool
	busyTimeout time.Duration
}

// newRig builds the machine (simulator engine, the TPM partition behind a
// crbtest.Injector, the normal world's conduit behind a
// crbtest.InterruptingConduit) and opens the chip. Faults stay disarmed
// until arm.
func newRig(t *testing.T, cfg rigConfig) (*rig, error) {
	t.Helper()
	r := &rig{t: t, clock: &hookClock{}, inj: &crbtest.Injector{Rule: cfg.rule}}
	pc := platform.Config{SimulatorSeed: seed, NoReq2: cfg.noReq2, WrapHandler: r.inj.Wrap}
	var sim *engine.Simulator
	if cfg.faulty != nil {
		s, err := engine.OpenSimulator(engine.SimulatorOptions{Seed: seed})
		require.NoError(t, err)
		sim = s
		r.eng = &crbtest.SwitchEngine{Normal: s, Faulty: cfg.faulty(s), Match: func(cc uint32) bool { return cc == ccPCRExtend }}
		pc.Engine = r.eng
	}
	p, err := platform.New(pc)
	require.NoError(t, err)
	r.p = p
	r.inj.Device = func() *crb.Device { return p.Device }
	t.Cleanup(func() {
		_ = p.Close()
		if sim != nil {
			_ = sim.Close()
		}
	})
	r.ic = &crbtest.InterruptingConduit{Inner: p.Conduit()}
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: r.ic, MMIO: p.NS(), ControlArea: p.ControlArea(),
		Clock: r.clock, Idle: cfg.idle, BusyTimeout: cfg.busyTimeout, Log: r.log})
	r.chip = chip
	return r, err
}

// ccPCRExtend is TPM_CC_PCR_Extend.
const ccPCRExtend = 0x182

func (r *rig) arm() {
	r.inj.Arm()
	if r.eng != nil {
		r.eng.Arm()
	}
}

func (r *rig) disarm() {
	r.inj.Disarm()
	if r.eng != nil {
		r.eng.Disarm()
	}
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
