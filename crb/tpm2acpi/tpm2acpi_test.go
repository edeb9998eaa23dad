package tpm2acpi

import (
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sample() Table {
	t := New(0x6000_0040, 0x8001, FFAFlagNotifications)
	t.HasLog = true
	t.LogMinLength = 0x10000
	t.LogStart = 0x7F00_0000
	return t
}

func TestBuildLayout(t *testing.T) {
	b, err := Build(sample())
	require.NoError(t, err)
	require.Len(t, b, 76)
	assert.Equal(t, "TPM2", string(b[:4]))
	assert.Equal(t, uint32(76), binary.LittleEndian.Uint32(b[4:]))
	assert.Equal(t, uint8(4), b[8], "revision 4")
	assert.Equal(t, uint64(0x6000_0040), binary.LittleEndian.Uint64(b[40:]), "control area at 40")
	assert.Equal(t, uint32(15), binary.LittleEndian.Uint32(b[48:]), "start method 15 at 48")
	assert.Equal(t, uint8(1), b[52], "FF-A flags")
	assert.Equal(t, uint16(0x8001), binary.LittleEndian.Uint16(b[54:]), "partition ID at 54")
	assert.Equal(t, uint32(0x10000), binary.LittleEndian.Uint32(b[64:]), "LAML at 64")
	assert.Equal(t, uint64(0x7F00_0000), binary.LittleEndian.Uint64(b[68:]), "LASA at 68")
	var sum uint8
	for _, c := range b {
		sum += c
	}
	assert.Zero(t, sum, "checksum")

	golden := filepath.Join("testdata", "tpm2-ffa.dat")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, b, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, want, b)
}

func TestRoundTrip(t *testing.T) {
	for _, tb := range []Table{sample(), New(0x1000, 0x8002, 0), {StartMethod: StartMethodCRB, ControlArea: 0xFED40040}} {
		b, err := Build(tb)
		require.NoError(t, err)
		got, err := Parse(b)
		require.NoError(t, err)
		b2, err := Build(got)
		require.NoError(t, err)
		assert.Equal(t, b, b2)
		assert.Equal(t, tb.ControlArea, got.ControlArea)
		assert.Equal(t, tb.FFA, got.FFA)
	}
}

func TestParseErrors(t *testing.T) {
	good, err := Build(sample())
	require.NoError(t, err)
	fix := func(b []byte) []byte { b[9] = 0; b[9] = checksum(b); return b }
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name  string
		in    []byte
		field string
		off   int
	}{
		{"empty", nil, "header", 0},
		{"short header", good[:20], "header", 0},
		{"signature", mut(func(b []byte) []byte { copy(b, "TCPA"); return fix(b) }), "Signature", 0},
		{"length mismatch", good[:70], "Length", 4},
		{"length too short", mut(func(b []byte) []byte {
			b = b[:40]
			binary.LittleEndian.PutUint32(b[4:], 40)
			return fix(b)
		}), "Length", 4},
		{"checksum", mut(func(b []byte) []byte { b[9]++; return b }), "Checksum", 9},
		{"revision", mut(func(b []byte) []byte { b[8] = 2; return fix(b) }), "Revision", 8},
		{"platform class", mut(func(b []byte) []byte { b[36] = 7; return fix(b) }), "PlatformClass", 36},
		{"reserved", mut(func(b []byte) []byte { b[38] = 1; return fix(b) }), "Reserved", 38},
		{"params size", mut(func(b []byte) []byte {
			b = b[:70]
			binary.LittleEndian.PutUint32(b[4:], 70)
			return fix(b)
		}), "StartMethodParameters", 52},
		{"ffa reserved", mut(func(b []byte) []byte { b[60] = 1; return fix(b) }), "StartMethodParameters.Reserved", 60},
		{"ffa flags", mut(func(b []byte) []byte { b[52] = 0x80; return fix(b) }), "StartMethodParameters.Flags", 52},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.in)
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "error %v", err)
			assert.Equal(t, c.field, pe.Field)
			assert.Equal(t, c.off, pe.Offset)
			assert.Contains(t, err.Error(), c.field)
		})
	}
}

func TestBuildRejectsBadParams(t *testing.T) {
	_, err := Build(Table{StartMethod: StartMethodCRB, Params: []byte{1, 2}})
	assert.Error(t, err)
}

// TestIASLDisassembles checks that ACPICA's disassembler reads the table.
func TestIASLDisassembles(t *testing.T) {
	iasl, err := exec.LookPath("iasl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("iasl (acpica-tools) is required in CI")
		}
		t.Skip("iasl not installed")
	}
	b, err := Build(sample())
	require.NoError(t, err)
	dir := t.TempDir()
	dat := filepath.Join(dir, "tpm2.dat")
	require.NoError(t, os.WriteFile(dat, b, 0o644))
	cmd := exec.Command(iasl, "-d", dat)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "iasl -d: %s", out)
	dsl, err := os.ReadFile(filepath.Join(dir, "tpm2.dsl"))
	require.NoError(t, err)
	s := string(dsl)
	assert.Contains(t, s, `Signature : "TPM2"`)
	assert.Contains(t, s, "0000000060000040", "control area address")
	assert.Contains(t, s, "000000007F000000", "log area start (LASA) at 68")
	assert.NotContains(t, strings.ToLower(s), "invalid checksum")
	t.Logf("iasl output:\n%s", s)
}

func FuzzParse(f *testing.F) {
	good, _ := Build(sample())
	f.Add(good)
	short, _ := Build(New(0x1000, 0x8001, 0))
	f.Add(short)
	f.Add([]byte("TPM2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := Parse(b)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		out, err := Build(tb)
		if err != nil {
			t.Fatalf("Build of a parsed table: %v", err)
		}
		if tb2, err := Parse(out); err != nil || tb2.ControlArea != tb.ControlArea || tb2.FFA != tb.FFA {
			t.Fatalf("round trip: %v", err)
		}
	})
}
