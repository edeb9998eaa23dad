package phys_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa/phys"
)

type regDev struct {
	mu   sync.Mutex
	regs map[uint64]uint64
	fail bool
}

func (d *regDev) ReadMMIO(off uint64, size int) (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail {
		return 0, errors.New("boom")
	}
	return d.regs[off], nil
}

func (d *regDev) WriteMMIO(off uint64, size int, v uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail {
		return errors.New("boom")
	}
	d.regs[off] = v
	return nil
}

func newBus(t *testing.T) (*phys.Bus, *regDev) {
	t.Helper()
	b := phys.NewBus()
	dev := &regDev{regs: map[uint64]uint64{}}
	require.NoError(t, b.AddRAM("ns-ram", "normal", 0x8000_0000, 0x10_0000, phys.NonSecure))
	require.NoError(t, b.AddRAM("s-ram", "spmc", 0x0e00_0000, 0x10_0000, phys.Secure))
	require.NoError(t, b.AddMMIO("crb", "tpm", 0x6000_0000, 0x5000, phys.NonSecure, dev))
	return b, dev
}

func TestAddRejectsOverlapAndBadRegions(t *testing.T) {
	b, _ := newBus(t)
	cases := []struct {
		name       string
		base, size uint64
	}{
		{"inside", 0x8000_1000, 0x1000},
		{"straddle-start", 0x7fff_f000, 0x2000},
		{"straddle-end", 0x800f_f000, 0x2000},
		{"cover", 0x7000_0000, 0x2000_0000},
		{"zero", 0x1000, 0},
		{"wrap", ^uint64(0) - 0xfff, 0x2000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Error(t, b.AddRAM(c.name, "x", c.base, c.size, phys.NonSecure))
		})
	}
	assert.Error(t, b.AddRAM("ns-ram", "x", 0x1000, 0x1000, phys.NonSecure), "duplicate name")
	assert.Error(t, b.AddMMIO("nil", "x", 0x1000, 0x1000, phys.NonSecure, nil))
	assert.Error(t, b.AddRAM("badsec", "x", 0x1000, 0x1000, phys.World(7)))
	assert.NoError(t, b.AddRAM("adjacent", "x", 0x8010_0000, 0x1000, phys.NonSecure))
	assert.Len(t, b.Regions(), 4)
}

func TestAccessRules(t *testing.T) {
	b, dev := newBus(t)
	ns, s := b.Accessor(phys.NonSecure), b.Accessor(phys.Secure)
	cases := []struct {
		name   string
		acc    phys.Accessor
		addr   uint64
		size   int
		reason phys.Reason
	}{
		{"ns-ram-ok", ns, 0x8000_0008, 8, 0},
		{"s-reads-ns", s, 0x8000_0010, 4, 0},
		{"s-ram-secure", s, 0x0e00_0000, 8, 0},
		{"ns-to-secure", ns, 0x0e00_0000, 8, phys.ReasonSecurity},
		{"unmapped", ns, 0x10, 4, phys.ReasonUnmapped},
		{"misaligned", ns, 0x8000_0002, 4, phys.ReasonMisaligned},
		{"size3", ns, 0x8000_0000, 3, phys.ReasonBadSize},
		{"size16", ns, 0x8000_0000, 16, phys.ReasonBadSize},
		{"mmio-ok", ns, 0x6000_0040, 4, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.acc.Write(c.addr, c.size, 0x1122334455667788)
			_, rerr := c.acc.Read(c.addr, c.size)
			if c.reason == 0 {
				require.NoError(t, err)
				require.NoError(t, rerr)
				return
			}
			for _, e := range []error{err, rerr} {
				var ae *phys.AccessError
				require.ErrorAs(t, e, &ae)
				assert.Equal(t, c.reason, ae.Reason)
				assert.Equal(t, c.addr, ae.Addr)
				assert.Equal(t, c.size, ae.Size)
				assert.Contains(t, ae.Error(), fmt.Sprintf("%#x", c.addr))
			}
		})
	}
	v, err := ns.Read(0x6000_0040, 4)
	require.NoError(t, err)
	assert.Equal(t, uint64(0x55667788), v, "write masks to access size")
	dev.fail = true
	_, err = ns.Read(0x6000_0040, 4)
	var ae *phys.AccessError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, phys.ReasonDevice, ae.Reason)
	assert.EqualError(t, errors.Unwrap(err), "boom")
}

func TestBytesAndEndianness(t *testing.T) {
	b, _ := newBus(t)
	ns := b.Accessor(phys.NonSecure)
	base := uint64(0x8000_0ffc) // straddles a page boundary
	require.NoError(t, ns.WriteBytes(base, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	v, err := ns.Read(base-4, 8)
	require.NoError(t, err)
	assert.Equal(t, uint64(0x0403020100000000), v)
	got := make([]byte, 8)
	require.NoError(t, ns.ReadBytes(base, got))
	assert.Equal(t, []byte{1, 2, 3, 4, 5, 6, 7, 8}, got)
	require.NoError(t, ns.ZeroBytes(base+2, 4))
	require.NoError(t, ns.ReadBytes(base, got))
	assert.Equal(t, []byte{1, 2, 0, 0, 0, 0, 7, 8}, got)

	var ae *phys.AccessError
	require.ErrorAs(t, ns.ReadBytes(0x800f_fff0, make([]byte, 32)), &ae)
	assert.Equal(t, phys.ReasonOutOfRange, ae.Reason)
	require.ErrorAs(t, ns.WriteBytes(0x6000_0000, []byte{1}), &ae)
	assert.Equal(t, phys.ReasonNotRAM, ae.Reason)
	require.ErrorAs(t, ns.ZeroBytes(0x0e00_0000, 8), &ae)
	assert.Equal(t, phys.ReasonSecurity, ae.Reason)
}

func TestLookupOverlapping(t *testing.T) {
	b, _ := newBus(t)
	r, ok := b.Lookup(0x0e00_0123)
	require.True(t, ok)
	assert.Equal(t, "s-ram", r.Name)
	assert.Equal(t, phys.Secure, r.Security)
	_, ok = b.Lookup(0x0e10_0000)
	assert.False(t, ok)
	names := []string{}
	for _, r := range b.Overlapping(0, ^uint64(0)) {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"s-ram", "crb", "ns-ram"}, names)
}

func TestConcurrentAccess(t *testing.T) {
	b, _ := newBus(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := b.Accessor(phys.NonSecure)
			for i := range 200 {
				addr := 0x8000_0000 + uint64(g)*0x2000 + uint64(i%64)*8
				_ = a.Write(addr, 8, uint64(i))
				_, _ = a.Read(addr, 8)
			}
		}()
	}
	wg.Wait()
}

func FuzzAccess(f *testing.F) {
	f.Add(uint64(0x8000_0000), 8, true, uint64(1))
	f.Add(uint64(0x0e00_0000), 4, false, uint64(2))
	f.Add(uint64(0x6000_0004), 4, false, uint64(3))
	f.Add(uint64(0xffff_ffff_ffff_fff8), 8, true, uint64(4))
	f.Fuzz(func(t *testing.T, addr uint64, size int, secure bool, v uint64) {
		b := phys.NewBus()
		dev := &regDev{regs: map[uint64]uint64{}}
		_ = b.AddRAM("ns", "n", 0x8000_0000, 0x10000, phys.NonSecure)
		_ = b.AddRAM("s", "s", 0x0e00_0000, 0x10000, phys.Secure)
		_ = b.AddMMIO("m", "d", 0x6000_0000, 0x1000, phys.NonSecure, dev)
		w := phys.NonSecure
		if secure {
			w = phys.Secure
		}
		a := b.Accessor(w)
		werr := a.Write(addr, size, v)
		got, rerr := a.Read(addr, size)
		if (werr == nil) != (rerr == nil) {
			t.Fatalf("write err %v, read err %v", werr, rerr)
		}
		if werr == nil && size < 8 && got != v&(1<<(8*uint(size))-1) {
			t.Fatalf("read back %#x after writing %#x", got, v)
		}
		if size >= 0 && size < 1<<16 {
			p := make([]byte, size)
			_ = a.WriteBytes(addr, p)
			_ = a.ReadBytes(addr, p)
		}
	})
}

// IOAccesses counts what the memcpy_toio loop does: bytes up to an 8-byte
// boundary, 8-byte accesses, bytes for the tail.
func TestIOAccesses(t *testing.T) {
	loop := func(addr uint64, n int) int {
		c := 0
		for n > 0 {
			if addr%8 == 0 && n >= 8 {
				addr, n = addr+8, n-8
			} else {
				addr, n = addr+1, n-1
			}
			c++
		}
		return c
	}
	for addr := uint64(0x1000); addr < 0x1010; addr++ {
		for n := -1; n < 70; n++ {
			assert.Equal(t, loop(addr, n), phys.IOAccesses(addr, n), "addr %#x n %d", addr, n)
		}
	}
	assert.Equal(t, 2+1+3, phys.IOAccesses(0x6, 13), "2 head bytes, one quad, 3 tail bytes")
}

// A device without BlockDevice, RAM and misuse: ReadIO/WriteIO decline and
// the caller falls back to single accesses.
func TestIODeclines(t *testing.T) {
	bus := phys.NewBus()
	require.NoError(t, bus.AddRAM("ram", "ns", 0x1000, 0x1000, phys.NonSecure))
	require.NoError(t, bus.AddMMIO("dev", "x", 0x4000, 0x1000, phys.NonSecure, plainDev{}))
	a := bus.Accessor(phys.NonSecure)
	p := make([]byte, 8)
	assert.False(t, a.WriteIO(0x1000, p), "RAM is not MMIO")
	assert.False(t, a.ReadIO(0x4000, p), "device without BlockDevice")
	assert.False(t, a.ReadIO(0x9000, p), "unmapped")
	assert.False(t, phys.Accessor{}.WriteIO(0x4000, p), "zero accessor")
}

type plainDev struct{}

func (plainDev) ReadMMIO(uint64, int) (uint64, error) { return 0, nil }
func (plainDev) WriteMMIO(uint64, int, uint64) error  { return nil }
