package ima_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imatest"
)

type recorder struct {
	t    transport.TPM
	cmds [][]byte
}

func (r *recorder) Send(c []byte) ([]byte, error) {
	r.cmds = append(r.cmds, append([]byte(nil), c...))
	return r.t.Send(c)
}

// The prebuilt TPM2_PCR_Extend is byte for byte what go-tpm marshals, and
// both leave the same PCR values.
func TestPrebuiltExtendMatchesGoTPM(t *testing.T) {
	rec := &recorder{t: imatest.Simulator(t)}
	slow, err := ima.NewTPM(rec, ima.WithPrebuiltExtend(false))
	require.NoError(t, err)
	fast, err := ima.NewTPM(rec, ima.WithPrebuiltExtend(true))
	require.NoError(t, err)
	banks := slow.Banks()
	require.Contains(t, banks, hashalg.SHA256)
	ds := digestsFor(banks, 0x5a)

	rec.cmds = nil
	require.NoError(t, slow.Extend(12, ds))
	require.NoError(t, fast.Extend(12, ds))
	require.Len(t, rec.cmds, 2)
	assert.Equal(t, rec.cmds[0], rec.cmds[1])

	want := make([]byte, 32)
	for i := 0; i < 2; i++ {
		want = hashalg.SHA256.Extend(want, bytes.Repeat([]byte{0x5a}, 32))
	}
	got, err := fast.Read(12, hashalg.SHA256)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestTPMErrors(t *testing.T) {
	sim := imatest.Simulator(t)
	for _, prebuilt := range []bool{false, true} {
		r, err := ima.NewTPM(sim, ima.WithPrebuiltExtend(prebuilt))
		require.NoError(t, err)
		ds := digestsFor(r.Banks(), 1)
		assert.ErrorContains(t, r.Extend(24, ds), "out of range")
		assert.ErrorContains(t, r.Extend(10, ds[:1]), "no digest for bank")
		bad := digestsFor(r.Banks(), 1)
		bad[0].Digest = bad[0].Digest[:3]
		assert.ErrorContains(t, r.Extend(10, bad), "is 3 bytes")
		// PCR 0 is not extendable from locality 0 on a PC client TPM? It
		// is; PCR 17 (D-RTM) is not: the TPM's RC comes back as an error.
		err = r.Extend(17, ds)
		var rc tpm2.TPMRC
		assert.ErrorAs(t, err, &rc, "prebuilt=%v: %v", prebuilt, err)
	}
	r, err := ima.NewTPM(sim)
	require.NoError(t, err)
	_, err = r.Read(10, hashalg.SM3256)
	assert.ErrorContains(t, err, "TPM2_PCR_Read(sm3 PCR 10)")
	_, err = ima.NewTPM(imatestFailing{})
	assert.ErrorContains(t, err, "TPM2_GetCapability")
	_, err = ima.NewTPM(sim, ima.WithBanks([]hashalg.Alg{0x99}))
	assert.ErrorContains(t, err, "unknown PCR bank")
}

type imatestFailing struct{}

func (imatestFailing) Send([]byte) ([]byte, error) { return nil, imatest.ErrInjected }

// An extend the TPM refuses is logged with the TPM's response code, as
// ima_pcr_extend prints tpm_pcr_extend's result.
func TestExtendRCLogged(t *testing.T) {
	sim := imatest.Simulator(t)
	rot, err := ima.NewTPM(sim)
	require.NoError(t, err)
	var logs []string
	m, err := ima.Init(ima.Config{}, rot, ima.BootAggregateName, func(l string) { logs = append(logs, l) })
	require.NoError(t, err)
	_, err = m.MeasureData("/x", []byte("x"), nil, ima.TemplateIMANG, 17) // D-RTM PCR: locality 0 may not extend it
	require.NoError(t, err)
	var rc tpm2.TPMRC
	require.ErrorAs(t, m.LastExtendError(), &rc)
	assert.Contains(t, logs, fmt.Sprintf("ima: Error Communicating to TPM chip, result: %d", int(rc)))
	assert.Equal(t, 1, m.ExtendErrors())
}
