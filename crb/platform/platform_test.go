package platform

import (
	"testing"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/tpm2acpi"
	"github.com/ffatpm/ffatpm/ffa/phys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultMachine(t *testing.T) {
	p, err := New(Config{})
	require.NoError(t, err)
	assert.Equal(t, DefaultCRBBase+0x40, p.ControlArea())
	assert.EqualValues(t, 0x8001, p.PartitionID)
	b, err := p.TPM2Table()
	require.NoError(t, err)
	tb, err := tpm2acpi.Parse(b)
	require.NoError(t, err)
	assert.Equal(t, p.ControlArea(), tb.ControlArea)
	assert.Equal(t, uint16(p.PartitionID), tb.FFA.PartitionID)
	assert.Equal(t, tpm2acpi.StartMethodCRBWithArmFFA, tb.StartMethod)

	// The normal world reaches the CRB but not the partition's memory.
	v, err := p.NS().Read(p.CRBBase+uint64(crb.RegCtrlSts), 4)
	require.NoError(t, err)
	assert.Equal(t, uint64(crb.CtrlStsTPMIdle), v)
	_, err = p.NS().Read(DefaultSecureRAMBase, 8)
	var ae *phys.AccessError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, phys.ReasonSecurity, ae.Reason)

	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "second Close is a no-op")
	p2, err := New(Config{})
	require.NoError(t, err, "the simulator is free again after Close")
	require.NoError(t, p2.Close())
}
