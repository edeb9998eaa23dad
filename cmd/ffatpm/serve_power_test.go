package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"github.com/ffatpm/ffatpm/crb/mssim"
	"github.com/ffatpm/ffatpm/crb/mssim/mssimtest"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func servePCR16(t *testing.T, c transport.TPM) []byte {
	t.Helper()
	r, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(16)}}}}.Execute(c)
	require.NoError(t, err)
	return r.PCRValues.Digests[0].Buffer
}

func serveExtend16(t *testing.T, c transport.TPM) {
	t.Helper()
	d := sha256.Sum256([]byte("power"))
	_, err := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(16), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}},
	}.Execute(c)
	require.NoError(t, err)
}

// TestServePowerSignals: with the built-in TPM, POWER_OFF switches the
// machine off (empty answers, as from the reference simulator), POWER_ON
// and RESET power-cycle the TPM and rebuild the machine (PCR 16 back to
// zero, TPM started), RESTART is refused.
func TestServePowerSignals(t *testing.T) {
	rs := startServeT(t)
	c, err := mssim.Dial(context.Background(), rs.addr, mssim.ClientConfig{PowerOn: true})
	require.NoError(t, err)
	defer c.Close()
	zero := make([]byte, 32)

	serveExtend16(t, c)
	require.NotEqual(t, zero, servePCR16(t, c))
	require.NoError(t, c.Signal(mssim.SignalPowerOn), "power-on of a powered TPM is a no-op")
	require.NotEqual(t, zero, servePCR16(t, c), "... that keeps the PCRs")

	require.NoError(t, c.Signal(mssim.SignalPowerOff))
	_, err = c.Send([]byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8})
	require.ErrorContains(t, err, "empty response")

	c2, err := mssim.Dial(context.Background(), rs.addr, mssim.ClientConfig{PowerOn: true})
	require.NoError(t, err, "tcti-mssim's POWER_ON at connect powers the machine on again")
	defer c2.Close()
	assert.Equal(t, zero, servePCR16(t, c2), "PCR 16 after a power cycle")
	_, err = tpm2.Startup{StartupType: tpm2.TPMSUClear}.Execute(c2)
	require.ErrorIs(t, err, tpm2.TPMRCInitialize, "started again as firmware would")

	serveExtend16(t, c2)
	require.NoError(t, c2.Signal(mssim.SignalReset))
	assert.Equal(t, zero, servePCR16(t, c2), "PCR 16 after TPM_SIGNAL_RESET")

	var se *mssim.SignalError
	require.ErrorAs(t, c2.Signal(mssim.SignalRestart), &se)
	assert.Contains(t, rs.stderr.String(), "TPM Restart")
	require.Equal(t, serveExitOK, rs.stop())
}

// TestServePowerSignalsExternalEngine: with swtpm behind the partition the
// power signals are refused and the TPM keeps its state.
func TestServePowerSignalsExternalEngine(t *testing.T) {
	sw := mssimtest.StartSwtpm(t)
	rs := startServeT(t, "--backend", "swtpm:"+sw)
	c, err := mssim.Dial(context.Background(), rs.addr, mssim.ClientConfig{PowerOn: true})
	require.NoError(t, err)
	defer c.Close()
	serveExtend16(t, c)
	before := servePCR16(t, c)
	for _, s := range []mssim.Command{mssim.SignalPowerOff, mssim.SignalReset, mssim.SignalRestart} {
		var se *mssim.SignalError
		require.ErrorAs(t, c.Signal(s), &se, "%v", s)
	}
	assert.True(t, bytes.Equal(before, servePCR16(t, c)))
	assert.Contains(t, rs.stderr.String(), "power it through swtpm's control channel")
}
