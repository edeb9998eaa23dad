package kbuild

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleConfig = `#
# Automatically generated file; DO NOT EDIT.
# Linux/arm64 6.12.117 Kernel Configuration
#
CONFIG_CC_VERSION_TEXT="aarch64-linux-gnu-gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"
CONFIG_ARM64=y
CONFIG_ACPI=y
# CONFIG_ARM_FFA_TRANSPORT is not set
CONFIG_TCG_TPM=y
CONFIG_TCG_CRB=m
CONFIG_IMA_MEASURE_PCR_IDX=10
CONFIG_IMA_DEFAULT_HASH="sha256"
CONFIG_PHYS_OFFSET=0x40000000
CONFIG_ESCAPED="a \"quoted\" back\\slash"
CONFIG_NEG=-3
`

func TestParseConfigValues(t *testing.T) {
	c, err := ParseConfig("config-6.12", []byte(sampleConfig))
	require.NoError(t, err)
	assert.Equal(t, "arm64", c.Arch)
	assert.Equal(t, "6.12.117", c.Version)
	tests := []struct {
		name string
		want Value
		line int
	}{
		{"ARM64", TriValue(Yes), 6},
		{"ARM_FFA_TRANSPORT", TriValue(No), 8},
		{"TCG_CRB", TriValue(Module), 10},
		{"IMA_MEASURE_PCR_IDX", IntValue(10), 11},
		{"IMA_DEFAULT_HASH", StringValue("sha256"), 12},
		{"PHYS_OFFSET", Value{Kind: KindHex, Int: 0x40000000}, 13},
		{"ESCAPED", StringValue(`a "quoted" back\slash`), 14},
		{"NEG", IntValue(-3), 15},
	}
	for _, tt := range tests {
		s, ok := c.Lookup("CONFIG_" + tt.name)
		require.True(t, ok, tt.name)
		assert.Equal(t, tt.want, s.Value, tt.name)
		assert.Equal(t, tt.line, s.Pos.Line, tt.name)
	}
	s, _ := c.Lookup("ARM_FFA_TRANSPORT")
	assert.True(t, s.NotSet)
	_, ok := c.Lookup("TCG_ARM_CRB_FFA")
	assert.False(t, ok)
}

func TestParseConfigGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(sampleConfig))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	c, err := ParseConfig("config.gz", buf.Bytes())
	require.NoError(t, err)
	assert.True(t, c.Gzip)
	s, _ := c.Lookup("TCG_CRB")
	assert.Equal(t, Module, s.Value.Tri)

	// Truncated in the middle of the deflate stream.
	_, err = ParseConfig("config.gz", buf.Bytes()[:buf.Len()/2])
	var pe *ParseError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Contains(t, err.Error(), "config.gz")
	assert.Contains(t, err.Error(), "truncated")
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"no equals", "CONFIG_A=y\nCONFIG_B\n", "f:2: \"CONFIG_B\" has no '='"},
		{"bad name", "CONFIG_A-B=y\n", "f:1: bad symbol name"},
		{"bad value", "CONFIG_A=yes\n", "f:1: CONFIG_A: malformed value \"yes\""},
		{"empty value", "\n\nCONFIG_A=\n", "f:3: CONFIG_A: empty value"},
		{"unterminated", "CONFIG_A=\"abc\n", "f:1: CONFIG_A: unterminated string"},
		{"trailing", "CONFIG_A=\"abc\" x\n", "f:1: CONFIG_A: text \" x\" after the closing quote"},
		{"garbage", "CONFIG_A=y\nhello world\n", "f:2: unexpected text \"hello world\""},
		{"huge hex", "CONFIG_A=0x1ffffffffffffffff\n", "f:1: CONFIG_A: hex value"},
		{"huge int", "CONFIG_A=99999999999999999999\n", "f:1: CONFIG_A: decimal value"},
		{"nul", "CONFIG_A=y\n\x00\n", "f:2: NUL byte"},
		{"bad gzip", "\x1f\x8bxxxx", "f: offset 0x0: gzip header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("f", []byte(tt.text))
			require.Error(t, err)
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "got %q want prefix %q", err, tt.want)
		})
	}
}

func TestParseConfigDuplicateWarns(t *testing.T) {
	c, err := ParseConfig("f", []byte("CONFIG_A=y\n# CONFIG_A is not set\n"))
	require.NoError(t, err)
	s, _ := c.Lookup("A")
	assert.Equal(t, No, s.Value.Tri)
	require.Len(t, c.Warnings, 1)
	assert.Equal(t, "f:2: CONFIG_A set again (was y at line 1); the last value wins", c.Warnings[0].String())
	assert.Equal(t, []string{"A"}, c.Names())
}

func TestWriteConfigRoundTrip(t *testing.T) {
	c, err := ParseConfig("f", []byte(sampleConfig))
	require.NoError(t, err)
	var settings []Setting
	for _, n := range c.Names() {
		s, _ := c.Lookup(n)
		settings = append(settings, s)
	}
	var buf bytes.Buffer
	require.NoError(t, WriteConfig(&buf, settings))
	c2, err := ParseConfig("g", buf.Bytes())
	require.NoError(t, err)
	for _, n := range c.Names() {
		a, _ := c.Lookup(n)
		b, ok := c2.Lookup(n)
		require.True(t, ok, n)
		assert.Equal(t, a.Value, b.Value, n)
	}
}
