package kernel_test

import (
	"os"
	"testing"

	"github.com/ffatpm/ffatpm/crb/tpm2acpi"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFirmwareTablesParse checks the kernel's reading of the TPM2 table
// against the firmware side's builder (crb/tpm2acpi): every field the
// kernel uses agrees, with and without the log area.
func TestFirmwareTablesParse(t *testing.T) {
	for _, withLog := range []bool{false, true} {
		tb := tpm2acpi.New(0x6000_0040, 0x8001, tpm2acpi.FFAFlagNotifications)
		tb.FFA.Attributes = 3
		tb.HasLog, tb.LogMinLength, tb.LogStart = withLog, 0x10000, 0x4200_0000
		raw, err := tpm2acpi.Build(tb)
		require.NoError(t, err)
		k, sumOK, err := kernel.ParseTPM2Table(raw)
		require.NoError(t, err)
		assert.True(t, sumOK)
		assert.Equal(t, uint32(len(raw)), k.Length)
		assert.Equal(t, uint8(4), k.Revision)
		assert.Equal(t, tb.ControlArea, k.ControlAddress)
		assert.Equal(t, uint32(kernel.TPM2StartCRBARMFFA), k.StartMethod)
		assert.True(t, k.HasFFAParams)
		assert.Equal(t, tb.FFA.Flags, k.FFAFlags)
		assert.Equal(t, tb.FFA.Attributes, k.FFAAttributes)
		assert.Equal(t, tb.FFA.PartitionID, k.FFAPartitionID)
		assert.Equal(t, withLog, k.HasLogArea)
		if withLog {
			assert.Equal(t, tb.LogMinLength, k.LogAreaMinLength)
			assert.Equal(t, tb.LogStart, k.LogAreaStart)
		}
	}
	// The firmware side's stored sample parses too.
	if raw, err := os.ReadFile("../crb/tpm2acpi/testdata/tpm2-ffa.dat"); err == nil {
		_, sumOK, err := kernel.ParseTPM2Table(raw)
		require.NoError(t, err)
		assert.True(t, sumOK)
	}
}
