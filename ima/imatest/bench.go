package imatest

import (
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// BenchExtendGoTPM measures TPM2_PCR_Extend of PCR 10 with a digest for
// every bank t allocates, marshalled by go-tpm, and reports extends/s: the
// bare TPM command a measurement is compared with.
func BenchExtendGoTPM(b *testing.B, t transport.TPM) {
	banks, err := ima.TPMBanks(t)
	require.NoError(b, err)
	vals := tpm2.TPMLDigestValues{}
	for _, a := range banks {
		vals.Digests = append(vals.Digests, tpm2.TPMTHA{HashAlg: tpm2.TPMIAlgHash(a), Digest: make([]byte, a.Size())})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vals.Digests[0].Digest[0] = byte(i)
		if _, err := (tpm2.PCRExtend{PCRHandle: tpm2.AuthHandle{Handle: 10, Auth: tpm2.PasswordAuth(nil)}, Digests: vals}).Execute(t); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "extends/s")
}

// BenchExtendBytes is BenchExtendGoTPM with the command as prebuilt bytes
// (ima.TPM with WithPrebuiltExtend), as IMA sends it.
func BenchExtendBytes(b *testing.B, t transport.TPM) {
	rot, err := ima.NewTPM(t, ima.WithPrebuiltExtend(true))
	require.NoError(b, err)
	ds := make([]hashalg.Digest, 0, 4)
	for _, a := range rot.Banks() {
		ds = append(ds, hashalg.Digest{Alg: a, Digest: make([]byte, a.Size())})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ds[0].Digest[0] = byte(i)
		if err := rot.Extend(10, ds); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "extends/s")
}
