package kerneltest

import (
	"encoding/binary"
	"testing"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rc(b []byte) uint32 { return binary.BigEndian.Uint32(b[6:]) }

func TestFakeTPMStartupSequence(t *testing.T) {
	f := &FakeTPM{}
	selftest := []byte{0x80, 0x01, 0, 0, 0, 11, 0, 0, 0x01, 0x43, 0}
	startup := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0}
	r, err := f.Send(selftest)
	require.NoError(t, err)
	assert.Equal(t, uint32(rcInitialize), rc(r), "TPM_RC_INITIALIZE before Startup")
	r, _ = f.Send(startup)
	assert.Equal(t, uint32(rcSuccess), rc(r))
	r, _ = f.Send(selftest)
	assert.Equal(t, uint32(rcSuccess), rc(r))
	r, _ = f.Send(startup)
	assert.Equal(t, uint32(rcInitialize), rc(r), "a second Startup fails")
	f.Reset()
	r, _ = f.Send(selftest)
	assert.Equal(t, uint32(rcInitialize), rc(r))
	r, _ = f.Send([]byte{1, 2})
	assert.NotEqual(t, uint32(rcSuccess), rc(r))
	assert.Equal(t, 3, f.Commands[0x143])
}

func TestFastWorldServiceErrors(t *testing.T) {
	w, _ := NewFastWorld(nil)
	call := func(fn, a0, a1 uint64) uint64 {
		out := w.Call(ffa.DirectReq2{Src: 0, Dst: 0x8001, UUID: kernel.TPMServiceUUID(), Args: [14]uint64{fn, a0, a1}}.Encode())
		r, err := ffa.DecodeDirectResp2(out)
		require.NoError(t, err)
		return r.Args[0]
	}
	assert.Equal(t, uint64(0x05000002), call(0x0f000001, 0, 0), "GET_INTERFACE_VERSION")
	assert.Equal(t, uint64(0x8e000005), call(0x0f000201, 0, 7), "locality 7: INVARG")
	assert.Equal(t, uint64(0x8e000006), call(0x0f000201, 1, 0), "nothing requested: INV_CRB_CTRL_DATA")
	assert.Equal(t, uint64(0x8e000005), call(0x0f000201, 0, 0), "command at an inactive locality: INVARG")
	assert.Equal(t, uint64(0x8e000001), call(0x0f000999, 0, 0), "unknown function: NOFUNC")
	// Wrong receiver.
	out := w.Call(ffa.DirectReq2{Src: 0, Dst: 0x8002}.Encode())
	assert.Error(t, out.Err())
	_, err := w.Read(0x1000, 4)
	assert.Error(t, err)
	assert.False(t, w.Mapped(0x1000, 4))
	assert.True(t, w.Mapped(FastCRBBase, 0x80))
}

func TestBuildTPM2Parses(t *testing.T) {
	tb, sumOK, err := kernel.ParseTPM2Table(BuildTPM2(FastCRBBase+0x40, 0x8001))
	require.NoError(t, err)
	assert.True(t, sumOK)
	assert.Equal(t, uint32(15), tb.StartMethod)
	assert.True(t, tb.HasFFAParams)
	assert.Equal(t, uint16(0x8001), tb.FFAPartitionID)
	assert.Equal(t, uint64(FastCRBBase+0x40), tb.ControlAddress)
}

func TestParseLogArea(t *testing.T) {
	b := BuildTPM2(FastCRBBase+0x40, 0x8001)
	b = append(b, make([]byte, 12)...)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
	binary.LittleEndian.PutUint32(b[64:], 0x10000)
	binary.LittleEndian.PutUint64(b[68:], 0x4200_0000)
	tb, _, err := kernel.ParseTPM2Table(b)
	require.NoError(t, err)
	assert.True(t, tb.HasLogArea)
	assert.Equal(t, uint32(0x10000), tb.LogAreaMinLength)
	assert.Equal(t, uint64(0x4200_0000), tb.LogAreaStart)
	tb, _, err = kernel.ParseTPM2Table(BuildTPM2(FastCRBBase+0x40, 0x8001))
	require.NoError(t, err)
	assert.False(t, tb.HasLogArea)
}

// FakeTPM answers TPM2_PCR_Read as Part 3 (22.4) says, well enough for
// go-tpm to parse: the selected PCRs in order, at most 8 digests, the bits
// of PCRs not returned (past the 8th, or in a bank not allocated) cleared,
// and pcrUpdateCounter counting the extends.
func TestFakeTPMPCRRead(t *testing.T) {
	f := &FakeTPM{StartedByFirmware: true}
	d := make([]byte, 32)
	for i := range d {
		d[i] = byte(i + 1)
	}
	// PCR_Extend(10, sha256: d) with an empty password session.
	ext := []byte{0x80, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x82, 0, 0, 0, 10, 0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x0B}
	ext = append(ext, d...)
	binary.BigEndian.PutUint32(ext[2:], uint32(len(ext)))
	r, err := f.Send(ext)
	require.NoError(t, err)
	require.Zero(t, rc(r))

	all := tpm2.PCClientCompatible.PCRs(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	got, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA384, PCRSelect: tpm2.PCClientCompatible.PCRs(10)}, // not allocated
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: all},
	}}}.Execute(f)
	require.NoError(t, err)
	assert.Equal(t, uint32(1), got.PCRUpdateCounter)
	require.Len(t, got.PCRValues.Digests, 8, "at most 8 digests per answer")
	for _, dg := range got.PCRValues.Digests {
		assert.Equal(t, make([]byte, 32), dg.Buffer, "PCRs 0..7 are zero")
	}
	sels := got.PCRSelectionOut.PCRSelections
	require.Len(t, sels, 2)
	assert.Equal(t, []byte{0, 0, 0}, sels[0].PCRSelect, "bank not allocated: nothing returned")
	assert.Equal(t, []byte{0xff, 0, 0}, sels[1].PCRSelect, "PCRs 8..10 did not fit")

	got, err = tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(10)}}}}.Execute(f)
	require.NoError(t, err)
	require.Len(t, got.PCRValues.Digests, 1)
	assert.Equal(t, d, got.PCRValues.Digests[0].Buffer, "the fake keeps XORs: one extend of a zero PCR reads back the digest")

	r, err = f.Send([]byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7E, 0, 0})
	require.NoError(t, err)
	assert.Equal(t, uint32(0x095), rc(r), "a truncated selection is refused")
}
