package phys

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// World is the security state of a region or of the agent making an access.
type World uint8

// Security states.
const (
	NonSecure World = iota
	Secure
)

// String returns "non-secure" or "secure".
func (w World) String() string {
	switch w {
	case NonSecure:
		return "non-secure"
	case Secure:
		return "secure"
	}
	return fmt.Sprintf("World(%d)", uint8(w))
}

// Kind tells RAM regions from MMIO device windows.
type Kind uint8

// Region kinds.
const (
	RAM Kind = iota
	MMIO
)

// String returns "RAM" or "MMIO".
func (k Kind) String() string {
	switch k {
	case RAM:
		return "RAM"
	case MMIO:
		return "MMIO"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// PageSize is the translation granule used for buffers (4 KiB).
const PageSize = 4096

// Device is an MMIO device. Offsets are relative to the start of its window;
// the bus has already checked size (1, 2, 4 or 8), alignment and bounds.
type Device interface {
	ReadMMIO(off uint64, size int) (uint64, error)
	WriteMMIO(off uint64, size int, v uint64) error
}

// BlockIO is memcpy_fromio / memcpy_toio in one call; Accessor has it.
// ReadIO and WriteIO report false, having done nothing, when they cannot
// serve the run, and the caller then makes the single accesses (and sees
// their faults). Drivers look for it on the memory they are given; fakes
// that record or fault single accesses do not implement it.
type BlockIO interface {
	ReadIO(addr uint64, p []byte) bool
	WriteIO(addr uint64, p []byte) bool
}

var _ BlockIO = Accessor{}

// BlockDevice is an optional Device interface for a run of the device's
// window that behaves as plain memory (a CRB data buffer). ReadMMIOBlock
// and WriteMMIOBlock move p in one call, with the effect of the sequence of
// accesses Linux's memcpy_fromio / memcpy_toio would make over the run (see
// IOAccesses). Each returns false, having changed nothing, when the run is
// not such memory; the caller then makes the accesses one by one.
type BlockDevice interface {
	ReadMMIOBlock(off uint64, p []byte) bool
	WriteMMIOBlock(off uint64, p []byte) bool
}

// IOAccesses is the number of accesses Linux's memcpy_toio and
// memcpy_fromio (arch/arm64/kernel/io.c, __memcpy_toio) make to copy n
// bytes at addr: single bytes up to an 8-byte boundary, 8-byte accesses,
// then single bytes for the tail.
func IOAccesses(addr uint64, n int) int {
	if n <= 0 {
		return 0
	}
	head := int((8 - addr%8) % 8)
	if head >= n {
		return n
	}
	rest := n - head
	return head + rest/8 + rest%8
}

// Region describes one range of the address space.
type Region struct {
	Name     string
	Owner    string
	Base     uint64
	Size     uint64
	Security World
	Kind     Kind
}

// End returns the first address after the region.
func (r Region) End() uint64 { return r.Base + r.Size }

// Contains reports whether [addr, addr+size) lies inside the region.
func (r Region) Contains(addr, size uint64) bool {
	return addr >= r.Base && size <= r.Size && addr-r.Base <= r.Size-size
}

// Overlaps reports whether [addr, addr+size) shares a byte with the region.
func (r Region) Overlaps(addr, size uint64) bool {
	return size != 0 && r.Size != 0 && addr < r.End() && r.Base < addr+size
}

// String renders the region for logs.
func (r Region) String() string {
	return fmt.Sprintf("%s [%#x..%#x) %s %s owner=%s", r.Name, r.Base, r.End(), r.Security, r.Kind, r.Owner)
}

type region struct {
	Region
	dev Device

	mu    sync.Mutex
	pages map[uint64]*[PageSize]byte // RAM, allocated on first write
}

// Bus is the physical address space. The zero value is not usable; call
// NewBus. A Bus is safe for concurrent use.
type Bus struct {
	mu sync.Mutex // serializes Add
	// regions is the memory map sorted by Base. Add publishes a new slice
	// (copy on write); readers load it without locking, since every MMIO
	// and RAM access looks its region up here.
	regions atomic.Pointer[[]*region]
}

// NewBus returns an empty address space.
func NewBus() *Bus { return &Bus{} }

// AddRAM maps a RAM region. Its contents read as zero until written.
func (b *Bus) AddRAM(name, owner string, base, size uint64, sec World) error {
	return b.add(&region{Region: Region{Name: name, Owner: owner, Base: base, Size: size, Security: sec, Kind: RAM}})
}

// AddMMIO maps a device window.
func (b *Bus) AddMMIO(name, owner string, base, size uint64, sec World, dev Device) error {
	if dev == nil {
		return fmt.Errorf("phys: MMIO region %q: nil device", name)
	}
	return b.add(&region{Region: Region{Name: name, Owner: owner, Base: base, Size: size, Security: sec, Kind: MMIO}, dev: dev})
}

func (b *Bus) add(r *region) error {
	if r.Size == 0 {
		return fmt.Errorf("phys: region %q at %#x: size is zero", r.Name, r.Base)
	}
	if r.Base+r.Size < r.Base {
		return fmt.Errorf("phys: region %q at %#x size %#x: wraps the address space", r.Name, r.Base, r.Size)
	}
	if r.Security != Secure && r.Security != NonSecure {
		return fmt.Errorf("phys: region %q: invalid security state %d", r.Name, r.Security)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.snapshot()
	for _, o := range cur {
		if o.Overlaps(r.Base, r.Size) {
			return fmt.Errorf("phys: region %q [%#x..%#x) overlaps %q [%#x..%#x)",
				r.Name, r.Base, r.End(), o.Name, o.Base, o.End())
		}
		if o.Name == r.Name {
			return fmt.Errorf("phys: region name %q already used", r.Name)
		}
	}
	if r.Kind == RAM {
		r.pages = make(map[uint64]*[PageSize]byte)
	}
	next := make([]*region, 0, len(cur)+1)
	next = append(append(next, cur...), r)
	sort.Slice(next, func(i, j int) bool { return next[i].Base < next[j].Base })
	b.regions.Store(&next)
	return nil
}

// snapshot returns the current memory map (never modified in place).
func (b *Bus) snapshot() []*region {
	if p := b.regions.Load(); p != nil {
		return *p
	}
	return nil
}

// Regions returns a copy of the memory map, sorted by base address.
func (b *Bus) Regions() []Region {
	cur := b.snapshot()
	out := make([]Region, len(cur))
	for i, r := range cur {
		out[i] = r.Region
	}
	return out
}

// Lookup returns the region that holds addr.
func (b *Bus) Lookup(addr uint64) (Region, bool) {
	if r := b.find(addr); r != nil {
		return r.Region, true
	}
	return Region{}, false
}

// Overlapping returns every region that shares a byte with [addr, addr+size).
func (b *Bus) Overlapping(addr, size uint64) []Region {
	var out []Region
	for _, r := range b.snapshot() {
		if r.Overlaps(addr, size) {
			out = append(out, r.Region)
		}
	}
	return out
}

func (b *Bus) find(addr uint64) *region {
	rs := b.snapshot()
	// Binary search for the first region ending after addr.
	lo, hi := 0, len(rs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if rs[m].End() > addr {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo < len(rs) && rs[lo].Base <= addr {
		return rs[lo]
	}
	return nil
}

// Accessor returns the view of the bus seen by agents of world w.
func (b *Bus) Accessor(w World) Accessor { return Accessor{bus: b, world: w} }

// Reason says why an access failed.
type Reason uint8

// Access failure reasons.
const (
	ReasonUnmapped   Reason = iota + 1 // no region at the address
	ReasonMisaligned                   // address not a multiple of the size
	ReasonBadSize                      // size not 1, 2, 4 or 8
	ReasonSecurity                     // non-secure access to secure memory
	ReasonOutOfRange                   // access runs past the end of its region
	ReasonNotRAM                       // byte-slice access to an MMIO window
	ReasonDevice                       // the device rejected the access
)

// String names the reason.
func (r Reason) String() string {
	switch r {
	case ReasonUnmapped:
		return "unmapped address"
	case ReasonMisaligned:
		return "misaligned access"
	case ReasonBadSize:
		return "invalid access size"
	case ReasonSecurity:
		return "non-secure access to secure memory"
	case ReasonOutOfRange:
		return "access crosses the end of the region"
	case ReasonNotRAM:
		return "byte access to a device window"
	case ReasonDevice:
		return "device error"
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// AccessError is returned for every failed access.
type AccessError struct {
	Op     string // "read" or "write"
	Addr   uint64
	Size   int
	World  World
	Region string // name of the region involved, if any
	Reason Reason
	Err    error // device error for ReasonDevice
}

func (e *AccessError) Error() string {
	s := fmt.Sprintf("phys: %s %s of %d bytes at %#x: %s", e.World, e.Op, e.Size, e.Addr, e.Reason)
	if e.Region != "" {
		s += " (region " + e.Region + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the device error, if any.
func (e *AccessError) Unwrap() error { return e.Err }

// Accessor is a world-tagged handle on a Bus. It is a small value; copy it
// freely.
type Accessor struct {
	bus   *Bus
	world World
}

// World returns the security state of the accessor.
func (a Accessor) World() World { return a.world }

// Bus returns the underlying bus.
func (a Accessor) Bus() *Bus { return a.bus }

func (a Accessor) check(op string, addr uint64, size int, scalar bool) (*region, error) {
	fail := func(r Reason, name string) error {
		return &AccessError{Op: op, Addr: addr, Size: size, World: a.world, Region: name, Reason: r}
	}
	if a.bus == nil {
		return nil, fail(ReasonUnmapped, "")
	}
	if scalar {
		switch size {
		case 1, 2, 4, 8:
		default:
			return nil, fail(ReasonBadSize, "")
		}
		if addr%uint64(size) != 0 {
			return nil, fail(ReasonMisaligned, "")
		}
	} else if size < 0 {
		return nil, fail(ReasonBadSize, "")
	}
	r := a.bus.find(addr)
	if r == nil {
		return nil, fail(ReasonUnmapped, "")
	}
	if r.Security == Secure && a.world != Secure {
		return nil, fail(ReasonSecurity, r.Name)
	}
	if !r.Contains(addr, uint64(size)) {
		return nil, fail(ReasonOutOfRange, r.Name)
	}
	if !scalar && r.Kind != RAM {
		return nil, fail(ReasonNotRAM, r.Name)
	}
	return r, nil
}

// Read performs a 1, 2, 4 or 8 byte little-endian read.
func (a Accessor) Read(addr uint64, size int) (uint64, error) {
	r, err := a.check("read", addr, size, true)
	if err != nil {
		return 0, err
	}
	if r.Kind == MMIO {
		v, err := r.dev.ReadMMIO(addr-r.Base, size)
		if err != nil {
			return 0, &AccessError{Op: "read", Addr: addr, Size: size, World: a.world, Region: r.Name, Reason: ReasonDevice, Err: err}
		}
		return v, nil
	}
	var buf [8]byte
	r.readAt(addr-r.Base, buf[:size])
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// Write performs a 1, 2, 4 or 8 byte little-endian write; bits of v above
// the access size are ignored.
func (a Accessor) Write(addr uint64, size int, v uint64) error {
	r, err := a.check("write", addr, size, true)
	if err != nil {
		return err
	}
	if size < 8 {
		v &= 1<<(8*uint(size)) - 1
	}
	if r.Kind == MMIO {
		if err := r.dev.WriteMMIO(addr-r.Base, size, v); err != nil {
			return &AccessError{Op: "write", Addr: addr, Size: size, World: a.world, Region: r.Name, Reason: ReasonDevice, Err: err}
		}
		return nil
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], v)
	r.writeAt(addr-r.Base, buf[:size])
	return nil
}

// ReadBytes fills p from RAM at addr. The whole range must lie in one RAM
// region the accessor may read.
func (a Accessor) ReadBytes(addr uint64, p []byte) error {
	r, err := a.check("read", addr, len(p), false)
	if err != nil {
		return err
	}
	r.readAt(addr-r.Base, p)
	return nil
}

// WriteBytes copies p to RAM at addr. The whole range must lie in one RAM
// region the accessor may write.
func (a Accessor) WriteBytes(addr uint64, p []byte) error {
	r, err := a.check("write", addr, len(p), false)
	if err != nil {
		return err
	}
	r.writeAt(addr-r.Base, p)
	return nil
}

// ReadIO is memcpy_fromio over a device that serves the run as a block: it
// fills p from the MMIO window at addr in one call and reports true, or
// reports false, having done nothing, when the run is not inside one MMIO
// region this accessor may read whose device implements BlockDevice and
// accepts the run. On false the caller makes the accesses one by one (and
// gets their errors).
func (a Accessor) ReadIO(addr uint64, p []byte) bool {
	r, bd := a.blockDevice(addr, len(p))
	return bd != nil && bd.ReadMMIOBlock(addr-r.Base, p)
}

// WriteIO is memcpy_toio, with the same rules as ReadIO.
func (a Accessor) WriteIO(addr uint64, p []byte) bool {
	r, bd := a.blockDevice(addr, len(p))
	return bd != nil && bd.WriteMMIOBlock(addr-r.Base, p)
}

func (a Accessor) blockDevice(addr uint64, n int) (*region, BlockDevice) {
	if a.bus == nil || n <= 0 {
		return nil, nil
	}
	r := a.bus.find(addr)
	if r == nil || r.Kind != MMIO || (r.Security == Secure && a.world != Secure) || !r.Contains(addr, uint64(n)) {
		return nil, nil
	}
	bd, ok := r.dev.(BlockDevice)
	if !ok {
		return nil, nil
	}
	return r, bd
}

// ZeroBytes clears n bytes of RAM at addr.
func (a Accessor) ZeroBytes(addr uint64, n int) error {
	r, err := a.check("write", addr, n, false)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	off, end := addr-r.Base, addr-r.Base+uint64(n)
	for off < end {
		pg, in := off/PageSize, off%PageSize
		k := min(uint64(PageSize)-in, end-off)
		if p := r.pages[pg]; p != nil {
			clear(p[in : in+k])
		}
		off += k
	}
	return nil
}

func (r *region) readAt(off uint64, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(p) > 0 {
		pg, in := off/PageSize, off%PageSize
		n := min(PageSize-int(in), len(p))
		if page := r.pages[pg]; page != nil {
			copy(p[:n], page[in:])
		} else {
			clear(p[:n])
		}
		p, off = p[n:], off+uint64(n)
	}
}

func (r *region) writeAt(off uint64, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(p) > 0 {
		pg, in := off/PageSize, off%PageSize
		n := min(PageSize-int(in), len(p))
		page := r.pages[pg]
		if page == nil {
			page = new([PageSize]byte)
			r.pages[pg] = page
		}
		copy(page[in:], p[:n])
		p, off = p[n:], off+uint64(n)
	}
}
