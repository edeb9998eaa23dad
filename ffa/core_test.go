package ffa_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa"
)

// The TPM service UUID packs as Linux packs it (specs.md, DEN0138 UUID).
func TestUUIDLinuxPacking(t *testing.T) {
	u := ffa.MustParseUUID("17b862a4-1806-4faf-86b3-089a58353861")
	assert.Equal(t, [4]uint32{0xa462b817, 0xaf4f0618, 0x9a08b386, 0x61383558}, u.Regs())
	assert.Equal(t, u, ffa.UUIDFromRegs(u.Regs()))
	r := u.Regs64()
	assert.Equal(t, uint64(0xaf4f0618a462b817), r[0])
	assert.Equal(t, uint64(0x613835589a08b386), r[1])
	assert.Equal(t, u, ffa.UUIDFromRegs64(r[0], r[1]))
	assert.Equal(t, "17b862a4-1806-4faf-86b3-089a58353861", u.String())
	assert.True(t, ffa.NilUUID.IsNil())
	assert.False(t, u.IsNil())
}

func TestParseUUIDErrors(t *testing.T) {
	for _, s := range []string{"", "17b862a4-1806-4faf-86b3-089a5835386", "17b862a4x1806-4faf-86b3-089a58353861",
		"17b862a4-1806-4faf-86b3-089a5835386g"} {
		_, err := ffa.ParseUUID(s)
		assert.Error(t, err, s)
	}
	assert.Panics(t, func() { ffa.MustParseUUID("nope") })
}

func TestVersion(t *testing.T) {
	assert.Equal(t, ffa.Version(0x10002), ffa.Version1_2)
	assert.Equal(t, "1.2", ffa.Version1_2.String())
	assert.Equal(t, uint16(1), ffa.Version1_2.Major())
	assert.Equal(t, uint16(2), ffa.Version1_2.Minor())
	assert.Equal(t, ffa.Version1_1, ffa.MakeVersion(1, 1))
	assert.False(t, ffa.Version(1<<31|0x10002).Valid())
	cases := []struct {
		callee, caller ffa.Version
		ok             bool
	}{
		{ffa.Version1_2, ffa.Version1_0, true},
		{ffa.Version1_2, ffa.Version1_2, true},
		{ffa.Version1_1, ffa.Version1_2, false},
		{ffa.Version1_2, ffa.MakeVersion(2, 0), false},
		{ffa.Version1_2, ffa.MakeVersion(0, 9), false},
		{ffa.Version1_2, ffa.Version(1<<31 | 0x10000), false},
	}
	for _, c := range cases {
		assert.Equal(t, c.ok, c.callee.CompatibleWith(c.caller), "%v serves %v", c.callee, c.caller)
	}
}

func TestStatus(t *testing.T) {
	want := map[ffa.Status]string{
		ffa.ErrNotSupported: "NOT_SUPPORTED", ffa.ErrInvalidParameters: "INVALID_PARAMETERS",
		ffa.ErrNoMemory: "NO_MEMORY", ffa.ErrBusy: "BUSY", ffa.ErrInterrupted: "INTERRUPTED",
		ffa.ErrDenied: "DENIED", ffa.ErrRetry: "RETRY", ffa.ErrAborted: "ABORTED",
		ffa.ErrNoData: "NO_DATA", ffa.ErrNotReady: "NOT_READY",
	}
	for i, s := range ffa.Statuses() {
		assert.Equal(t, ffa.Status(-1-i), s)
		assert.Equal(t, want[s], s.String())
		assert.True(t, s.Known())
	}
	assert.EqualError(t, ffa.ErrBusy, "ffa: BUSY (-4)")
	assert.Equal(t, -95, ffa.ErrNotSupported.LinuxErrno())
	assert.Equal(t, -13, ffa.ErrDenied.LinuxErrno())
	assert.Equal(t, -22, ffa.Status(-42).LinuxErrno())
	var err error = ffa.ErrDenied
	require.ErrorIs(t, err, ffa.ErrDenied)
}

func TestErrorFrame(t *testing.T) {
	f := ffa.ErrorFrame(ffa.ErrInvalidParameters)
	assert.Equal(t, uint64(0x84000060), f[0])
	assert.Equal(t, uint64(0xFFFFFFFE), f[2])
	assert.Equal(t, ffa.ErrInvalidParameters, f.Err())
	assert.Contains(t, f.String(), "INVALID_PARAMETERS")
	ok := ffa.SuccessFrame()
	assert.NoError(t, ok.Err())
}

func TestIDs(t *testing.T) {
	assert.True(t, ffa.ID(0x8001).Secure())
	assert.False(t, ffa.ID(1).Secure())
	w := ffa.PackIDs(0, 0x8001)
	assert.Equal(t, uint32(0x00008001), w)
	s, r := ffa.UnpackIDs(0x80028001)
	assert.Equal(t, ffa.ID(0x8002), s)
	assert.Equal(t, ffa.ID(0x8001), r)
}
