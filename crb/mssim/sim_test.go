package mssim

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/crb/mssim/mssimtest"
	"github.com/google/go-tpm-tools/client"
	"github.com/google/go-tpm-tools/simulator"
	legacy "github.com/google/go-tpm/legacy/tpm2"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/tcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The go-tpm-tools simulator is one per process: these tests do not run in
// parallel.

func openSim(t testing.TB) transport.TPM {
	t.Helper()
	sim, err := simulator.Get()
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	return transport.FromReadWriteCloser(sim)
}

func pcrSel(idx ...uint) tpm2.TPMLPCRSelection {
	return tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(idx...)}}}
}

// TestSimulatorOverMssim: the reference TPM behind the Server, reached by
// this package's Client, go-tpm's own tcp transport and go-tpm-tools'
// client package.
func TestSimulatorOverMssim(t *testing.T) {
	sim := openSim(t)
	started, err := EnsureStarted(sim)
	require.NoError(t, err)
	assert.False(t, started, "go-tpm-tools starts its simulator itself")
	ts := startServer(t, Config{TPM: sim})

	c, err := Dial(context.Background(), ts.addr, ClientConfig{PowerOn: true})
	require.NoError(t, err)
	defer c.Close()

	t.Run("client Startup gets TPM_RC_INITIALIZE", func(t *testing.T) {
		_, err := tpm2.Startup{StartupType: tpm2.TPMSUClear}.Execute(c)
		require.ErrorIs(t, err, tpm2.TPMRCInitialize)
	})
	t.Run("GetRandom", func(t *testing.T) {
		r, err := tpm2.GetRandom{BytesRequested: 32}.Execute(c)
		require.NoError(t, err)
		assert.Len(t, r.RandomBytes.Buffer, 32)
	})
	t.Run("PCR_Extend then PCR_Read", func(t *testing.T) {
		before, err := tpm2.PCRRead{PCRSelectionIn: pcrSel(16)}.Execute(c)
		require.NoError(t, err)
		d := sha256.Sum256([]byte("ffatpm"))
		_, err = tpm2.PCRExtend{
			PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(16), Auth: tpm2.PasswordAuth(nil)},
			Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}},
		}.Execute(c)
		require.NoError(t, err)
		after, err := tpm2.PCRRead{PCRSelectionIn: pcrSel(16)}.Execute(c)
		require.NoError(t, err)
		want := sha256.Sum256(append(append([]byte{}, before.PCRValues.Digests[0].Buffer...), d[:]...))
		assert.Equal(t, want[:], after.PCRValues.Digests[0].Buffer)
	})
	t.Run("go-tpm-tools client reads PCRs and creates a key", func(t *testing.T) {
		rw := ReadWriter(c)
		pcrs, err := client.ReadPCRs(rw, legacy.PCRSelection{Hash: legacy.AlgSHA256, PCRs: []int{0, 7, 16}})
		require.NoError(t, err)
		assert.Len(t, pcrs.GetPcrs(), 3)
		k, err := client.AttestationKeyECC(rw)
		require.NoError(t, err)
		defer k.Close()
		assert.NotNil(t, k.PublicKey())
		sig, err := k.SignData([]byte("hello"))
		require.NoError(t, err)
		assert.NotEmpty(t, sig)
	})
	t.Run("go-tpm tcp transport", func(t *testing.T) {
		g, err := tcp.Open(tcp.Config{CommandAddress: ts.addr, PlatformAddress: ts.plat})
		require.NoError(t, err)
		defer g.Close()
		require.NoError(t, g.PowerOn())
		r, err := tpm2.GetRandom{BytesRequested: 8}.Execute(g)
		require.NoError(t, err)
		assert.Len(t, r.RandomBytes.Buffer, 8)
		assert.Error(t, g.PowerOff(), "power-off is refused while served")
	})
}

// TestTPM2ToolsAgainstServer runs tpm2-tools with the mssim TCTI against the
// Server in front of the simulator (protocol-level interop; the
// whole-chain version is in cmd/ffatpm).
func TestTPM2ToolsAgainstServer(t *testing.T) {
	mssimtest.NeedTool(t, "tpm2_startup")
	sim := openSim(t)
	ts := startServer(t, Config{TPM: sim})
	_, port, _ := strings.Cut(ts.addr, "127.0.0.1:")
	mssimtest.RunTPM2Tools(t, "mssim:host=127.0.0.1,port="+port, t.TempDir())
	assert.Zero(t, ts.srv.Stats().Malformed)
	assert.Zero(t, ts.srv.Stats().BackendErrors)
}
