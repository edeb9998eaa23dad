package hashalg

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTable(t *testing.T) {
	tests := []struct {
		alg  Alg
		name string
		size int
		id   uint16
	}{
		{SHA1, "sha1", 20, 4},
		{SHA256, "sha256", 32, 0xb},
		{SHA384, "sha384", 48, 0xc},
		{SHA512, "sha512", 64, 0xd},
		{SM3256, "sm3", 32, 0x12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.name, tt.alg.String())
			assert.Equal(t, tt.size, tt.alg.Size())
			assert.Equal(t, tt.id, uint16(tt.alg))
			p, err := Parse(tt.name)
			require.NoError(t, err)
			assert.Equal(t, tt.alg, p)
			if tt.alg.Available() {
				assert.Len(t, tt.alg.Sum([]byte("x")), tt.size)
			}
		})
	}
	_, err := Parse("md4")
	assert.ErrorContains(t, err, `"md4"`)
	assert.Equal(t, "alg(0x0099)", Alg(0x99).String())
}

func TestExtend(t *testing.T) {
	// PCR extend of a zero PCR with SHA-1("abc") (FIPS 180 vector for the input digest).
	d, _ := hex.DecodeString("a9993e364706816aba3e25717850c26c9cd0d89d")
	got := SHA1.Extend(make([]byte, 20), d)
	assert.Equal(t, SHA1.Sum(make([]byte, 20), d), got)
}
