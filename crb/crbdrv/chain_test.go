package crbdrv_test

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const seed = 0x5eed

// script runs GetRandom, PCR_Extend, PCR_Read and CreatePrimary and returns
// what a caller can compare.
func script(t *testing.T, tpm transport.TPM) (rnd int, pcr []byte, pub []byte) {
	t.Helper()
	gr, err := tpm2.GetRandom{BytesRequested: 32}.Execute(tpm)
	require.NoError(t, err)
	d := sha256.Sum256([]byte("ffatpm"))
	_, err = tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(16), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}},
	}.Execute(tpm)
	require.NoError(t, err)
	pr, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(16)}}}}.Execute(tpm)
	require.NoError(t, err)
	require.Len(t, pr.PCRValues.Digests, 1)
	cp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(tpm)
	require.NoError(t, err)
	_, err = tpm2.FlushContext{FlushHandle: cp.ObjectHandle}.Execute(tpm)
	require.NoError(t, err)
	return len(gr.RandomBytes.Buffer), pr.PCRValues.Digests[0].Buffer, cp.OutPublic.Bytes()
}

// TestChainMatchesDirect runs the same go-tpm code directly on the
// simulator and through ffa -> spmc -> TPM partition -> crb -> simulator.
func TestChainMatchesDirect(t *testing.T) {
	sim, err := engine.OpenSimulator(engine.SimulatorOptions{Seed: seed})
	require.NoError(t, err)
	dRnd, dPCR, dPub := script(t, sim)
	require.NoError(t, sim.Close())

	for _, mode := range []struct {
		name   string
		noReq2 bool
		idle   bool
	}{{"req2", false, false}, {"req", true, false}, {"req2-idle", false, true}} {
		t.Run(mode.name, func(t *testing.T) {
			p, err := platform.New(platform.Config{SimulatorSeed: seed, NoReq2: mode.noReq2})
			require.NoError(t, err)
			defer p.Close()
			var logs []string
			chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea(),
				Idle: mode.idle, Log: func(l, m string) { logs = append(logs, l+": "+m) }})
			require.NoError(t, err)
			assert.Equal(t, !mode.noReq2, chip.FFA().UsesReq2())
			assert.Contains(t, logs, "info: ABI version 1.0")
			cRnd, cPCR, cPub := script(t, chip)
			assert.Equal(t, dRnd, cRnd)
			assert.True(t, bytes.Equal(dPCR, cPCR), "PCR 16 after the same extend")
			assert.Equal(t, dPub, cPub, "CreatePrimary with the same seed gives the same key")
		})
	}
}

// TestConcurrentCommands issues commands from several goroutines (vCPUs)
// through one chip, as kernel threads share one tpm_chip: every command
// succeeds and the final PCR equals a serial run's.
func TestConcurrentCommands(t *testing.T) {
	p, err := platform.New(platform.Config{SimulatorSeed: seed})
	require.NoError(t, err)
	defer p.Close()
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea()})
	require.NoError(t, err)
	const workers, each = 8, 10
	d := sha256.Sum256([]byte("same digest"))
	ext := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(23), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}},
	}
	errs := make(chan error, workers*each)
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < each; i++ {
				_, err := ext.Execute(chip)
				errs <- err
			}
			done <- struct{}{}
		}()
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// Serial expectation: PCR23 extended workers*each times with d.
	want := make([]byte, 32)
	for i := 0; i < workers*each; i++ {
		h := sha256.New()
		h.Write(want)
		h.Write(d[:])
		want = h.Sum(nil)
	}
	pr, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(23)}}}}.Execute(chip)
	require.NoError(t, err)
	assert.Equal(t, want, pr.PCRValues.Digests[0].Buffer)
}

func TestChipErrors(t *testing.T) {
	p, err := platform.New(platform.Config{SimulatorSeed: seed})
	require.NoError(t, err)
	defer p.Close()
	var logs []string
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea(),
		Log: func(l, m string) { logs = append(logs, l+": "+m) }})
	require.NoError(t, err)
	assert.Equal(t, 0xF80, chip.BufferSize())

	big := make([]byte, 0x1000)
	big[0], big[1], big[2], big[3], big[4], big[5] = 0x80, 0x01, 0, 0, 0x10, 0
	_, err = chip.Send(big)
	assert.Equal(t, -crb.E2BIG, crbdrv.Errno(err), "crb_send: larger than the command buffer")
	assert.Contains(t, logs, "err: invalid command count value 4096 3968")

	_, err = chip.Send([]byte{1, 2, 3})
	assert.Equal(t, -crb.EINVAL, crbdrv.Errno(err))

	// The locality was relinquished after the failed send: the next works.
	_, err = tpm2.GetRandom{BytesRequested: 4}.Execute(chip)
	assert.NoError(t, err)
	assert.Equal(t, uint64(0), mustRead(t, p, crb.RegLocState)&uint64(crb.LocStateLocAssigned))

	// A chip that was never initialised refuses commands.
	f := chip.FFA()
	raw, err := crbdrv.NewChip(crbdrv.ChipConfig{MMIO: p.NS(), ControlArea: p.ControlArea(), FFA: f})
	require.NoError(t, err)
	_, err = raw.Send(make([]byte, 10))
	assert.Equal(t, -crb.ENODEV, crbdrv.Errno(err))
	_, err = crbdrv.NewChip(crbdrv.ChipConfig{MMIO: p.NS(), ControlArea: 0x10, FFA: f})
	assert.Error(t, err)
}

func mustRead(t *testing.T, p *platform.Platform, r crb.Reg) uint64 {
	v, err := p.NS().Read(p.CRBBase+uint64(r), 4)
	require.NoError(t, err)
	return v
}

// TestLocalityHeldByAnotherDriver: another driver holds locality 1. Linux's
// request poll only checks locAssigned, so tpm_crb goes on, the command
// at locality 0 is refused (DEN0138 INVARG -> -EINVAL), and the relinquish
// poll times out after TIMEOUT_C because locality 1 stays assigned.
func TestLocalityHeldByAnotherDriver(t *testing.T) {
	p, err := platform.New(platform.Config{SimulatorSeed: seed})
	require.NoError(t, err)
	defer p.Close()
	clk := &crbdrv.VirtualClock{}
	var logs []string
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea(), Clock: clk,
		Log: func(l, m string) { logs = append(logs, l+": "+m) }})
	require.NoError(t, err)
	// The other driver takes locality 1.
	require.NoError(t, p.NS().Write(p.CRBBase+crb.LocalityStride+uint64(crb.RegLocCtrl), 4, uint64(crb.LocCtrlRequestAccess)))
	require.NoError(t, chip.FFA().Start(crb.QualifierLocalityRequest, 1))

	start := clk.Now()
	_, err = tpm2.GetRandom{BytesRequested: 4}.Execute(chip)
	assert.Equal(t, -crb.EINVAL, crbdrv.Errno(err))
	var st crb.Status
	require.ErrorAs(t, err, &st)
	assert.Equal(t, crb.StatusInvArg, st)
	assert.Contains(t, logs, "warn: TPM_LOC_STATE_x.Relinquish timed out")
	assert.Equal(t, crbdrv.TimeoutC, clk.Now()-start, "one TIMEOUT_C spent in the relinquish poll")
	assert.Equal(t, 1, p.Device.ActiveLocality(), "locality 1 untouched")
}

// TestRetryRC: the TPM core resends a command answered TPM2_RC_RETRY with
// doubling delays from 20 ms and gives up with "in retry loop" once the
// next delay would pass TPM2_DURATION_LONG; the caller then sees RC_RETRY.
func TestRetryRC(t *testing.T) {
	var calls int
	eng := engine.Func(func(cmd []byte) ([]byte, error) {
		calls++
		b := make([]byte, 10)
		b[0], b[1], b[5] = 0x80, 0x01, 10
		b[8], b[9] = 0x09, 0x22 // TPM2_RC_RETRY
		return b, nil
	})
	p, err := platform.New(platform.Config{Engine: eng})
	require.NoError(t, err)
	defer p.Close()
	clk := &crbdrv.VirtualClock{}
	var logs []string
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea(), Clock: clk,
		Log: func(l, m string) { logs = append(logs, l+": "+m) }})
	require.NoError(t, err)
	calls = 0
	start := clk.Now()
	_, err = tpm2.GetRandom{BytesRequested: 4}.Execute(chip)
	var rc tpm2.TPMRC
	require.ErrorAs(t, err, &rc)
	assert.Equal(t, tpm2.TPMRCRetry, rc)
	assert.Equal(t, 8, calls, "delays 20..1280 ms between 8 tries")
	assert.Equal(t, 2540*time.Millisecond, clk.Now()-start)
	assert.Contains(t, logs, "err: in retry loop")
}
