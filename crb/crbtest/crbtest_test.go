package crbtest_test

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/crbtest"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openSim(t *testing.T) *engine.Simulator {
	t.Helper()
	sim, err := engine.OpenSimulator(engine.SimulatorOptions{Seed: 7})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

func TestOurPartitionConforms(t *testing.T) {
	sim := openSim(t)
	crbtest.Run(t, crbtest.PlatformFactory(platform.Config{Engine: sim}))
}

func TestOurPartitionConformsREQOnly(t *testing.T) {
	sim := openSim(t)
	crbtest.Run(t, crbtest.PlatformFactory(platform.Config{Engine: sim, NoReq2: true, NoNotifications: true}))
}

func TestCheckRecordsNothingForUs(t *testing.T) {
	sim := openSim(t)
	assert.Empty(t, crbtest.Check(crbtest.PlatformFactory(platform.Config{Engine: sim})))
}

// TestBrokenPartitionFailsSuite proves the suite catches a partition that
// answers OK where it found an error (as Trusted Services' fTPM does).
func TestBrokenPartitionFailsSuite(t *testing.T) {
	sim := openSim(t)
	fails := crbtest.Check(crbtest.PlatformFactory(platform.Config{Engine: sim, WrapHandler: crbtest.OKOnError}))
	require.NotEmpty(t, fails)
	failed := map[string]bool{}
	for _, f := range fails {
		failed[f.Case[strings.Index(f.Case, "/")+1:]] = true
	}
	for _, c := range []string{"interface-version-mbz", "feature-unknown", "unknown-function", "start-bad-qualifier",
		"start-locality-range", "closed-locality", "command-inactive-locality", "locality-no-request",
		"relinquish-inactive", "start-ctrl-start-clear", "cmd-size-zero", "cmd-size-beyond-buffer",
		"cmd-address-outside-buffer", "buffer-address-secure-memory", "notifications", "seize-from-lower-denied", "second-endpoint-isolation"} {
		assert.True(t, failed[c], "the suite must catch the broken partition in %s", c)
	}
	for _, c := range []string{"interface-version", "state-walk", "linux-client"} {
		assert.False(t, failed[c], "%s only checks the success path", c)
	}
	t.Logf("%d failures recorded; first: %s: %s", len(fails), fails[0].Case, fails[0].Msg)
}

// machine opens a Linux-style chip over a platform with the given fault
// wrapper and engine.
func machine(t *testing.T, eng interface {
	Send([]byte) ([]byte, error)
}, wrap func(spmc.Handler) spmc.Handler) (*crbdrv.Chip, *crbdrv.VirtualClock, *[]string, error) {
	t.Helper()
	p, err := platform.New(platform.Config{Engine: eng, WrapHandler: wrap})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	clk := &crbdrv.VirtualClock{}
	logs := &[]string{}
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea(), Clock: clk,
		Log: func(l, m string) { *logs = append(*logs, l+": "+m) }})
	return chip, clk, logs, err
}

func TestFaultBusyNTimes(t *testing.T) {
	sim := openSim(t)
	f := &crbtest.Faults{}
	chip, clk, _, err := machine(t, sim, f.Wrap)
	require.NoError(t, err)
	f.BusyFirst = 100 // 100 retries x 100 us = 10 ms, well inside busy_timeout_ms
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(chip)
	require.NoError(t, err, "Linux retries BUSY within busy_timeout_ms")
	_, busy := f.Counts()
	assert.Equal(t, 100, busy)
	assert.Less(t, clk.Now().Milliseconds(), int64(2000))
}

func TestFaultBusyForever(t *testing.T) {
	sim := openSim(t)
	f := &crbtest.Faults{}
	chip, clk, logs, err := machine(t, sim, f.Wrap)
	require.NoError(t, err)
	f.BusyAlways = true
	start := clk.Now()
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(chip)
	require.Error(t, err)
	assert.Equal(t, -crb.EBUSY, crbdrv.Errno(err))
	assert.Contains(t, *logs, "warn: Busy retry timed out")
	el := clk.Now() - start
	assert.GreaterOrEqual(t, el.Milliseconds(), int64(2000))
	assert.Less(t, el.Milliseconds(), int64(2001), "gives up right after busy_timeout_ms")
}

func TestFaultAbortMidCommand(t *testing.T) {
	sim := openSim(t)
	f := &crbtest.Faults{}
	chip, _, _, err := machine(t, sim, f.Wrap)
	require.NoError(t, err)
	f.AbortCommand = 1
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(chip)
	require.Error(t, err)
	assert.Equal(t, -crbdrv.ECANCELED, crbdrv.Errno(err), "FFA ABORTED maps to -ECANCELED (ffa_to_linux_errno)")
	// The TPM still works for the next command.
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(chip)
	assert.NoError(t, err)
}

func TestFaultCtrlStartNeverCleared(t *testing.T) {
	sim := openSim(t)
	f := &crbtest.Faults{}
	chip, clk, logs, err := machine(t, sim, f.Wrap)
	require.NoError(t, err)
	f.SwallowCommands = true
	start := clk.Now()
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(chip)
	require.Error(t, err)
	assert.Equal(t, -crb.ETIME, crbdrv.Errno(err))
	assert.Contains(t, *logs, "err: Operation Timed out")
	el := clk.Now() - start
	d := crbdrv.OrdinalDuration(uint32(tpm2.TPMCCGetRandom))
	assert.GreaterOrEqual(t, el, d, "waits the ordinal duration (GetRandom: long, 2 s)")
	assert.Less(t, el, d+crbdrv.TimeoutC, "and not much longer")
}

func TestFaultEngineError(t *testing.T) {
	chip, _, logs, err := machine(t, crbtest.ErrorEngine(errors.New("engine down")), nil)
	require.NoError(t, err)
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(chip)
	require.Error(t, err)
	assert.Equal(t, -crb.EIO, crbdrv.Errno(err), "crb_recv: CTRL_STS.tpmSts -> -EIO")
	assert.Contains(t, strings.Join(*logs, "\n"), "tpm_recv: error -5")
}

func TestFaultTruncatedResponse(t *testing.T) {
	sim := openSim(t)
	chip, _, _, err := machine(t, crbtest.TruncatingEngine(sim, 6), nil)
	require.NoError(t, err)
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(chip)
	require.Error(t, err)
	assert.Equal(t, -crb.EIO, crbdrv.Errno(err))
}

func TestFaultTPMResponseCode(t *testing.T) {
	chip, _, _, err := machine(t, crbtest.RCEngine(0x101), nil) // TPM_RC_FAILURE
	require.NoError(t, err)
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(chip)
	require.Error(t, err)
	var rc tpm2.TPMRC
	require.ErrorAs(t, err, &rc, "a TPM RC reaches go-tpm as a TPM error, not a driver error")
	assert.Equal(t, tpm2.TPMRCFailure, rc)
	var de *crbdrv.Error
	assert.False(t, errors.As(err, &de))
}

// TestFaultCancelDuringCommand: while a PCR_Extend executes, another vCPU
// sets CTRL_CANCEL and calls START: the SPMC answers BUSY (the partition's
// one execution context is in use); the command completes with its own
// response, and the PCR matches what the caller was told.
func TestFaultCancelDuringCommand(t *testing.T) {
	sim := openSim(t)
	gate := crbtest.NewGateEngine(sim)
	p, err := platform.New(platform.Config{Engine: gate})
	require.NoError(t, err)
	defer p.Close()
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea()})
	require.NoError(t, err)
	d := make([]byte, 32)
	ext := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(16), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d}}},
	}
	gate.Arm(true)
	res := make(chan error, 1)
	go func() { _, err := ext.Execute(chip); res <- err }()
	<-gate.Entered
	// vCPU 2: cancel, as crb_cancel does.
	require.NoError(t, p.NS().Write(p.CRBBase+uint64(crb.RegCtrlCancel), 4, 1))
	f, err := crbdrv.NewFFA(crbdrv.FFAConfig{Messenger: crbdrv.ConduitMessenger{Conduit: p.Conduit()},
		Partition: p.Partition.SPMCPartition().Info()[0], BusyTimeout: 1})
	require.NoError(t, err)
	err = f.Start(crb.QualifierCommand, 0)
	assert.Equal(t, -crb.EBUSY, crbdrv.Errno(err), "the partition is busy with the command")
	gate.Arm(false)
	gate.Release <- struct{}{}
	require.NoError(t, <-res, "the completed command keeps its own response")
	pr, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(16)}}}}.Execute(chip)
	require.NoError(t, err)
	h := sha256.Sum256(append(make([]byte, 32), d...))
	assert.Equal(t, h[:], pr.PCRValues.Digests[0].Buffer, "PCR 16 extended exactly once")
}
