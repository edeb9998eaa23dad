package ima_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/eventlog"
	"github.com/ffatpm/ffatpm/ima/hashalg"
)

const refDir = "testdata/linux-6.1-qemu-seabios"

func readRef(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, name))
	require.NoError(t, err)
	return b
}

func refEvidence(t *testing.T) ima.Evidence {
	t.Helper()
	recs, err := ima.ParseBinary(readRef(t, "binary_runtime_measurements"), 20)
	require.NoError(t, err)
	p1, err := ima.ParsePCRFile(readRef(t, "pcrs-sha1.txt"))
	require.NoError(t, err)
	p256, err := ima.ParsePCRFile(readRef(t, "pcrs-sha256.txt"))
	require.NoError(t, err)
	el, err := eventlog.Parse(readRef(t, "binary_bios_measurements"))
	require.NoError(t, err)
	return ima.Evidence{
		Lists:    map[hashalg.Alg][]ima.Record{hashalg.SHA1: recs},
		PCRs:     map[hashalg.Alg]ima.PCRValues{hashalg.SHA1: p1, hashalg.SHA256: p256},
		EventLog: el,
	}
}

// The real kernel's binary list parses into the records its ASCII list shows.
func TestReferenceBinaryMatchesASCII(t *testing.T) {
	bin, err := ima.ParseBinary(readRef(t, "binary_runtime_measurements"), 20)
	require.NoError(t, err)
	asc, err := ima.ParseASCII(readRef(t, "ascii_runtime_measurements"))
	require.NoError(t, err)
	require.Len(t, bin, 8)
	require.Equal(t, len(bin), len(asc))
	for i := range bin {
		assert.Equal(t, asc[i].PCR, bin[i].PCR)
		assert.Equal(t, asc[i].TemplateDigest, bin[i].TemplateDigest)
		assert.Equal(t, asc[i].Template, bin[i].Template)
		assert.Equal(t, asc[i].Fields, bin[i].Fields, "record %d", i)
		// Template digest = SHA-1 over the length-prefixed fields.
		assert.Equal(t, bin[i].TemplateDigest, bin[i].Recompute(hashalg.SHA1), "record %d", i)
	}
	assert.Equal(t, "boot_aggregate", bin[0].Name())
	assert.Equal(t, "/etc/hostname", bin[7].Name())
}

// Rebuilding the list from the parsed records and exporting it gives the
// kernel's files byte for byte.
func TestReferenceReExportByteExact(t *testing.T) {
	recs, err := ima.ParseBinary(readRef(t, "binary_runtime_measurements"), 20)
	require.NoError(t, err)
	l := ima.NewList([]hashalg.Alg{hashalg.SHA1, hashalg.SHA256}, "tpm")
	for _, r := range recs {
		e := ima.Entry{PCR: int(r.PCR), Template: r.Template, Fields: r.Fields,
			Digests: [][]byte{r.Recompute(hashalg.SHA1), r.Recompute(hashalg.SHA256)}}
		_, err := l.Append(e, false)
		require.NoError(t, err)
	}
	var bin, asc bytes.Buffer
	require.NoError(t, l.WriteBinary(&bin, hashalg.SHA1))
	require.NoError(t, l.WriteASCII(&asc, hashalg.SHA1))
	assert.Equal(t, readRef(t, "binary_runtime_measurements"), bin.Bytes())
	assert.Equal(t, string(readRef(t, "ascii_runtime_measurements")), asc.String())
}

func TestReferenceVerify(t *testing.T) {
	rep := ima.Verify(refEvidence(t))
	t.Log("\n" + rep.String())
	assert.True(t, rep.OK(), rep.String())
	assert.False(t, rep.Bypass)
	assert.False(t, rep.Late)
	names := map[string]bool{}
	for _, c := range rep.Checks {
		names[c.Name] = true
	}
	for _, n := range []string{"PCR10 sha1", "PCR10 sha256", "boot_aggregate sha256", "boot_aggregate from event log", "event log sha1", "event log sha256"} {
		assert.True(t, names[n], "missing check %q", n)
	}
}

// The verifier says what differs when a PCR or a record is tampered with.
func TestReferenceVerifyDetectsTampering(t *testing.T) {
	t.Run("pcr10", func(t *testing.T) {
		ev := refEvidence(t)
		ev.PCRs[hashalg.SHA256][10] = make([]byte, 32)
		rep := ima.Verify(ev)
		require.False(t, rep.OK())
		f := rep.Failed()
		require.Len(t, f, 1)
		assert.Equal(t, "PCR10 sha256", f[0].Name)
		assert.Contains(t, f[0].Detail, "the TPM has 0000")
	})
	t.Run("record", func(t *testing.T) {
		ev := refEvidence(t)
		recs := ev.Lists[hashalg.SHA1]
		d := append([]byte(nil), recs[3].Fields[0].Data...)
		d[len(d)-1] ^= 1
		recs[3].Fields[0].Data = d
		rep := ima.Verify(ev)
		require.False(t, rep.OK())
		var names []string
		for _, c := range rep.Failed() {
			names = append(names, c.Name)
		}
		assert.Contains(t, names, "template digests sha1")
		assert.Contains(t, names, "PCR10 sha256") // recomputed from the altered data
		assert.Contains(t, rep.String(), "/opt/script1.sh")
	})
	t.Run("pcr0", func(t *testing.T) {
		ev := refEvidence(t)
		ev.PCRs[hashalg.SHA256][0] = make([]byte, 32)
		rep := ima.Verify(ev)
		var names []string
		for _, c := range rep.Failed() {
			names = append(names, c.Name)
		}
		assert.ElementsMatch(t, []string{"boot_aggregate sha256", "event log sha256"}, names)
	})
}

func TestReferencePCRFileRoundTrip(t *testing.T) {
	for _, f := range []string{"pcrs-sha1.txt", "pcrs-sha256.txt"} {
		raw := readRef(t, f)
		p, err := ima.ParsePCRFile(raw)
		require.NoError(t, err)
		require.Len(t, p, 24)
		var b bytes.Buffer
		require.NoError(t, ima.WritePCRFile(&b, p))
		assert.Equal(t, string(raw), b.String())
	}
}

func readRefF(f *testing.F, name string) []byte { return readRef(f, name) }
