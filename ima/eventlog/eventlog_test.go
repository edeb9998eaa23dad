package eventlog_test

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/eventlog"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imatest"
)

const refLog = "../testdata/linux-6.1-qemu-seabios/binary_bios_measurements"

func TestParseSeaBIOSLog(t *testing.T) {
	raw, err := os.ReadFile(refLog)
	require.NoError(t, err)
	l, err := eventlog.Parse(raw)
	require.NoError(t, err)
	require.NotNil(t, l.Spec)
	assert.Equal(t, []hashalg.Alg{hashalg.SHA1, hashalg.SHA256}, l.Banks())
	assert.Equal(t, uint8(2), l.Spec.VersionMajor)
	assert.Equal(t, uint8(2), l.Spec.Errata)
	require.Len(t, l.Events, 14) // tpm2_eventlog numbers them 1..14
	assert.Equal(t, eventlog.EvEventTag, l.Events[0].Type)
	assert.Equal(t, eventlog.EvSeparator, l.Events[13].Type)
	assert.Equal(t, uint32(7), l.Events[13].PCR)
	assert.Equal(t, []byte{0xff, 0xff, 0xff, 0xff}, l.Events[13].Data)
	// Marshal gives back the firmware's bytes.
	assert.Equal(t, raw, l.Marshal())

	// Replay gives the PCRs the TPM reported.
	rep, err := l.Replay()
	require.NoError(t, err)
	for _, f := range []struct {
		alg  hashalg.Alg
		file string
	}{{hashalg.SHA1, "pcrs-sha1.txt"}, {hashalg.SHA256, "pcrs-sha256.txt"}} {
		b, err := os.ReadFile("../testdata/linux-6.1-qemu-seabios/" + f.file)
		require.NoError(t, err)
		pcrs, err := ima.ParsePCRFile(b)
		require.NoError(t, err)
		for i := 0; i < 8; i++ {
			assert.Equal(t, pcrs[i], rep[f.alg][i], "%v PCR%d", f.alg, i)
		}
	}
}

func TestParseErrors(t *testing.T) {
	raw, err := os.ReadFile(refLog)
	require.NoError(t, err)
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), raw...)) }
	hdrLen := 32 + 37 // SHA-1 event header + Spec ID data
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty log"},
		{"short header", raw[:10], "truncated SHA-1 digest"},
		{"truncated event", raw[:len(raw)-3], "event data of 4 bytes exceeds the 1 left"},
		{"truncated digest", raw[:hdrLen+40], "truncated sha256 digest"},
		{"huge size", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[28:], 1<<30); return b }), "exceeds 16777216"},
		{"too many digests", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[hdrLen+8:], 99); return b }), "digest count 99"},
		{"unknown alg", mut(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[hdrLen+12:], 0x99); return b }), "does not list"},
		{"spec sizes", mut(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[32+30:], 21); return b }), "sha1 digest size 21"},
		{"no algorithms", mut(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[32+24:], 0); return b }), "numberOfAlgorithms 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eventlog.Parse(tt.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestLegacySHA1Log(t *testing.T) {
	l := &eventlog.Log{Events: []eventlog.Event{
		{PCR: 0, Type: eventlog.EvSCRTMVersion, Digests: []hashalg.Digest{{Alg: hashalg.SHA1, Digest: hashalg.SHA1.Sum([]byte("v"))}}, Data: []byte("v")},
		{PCR: 0, Type: eventlog.EvSeparator, Digests: []hashalg.Digest{{Alg: hashalg.SHA1, Digest: hashalg.SHA1.Sum([]byte{0, 0, 0, 0})}}, Data: []byte{0, 0, 0, 0}},
	}}
	p, err := eventlog.Parse(l.Marshal())
	require.NoError(t, err)
	assert.Nil(t, p.Spec)
	assert.Equal(t, l.Events, p.Events)
	rep, err := p.Replay()
	require.NoError(t, err)
	want := hashalg.SHA1.Extend(hashalg.SHA1.Extend(make([]byte, 20), l.Events[0].Digests[0].Digest), l.Events[1].Digests[0].Digest)
	assert.Equal(t, want, rep[hashalg.SHA1][0])
}

// Firmware measured through a root of trust: the log replays to its PCRs,
// and a StartupLocality event starts PCR0 at the locality.
func TestMeasureReplays(t *testing.T) {
	for _, loc := range []uint8{0, 3} {
		soft := imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256, hashalg.SHA384)
		l, err := eventlog.Measure(soft, eventlog.DefaultComponents(eventlog.Images{}), loc)
		require.NoError(t, err)
		p, err := eventlog.Parse(l.Marshal())
		require.NoError(t, err)
		assert.Equal(t, l.Events, p.Events)
		rep, err := p.Replay()
		require.NoError(t, err)
		for _, a := range soft.Banks() {
			for i := 1; i < 10; i++ {
				v, err := soft.Read(i, a)
				require.NoError(t, err)
				assert.Equal(t, v, rep[a][i], "%v PCR%d", a, i)
			}
			v, _ := soft.Read(0, a)
			if loc == 0 {
				assert.Equal(t, v, rep[a][0])
			} else {
				assert.NotEqual(t, v, rep[a][0], "PCR0 must start at the locality")
				assert.Equal(t, byte(loc), p.Events[0].Data[16])
			}
		}
	}
}

func TestMeasureFailsCleanly(t *testing.T) {
	soft := imatest.NewSoftTPM(hashalg.SHA256)
	soft.FailExtend = true
	_, err := eventlog.Measure(soft, eventlog.DefaultComponents(eventlog.Images{}), 0)
	assert.ErrorIs(t, err, imatest.ErrInjected)
	assert.ErrorContains(t, err, "EV_S_CRTM_VERSION into PCR 0")
}

func TestEventTypeString(t *testing.T) {
	assert.Equal(t, "EV_EFI_BOOT_SERVICES_APPLICATION", eventlog.EvEFIBootServicesApp.String())
	assert.Equal(t, "EV_0x1234", eventlog.EventType(0x1234).String())
	assert.Equal(t, []byte{'1', 0, 0, 0}, eventlog.UCS2("1"))
}

func FuzzParse(f *testing.F) {
	raw, err := os.ReadFile(refLog)
	if err == nil {
		f.Add(raw)
	}
	soft := imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256)
	l, _ := eventlog.Measure(soft, eventlog.DefaultComponents(eventlog.Images{}), 3)
	f.Add(l.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := eventlog.Parse(b)
		if err != nil {
			return
		}
		// What parses re-encodes to the same bytes and replays without panic.
		if got := l.Marshal(); string(got) != string(b) {
			t.Fatalf("re-encoding differs: %x != %x", got, b)
		}
		_, _ = l.Replay()
	})
}

// Precomputed digests change nothing a verifier sees: the same log bytes
// and the same PCR values, for banks covered by the precomputation and for
// one that is not (hashed at measure time), and a wrong-size entry is not
// trusted.
func TestPrecomputeMeasuresTheSame(t *testing.T) {
	comps := eventlog.DefaultComponents(eventlog.Images{})
	pre := eventlog.Precompute(comps, []hashalg.Alg{hashalg.SHA1, hashalg.SHA256})
	require.Len(t, pre, len(comps))
	for i := range comps {
		assert.Nil(t, comps[i].Digests, "Precompute must not change its input")
		require.Len(t, pre[i].Digests, 2)
	}
	pre[0].Digests[0].Digest = pre[0].Digests[0].Digest[:5] // a truncated entry is ignored
	banks := []hashalg.Alg{hashalg.SHA1, hashalg.SHA256, hashalg.SHA384}
	plain, fast := imatest.NewSoftTPM(banks...), imatest.NewSoftTPM(banks...)
	l1, err := eventlog.Measure(plain, comps, 0)
	require.NoError(t, err)
	l2, err := eventlog.Measure(fast, pre, 0)
	require.NoError(t, err)
	assert.Equal(t, l1.Marshal(), l2.Marshal())
	for _, a := range banks {
		for i := 0; i < 10; i++ {
			v1, err := plain.Read(i, a)
			require.NoError(t, err)
			v2, err := fast.Read(i, a)
			require.NoError(t, err)
			assert.Equal(t, v1, v2, "%v PCR%d", a, i)
		}
	}
}

func BenchmarkMeasureFirmware(b *testing.B) {
	banks := []hashalg.Alg{hashalg.SHA1, hashalg.SHA256, hashalg.SHA384, hashalg.SHA512}
	for _, bc := range []struct {
		name  string
		comps func() []eventlog.Component
	}{
		{"hashed-each-boot", func() []eventlog.Component { return eventlog.DefaultComponents(eventlog.Images{}) }},
		{"precomputed", func() func() []eventlog.Component {
			pre := eventlog.Precompute(eventlog.DefaultComponents(eventlog.Images{}), hashalg.Known())
			return func() []eventlog.Component { return pre }
		}()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			soft := imatest.NewSoftTPM(banks...)
			for b.Loop() {
				if _, err := eventlog.Measure(soft, bc.comps(), 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
