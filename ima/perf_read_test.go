package ima_test

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imatest"
)

// The prebuilt TPM2_PCR_Read sends the bytes go-tpm marshals and returns
// the same value for every PCR of every bank; a TPM error reads the same
// in both forms; malformed responses are errors that say what was wrong.
func TestPrebuiltReadMatchesGoTPM(t *testing.T) {
	rec := &recorder{t: imatest.Simulator(t)}
	slow, err := ima.NewTPM(rec, ima.WithPrebuiltExtend(false))
	require.NoError(t, err)
	fast, err := ima.NewTPM(rec, ima.WithPrebuiltExtend(true))
	require.NoError(t, err)
	require.NoError(t, fast.Extend(11, digestsFor(fast.Banks(), 0x33)))
	for _, bank := range fast.Banks() {
		for i := 0; i < ima.TPMPCRs; i++ {
			rec.cmds = nil
			want, err := slow.Read(i, bank)
			require.NoError(t, err)
			got, err := fast.Read(i, bank)
			require.NoError(t, err)
			require.Len(t, rec.cmds, 2)
			assert.Equal(t, rec.cmds[0], rec.cmds[1], "%v PCR %d command bytes", bank, i)
			assert.Equal(t, want, got, "%v PCR %d", bank, i)
			assert.Len(t, got, bank.Size())
		}
	}
	// A bank the simulator does not implement: the same TPM error both ways.
	_, errSlow := slow.Read(0, hashalg.SM3256)
	_, errFast := fast.Read(0, hashalg.SM3256)
	require.Error(t, errFast)
	assert.Equal(t, errSlow.Error(), errFast.Error())
	var rc tpm2.TPMRC
	assert.ErrorAs(t, errFast, &rc)
	for _, r := range []*ima.TPM{slow, fast} {
		_, err := r.Read(24, hashalg.SHA256)
		assert.ErrorContains(t, err, "out of range")
	}
}

func TestPrebuiltReadBadResponses(t *testing.T) {
	ok := func(body ...byte) []byte {
		rsp := make([]byte, 10, 10+len(body))
		binary.BigEndian.PutUint16(rsp, 0x8001)
		rsp = append(rsp, body...)
		binary.BigEndian.PutUint32(rsp[2:], uint32(len(rsp)))
		return rsp
	}
	for _, tc := range []struct {
		name string
		rsp  []byte
		want string
	}{
		{"short", []byte{0x80, 0x01, 0, 0}, "short header"},
		{"rc", func() []byte { r := ok(); binary.BigEndian.PutUint32(r[6:], uint32(tpm2.TPMRCValue)); return r }(), "TPM_RC_VALUE"},
		{"no selection", ok(0, 0, 0, 1), "no PCR selection"},
		{"truncated selection", ok(0, 0, 0, 1, 0, 0, 0, 1, 0, 0x0b, 3, 0), "truncated PCR selection"},
		{"no digests", ok(0, 0, 0, 1, 0, 0, 0, 1, 0, 0x0b, 3, 0, 0, 4), "no digest list"},
		{"zero digests", ok(0, 0, 0, 1, 0, 0, 0, 1, 0, 0x0b, 3, 0, 0, 4, 0, 0, 0, 0), "bank not allocated"},
		{"truncated digest", ok(0, 0, 0, 1, 0, 0, 0, 1, 0, 0x0b, 3, 0, 0, 4, 0, 0, 0, 1, 0, 32, 1, 2), "truncated digest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fixed := fixedTPM{rsp: tc.rsp}
			r, err := ima.NewTPM(fixed, ima.WithBanks([]hashalg.Alg{hashalg.SHA256}))
			require.NoError(t, err)
			_, err = r.Read(2, hashalg.SHA256)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

type fixedTPM struct{ rsp []byte }

func (f fixedTPM) Send([]byte) ([]byte, error) { return f.rsp, nil }

// BenchmarkReadPrebuiltVsGoTPM: one PCR_Read on the simulator, both forms
// in one run (go test -run '^$' -bench ReadPrebuilt -count 5 ./ima).
func BenchmarkReadPrebuiltVsGoTPM(b *testing.B) {
	sim := imatest.Simulator(b)
	for _, pre := range []bool{false, true} {
		r, err := ima.NewTPM(sim, ima.WithPrebuiltExtend(pre))
		require.NoError(b, err)
		name := map[bool]string{false: "side=gotpm", true: "side=prebuilt"}[pre]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Read(5, hashalg.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
