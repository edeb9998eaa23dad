package crb

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa/phys"
)

// single copies p at window offset off with the accesses memcpy_toio makes
// (bytes up to an 8-byte boundary, 8-byte accesses, bytes for the tail).
func single(t *testing.T, d *Device, off uint64, p []byte, write bool) {
	t.Helper()
	for len(p) > 0 {
		size := 8
		if off%8 != 0 || len(p) < 8 {
			size = 1
		}
		if write {
			var v uint64
			for i := size - 1; i >= 0; i-- {
				v = v<<8 | uint64(p[i])
			}
			require.NoError(t, d.WriteMMIO(off, size, v))
		} else {
			v, err := d.ReadMMIO(off, size)
			require.NoError(t, err)
			for i := 0; i < size; i++ {
				p[i] = byte(v >> (8 * i))
			}
		}
		off, p = off+uint64(size), p[size:]
	}
}

// The block path is only an optimisation: for runs anywhere in any
// locality's buffer, with the locality active or not and with a command
// running or not, a device written with WriteMMIOBlock reads back (through
// single accesses, and through ReadMMIOBlock) exactly as a device written
// with the single accesses memcpy_toio makes, and the next command's
// response area is cleared the same way.
func TestBlockMatchesSingleAccesses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		blk, one := newDev(t), newDev(t)
		n := rng.IntN(NumLocalities)
		active := rng.IntN(3) > 0
		if active {
			grant(t, blk, n)
			grant(t, one, n)
		}
		if rng.IntN(4) == 0 { // a command running: buffer writes are ignored
			for _, d := range []*Device{blk, one} {
				if d.ActiveLocality() < 0 {
					grant(t, d, n)
				}
				d.state = StateExecuting
			}
		}
		length := 1 + rng.IntN(300)
		start := rng.IntN(DataBufferSize - length + 1)
		off := uint64(n)*LocalityStride + DataBufferOffset + uint64(start)
		p := make([]byte, length)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		require.True(t, blk.WriteMMIOBlock(off, p), "run %d+%d in locality %d", start, length, n)
		single(t, one, off, p, true)
		require.Equal(t, one.loc, blk.loc, "case %d: locality %d run %d+%d active %v", i, n, start, length, active)

		got := make([]byte, length)
		require.True(t, blk.ReadMMIOBlock(off, got))
		want := make([]byte, length)
		single(t, one, off, want, false)
		assert.Equal(t, want, got)
	}
}

func TestBlockDeclinesNonBufferRuns(t *testing.T) {
	d := newDev(t)
	grant(t, d, 0)
	p := make([]byte, 16)
	for _, c := range []struct {
		name string
		off  uint64
		n    int
	}{
		{"registers", uint64(RegCtrlReq), 8},
		{"run starting in the registers", DataBufferOffset - 8, 16},
		{"run crossing into the next locality", LocalityStride - 8, 16},
		{"past the last locality", NumLocalities * LocalityStride, 8},
		{"empty run", DataBufferOffset, 0},
	} {
		assert.False(t, d.WriteMMIOBlock(c.off, p[:c.n]), c.name)
		assert.False(t, d.ReadMMIOBlock(c.off, p[:c.n]), c.name)
	}
	assert.Equal(t, 0, d.loc[0].dirty, "a declined write changes nothing")
}

// Through the bus: the accessor serves a buffer run of the non-secure
// window and declines what single accesses would refuse.
func TestBlockThroughBus(t *testing.T) {
	d := newDev(t)
	grant(t, d, 0)
	bus := phys.NewBus()
	require.NoError(t, bus.AddMMIO("crb", "tpm", testBase, WindowSize, phys.NonSecure, d))
	ns := bus.Accessor(phys.NonSecure)
	p := []byte("0123456789abcdefXYZ")
	require.True(t, ns.WriteIO(testBase+DataBufferOffset+3, p))
	got := make([]byte, len(p))
	require.True(t, ns.ReadIO(testBase+DataBufferOffset+3, got))
	assert.Equal(t, p, got)
	assert.False(t, ns.WriteIO(testBase+WindowSize-8, p), "run leaving the window")
	assert.False(t, ns.ReadIO(testBase-8, got), "unmapped")

	sec := phys.NewBus()
	require.NoError(t, sec.AddMMIO("crb", "tpm", testBase, WindowSize, phys.Secure, d))
	assert.False(t, sec.Accessor(phys.NonSecure).WriteIO(testBase+DataBufferOffset, p), "secure window, normal world")
	assert.True(t, sec.Accessor(phys.Secure).ReadIO(testBase+DataBufferOffset+3, got))
}
