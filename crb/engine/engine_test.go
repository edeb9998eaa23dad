package engine

import (
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSimulatorOnePerProcess(t *testing.T) {
	s, err := OpenSimulator(SimulatorOptions{Seed: 1})
	require.NoError(t, err)
	_, err = OpenSimulator(SimulatorOptions{})
	assert.ErrorIs(t, err, ErrSimulatorInUse)

	rsp, err := tpm2.GetRandom{BytesRequested: 16}.Execute(s)
	require.NoError(t, err)
	assert.Len(t, rsp.RandomBytes.Buffer, 16)

	_, err = s.Send(nil)
	assert.Error(t, err, "empty command refused before the C code")
	_, err = s.Send([]byte{0x80, 0x01, 0, 0, 0, 99, 0, 0, 1, 0x7b})
	assert.Error(t, err, "size mismatch refused")

	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Close(), ErrClosed)
	_, err = s.Send(make([]byte, 10))
	assert.Error(t, err)

	s2, err := OpenSimulator(SimulatorOptions{})
	require.NoError(t, err, "reopen after close")
	require.NoError(t, s2.Close())
}
