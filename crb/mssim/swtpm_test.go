package mssim

import (
	"context"
	"testing"

	"github.com/ffatpm/ffatpm/crb/mssim/mssimtest"
	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/require"
)

// TestClientAgainstSwtpm drives swtpm's socket mode with this package's
// Client: swtpm accepts TPM_SEND_COMMAND framing on its server port.
func TestClientAgainstSwtpm(t *testing.T) {
	addr := mssimtest.StartSwtpm(t)
	c, err := Dial(context.Background(), addr, ClientConfig{NoPlatform: true})
	require.NoError(t, err)
	defer c.Close()

	rnd, err := tpm2.GetRandom{BytesRequested: 16}.Execute(c)
	require.NoError(t, err)
	require.Len(t, rnd.RandomBytes.Buffer, 16)

	_, err = tpm2.Startup{StartupType: tpm2.TPMSUClear}.Execute(c)
	require.ErrorIs(t, err, tpm2.TPMRCInitialize, "swtpm was started with startup-clear")

	sel := tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(16)}}}
	pr, err := tpm2.PCRRead{PCRSelectionIn: sel}.Execute(c)
	require.NoError(t, err)
	require.Len(t, pr.PCRValues.Digests, 1)
	require.Equal(t, make([]byte, 32), pr.PCRValues.Digests[0].Buffer)
}
