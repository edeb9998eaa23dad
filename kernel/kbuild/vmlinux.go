package kbuild

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// ReadVmlinuxFile reads the initcall table of an uncompressed vmlinux.
func ReadVmlinuxFile(p string) (*InitcallTable, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return ParseVmlinux(p, f, st.Size())
}

// maxInitcalls bounds the table size (real kernels have about a thousand).
const maxInitcalls = 1 << 20

// ParseVmlinux reads the initcall table of a vmlinux ELF image. It finds the
// entries through the linker's level boundaries (__initcall_start,
// __initcall<level>_start, __initcall_end: a linked vmlinux merges the
// .initcall<level>.init input sections into .init.data) or, in an image
// that kept them, through .initcall<level>.init sections. Each entry is
// decoded as a 32-bit offset from the entry itself
// (CONFIG_HAVE_ARCH_PREL32_RELOCATIONS: arm64, x86_64 and others) or as an
// absolute pointer, whichever resolves to function symbols, and named by the
// function symbol at its target; the __initcall__kmod_* symbol at the entry
// (when present) gives the module, the source line and the _sync level.
// Truncated or malformed files give a *ParseError with the byte offset.
func ParseVmlinux(name string, r io.ReaderAt, size int64) (t *InitcallTable, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fileErr(name, "malformed ELF file (the ELF reader failed: %v)", p)
		}
	}()
	if err := precheckELF(name, r, size); err != nil {
		return nil, err
	}
	f, err := elf.NewFile(r)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return nil, fileErr(name, "not a valid ELF file: %v", err)
		}
		return nil, fileErr(name, "reading ELF header: %v (truncated file?)", err)
	}
	if f.Type == elf.ET_REL {
		return nil, fileErr(name, "relocatable object (ET_REL): the initcall entries are not resolved until the final link; pass the linked vmlinux")
	}
	syms, err := f.Symbols()
	if err != nil {
		if errors.Is(err, elf.ErrNoSymbols) {
			return nil, fileErr(name, "no symbol table (stripped image?): the initcall entries cannot be named; Debian ships the unstripped vmlinux in linux-image-<version>-dbg")
		}
		return nil, fileErr(name, "symbol table: %v", err)
	}
	v := &vmImage{name: name, f: f, size: size, funcs: map[uint64]string{}, named: map[uint64]InitcallEntry{}}
	t = &InitcallTable{File: name, Kind: "vmlinux", Bounds: map[LevelID]uint64{}}
	for _, s := range syms {
		if lv, ok := boundaryLevel(s.Name); ok {
			t.Bounds[lv] = s.Value
			continue
		}
		if e, ok := DecodeInitcallSymbol(s.Name); ok {
			e.Addr = s.Value
			v.named[s.Value] = e
			continue
		}
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Name != "" {
			if old, ok := v.funcs[s.Value]; !ok || preferName(s.Name, old) {
				v.funcs[s.Value] = s.Name
			}
		}
	}
	if len(v.funcs) == 0 {
		return nil, fileErr(name, "no function symbols: cannot resolve initcall entries")
	}

	slots, err := v.slots(t)
	if err != nil {
		return nil, err
	}
	if len(slots) == 0 {
		return nil, fileErr(name, "no initcall table: neither __initcall_start/__initcall_end symbols, .initcall<level>.init sections nor __initcall_* symbols")
	}
	if err := v.decode(t, slots); err != nil {
		return nil, err
	}
	t.sortAndCheck()
	return t, nil
}

// preferName picks a stable, readable name among aliases at one address.
func preferName(n, old string) bool {
	ln, lo := strings.HasPrefix(n, "__"), strings.HasPrefix(old, "__")
	if ln != lo {
		return !ln
	}
	return n < old
}

type vmImage struct {
	name  string
	f     *elf.File
	size  int64
	funcs map[uint64]string
	named map[uint64]InitcallEntry
	// cache holds each walked slot's bytes, read once.
	cache []cachedRange
}

type cachedRange struct {
	lo   uint64
	data []byte
	off  int64 // file offset of lo
}

// load reads a walked slot's whole range in one go; the range must lie in
// one section with file contents.
func (v *vmImage) load(s slot) error {
	if s.fixed || s.hi <= s.lo {
		return nil
	}
	n := s.hi - s.lo
	b, off, err := v.readDirect(s.lo, int(n))
	if err != nil {
		return fileErr(v.name, "the initcall table at %#x..%#x is not inside one section with file contents: %v", s.lo, s.hi, err)
	}
	v.cache = append(v.cache, cachedRange{lo: s.lo, data: b, off: off})
	return nil
}

// slot is a region of the image holding the entries of one level (or of
// several, when only the overall range is known).
type slot struct {
	lo, hi uint64
	level  LevelID // "" when each entry's level comes from its symbol or range
	// fixed: entries are exactly the named symbols inside (no stride walk).
	fixed bool
}

func (v *vmImage) slots(t *InitcallTable) ([]slot, error) {
	var out []slot
	// Kept .initcall<level>.init sections.
	for _, s := range v.f.Sections {
		if !strings.HasPrefix(s.Name, ".initcall") || !strings.Contains(s.Name, ".init") {
			continue
		}
		lv := LevelID(strings.TrimPrefix(s.Name, ".initcall"))
		if i := strings.Index(string(lv), ".init"); i >= 0 {
			lv = lv[:i] // also the LTO form .initcall6.init..kmod_x__1_2_fn
		}
		if lv.Rank() < 0 {
			continue // .con_initcall.init and the like
		}
		if s.Size > 8*maxInitcalls || s.Type == elf.SHT_NOBITS || s.Offset > uint64(v.size) || s.Size > uint64(v.size)-s.Offset {
			return nil, offErr(v.name, int64(min(s.Offset, uint64(v.size))), "section %s (size %#x at file offset %#x) does not fit in the file (%d bytes): truncated or corrupt vmlinux", s.Name, s.Size, s.Offset, v.size)
		}
		out = append(out, slot{lo: s.Addr, hi: s.Addr + s.Size, level: lv})
	}
	if len(out) > 0 {
		return out, nil
	}
	// Level boundaries inside .init.data.
	start, okS := t.Bounds["early"]
	end, okE := t.Bounds["end"]
	if okS && okE {
		if end < start || end-start > 4*maxInitcalls {
			return nil, fileErr(v.name, "__initcall_start %#x and __initcall_end %#x do not bound a plausible table", start, end)
		}
		for lv, a := range t.Bounds {
			if lv != "end" && (a < start || a > end) {
				return nil, fileErr(v.name, "__initcall%s_start %#x lies outside __initcall_start..__initcall_end", lv, a)
			}
		}
		return []slot{{lo: start, hi: end}}, nil
	}
	if okS != okE {
		return nil, fileErr(v.name, "only one of __initcall_start and __initcall_end is defined")
	}
	// Only the per-entry symbols.
	if len(v.named) > 0 {
		return []slot{{fixed: true}}, nil
	}
	return nil, nil
}

// levelAt returns the level whose boundary range holds addr.
func levelAt(t *InitcallTable, addr uint64) LevelID {
	best, bestAddr, found := LevelID(""), uint64(0), false
	for lv, a := range t.Bounds {
		if lv == "end" || a > addr {
			continue
		}
		// Ties (an empty level shares its start with the next): the later
		// level in run order owns the address.
		if !found || a > bestAddr || (a == bestAddr && lv.Rank() > best.Rank()) {
			best, bestAddr, found = lv, a, true
		}
	}
	return best
}

func (v *vmImage) sectionAt(addr uint64, n uint64) (*elf.Section, error) {
	for _, s := range v.f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Size == 0 {
			continue
		}
		if addr >= s.Addr && addr-s.Addr < s.Size && s.Size-(addr-s.Addr) >= n {
			if s.Type == elf.SHT_NOBITS {
				return nil, fileErr(v.name, "initcall entry at %#x lies in %s, which has no file contents (NOBITS)", addr, s.Name)
			}
			return s, nil
		}
	}
	return nil, fileErr(v.name, "no section holds the initcall entry at %#x", addr)
}

func (v *vmImage) read(addr uint64, n int) ([]byte, int64, error) {
	for _, c := range v.cache {
		if addr >= c.lo && addr-c.lo < uint64(len(c.data)) && uint64(len(c.data))-(addr-c.lo) >= uint64(n) {
			i := addr - c.lo
			return c.data[i : i+uint64(n)], c.off + int64(i), nil
		}
	}
	return v.readDirect(addr, n)
}

func (v *vmImage) readDirect(addr uint64, n int) ([]byte, int64, error) {
	s, err := v.sectionAt(addr, uint64(n))
	if err != nil {
		return nil, 0, err
	}
	off := int64(s.Offset + (addr - s.Addr))
	if s.Offset > uint64(v.size) || off < 0 || off+int64(n) > v.size {
		return nil, off, offErr(v.name, off, "section %s ends past the end of the file (%d bytes): truncated vmlinux", s.Name, v.size)
	}
	buf := make([]byte, n)
	if _, err := s.ReadAt(buf, int64(addr-s.Addr)); err != nil {
		return nil, off, offErr(v.name, off, "reading initcall entry in %s: %v", s.Name, err)
	}
	return buf, off, nil
}

type encoding struct {
	name   string
	stride int
}

func (v *vmImage) target(enc encoding, addr uint64, b []byte) uint64 {
	bo := v.f.ByteOrder
	if enc.name == "prel32" {
		return addr + uint64(int64(int32(bo.Uint32(b))))
	}
	if enc.stride == 4 {
		return uint64(bo.Uint32(b))
	}
	return bo.Uint64(b)
}

func (v *vmImage) fnAt(a uint64) (string, bool) {
	n, ok := v.funcs[a]
	if !ok {
		return "", false
	}
	if fn, ok := decodeStub(n); ok {
		return fn, true // CONFIG_LTO_CLANG stub calling the real function
	}
	return n, true
}

// entryAddrs lists the entry addresses of a slot for an encoding.
func (v *vmImage) entryAddrs(s slot, enc encoding) []uint64 {
	if s.fixed {
		var out []uint64
		for a := range v.named {
			out = append(out, a)
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	var out []uint64
	for a := s.lo; a+uint64(enc.stride) <= s.hi && len(out) < maxInitcalls; a += uint64(enc.stride) {
		out = append(out, a)
	}
	return out
}

func (v *vmImage) decode(t *InitcallTable, slots []slot) error {
	ptr := 8
	if v.f.Class == elf.ELFCLASS32 {
		ptr = 4
	}
	for _, s := range slots {
		if err := v.load(s); err != nil {
			return err
		}
	}
	encs := []encoding{{"prel32", 4}, {"absolute", ptr}}
	best, bestHits, bestTotal := encs[0], -1, 0
	for _, enc := range encs {
		hits, total := 0, 0
		for _, s := range slots {
			for _, a := range v.entryAddrs(s, enc) {
				b, _, err := v.read(a, enc.stride)
				if err != nil {
					continue
				}
				total++
				if _, ok := v.fnAt(v.target(enc, a, b)); ok {
					hits++
				}
			}
		}
		if hits > bestHits {
			best, bestHits, bestTotal = enc, hits, total
		}
	}
	if bestHits <= 0 {
		return fileErr(v.name, "no initcall entry points at a function symbol (tried 32-bit relative offsets and %d-bit pointers)", ptr*8)
	}
	t.Encoding = best.name
	if bestHits < bestTotal {
		t.Warnings = append(t.Warnings, Warning{Pos: Pos{File: v.name}, Msg: fmt.Sprintf("%d of %d initcall entries do not point at a function symbol", bestTotal-bestHits, bestTotal)})
	}
	for _, s := range slots {
		for _, a := range v.entryAddrs(s, best) {
			b, off, err := v.read(a, best.stride)
			if err != nil {
				return err
			}
			tgt := v.target(best, a, b)
			fn, ok := v.fnAt(tgt)
			e, named := v.named[a]
			if !ok {
				if !named {
					fn = fmt.Sprintf("0x%x", tgt)
				} else {
					fn = e.Fn
				}
			} else if named && e.Fn != fn {
				t.Warnings = append(t.Warnings, Warning{Pos: Pos{File: v.name, Offset: off}, Msg: fmt.Sprintf("%s points at %s, not %s", e.Symbol, fn, e.Fn)})
			}
			if !named {
				e = InitcallEntry{}
			}
			e.Fn, e.Addr, e.Pos = fn, a, Pos{File: v.name, Offset: off}
			switch {
			case named: // the symbol's suffix is exact (it tells 7 from 7s)
			case s.level != "":
				e.Level = s.level
			default:
				e.Level = levelAt(t, a)
			}
			if e.Level == "" {
				return offErr(v.name, off, "initcall entry at %#x has no level (no boundary symbol below it)", a)
			}
			t.Entries = append(t.Entries, e)
		}
	}
	return nil
}

// precheckELF checks the ELF header and section headers against the file
// size before debug/elf reads them, so that a truncated or corrupt image
// gets an error naming the offset (and no large allocation for a section
// that claims more bytes than the file has).
func precheckELF(name string, r io.ReaderAt, size int64) error {
	var id [16]byte
	if size < 16 {
		return offErr(name, 0, "%d bytes: too short for an ELF header (truncated file?)", size)
	}
	if _, err := r.ReadAt(id[:], 0); err != nil {
		return offErr(name, 0, "reading ELF header: %v", err)
	}
	if string(id[:4]) != "\x7fELF" {
		return offErr(name, 0, "not an ELF file (no \\x7fELF magic); for a compressed vmlinuz use the uncompressed vmlinux (Debian: linux-image-<version>-dbg)")
	}
	var bo binary.ByteOrder
	switch elf.Data(id[5]) {
	case elf.ELFDATA2LSB:
		bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		bo = binary.BigEndian
	default:
		return offErr(name, 5, "unknown ELF data encoding %d", id[5])
	}
	var hdrSize, shoffAt, shentAt, shnumAt, shentWant int64
	switch elf.Class(id[4]) {
	case elf.ELFCLASS64:
		hdrSize, shoffAt, shentAt, shnumAt, shentWant = 64, 40, 58, 60, 64
	case elf.ELFCLASS32:
		hdrSize, shoffAt, shentAt, shnumAt, shentWant = 52, 32, 46, 48, 40
	default:
		return offErr(name, 4, "unknown ELF class %d", id[4])
	}
	if size < hdrSize {
		return offErr(name, 0, "%d bytes: too short for an ELF header (truncated file?)", size)
	}
	h := make([]byte, hdrSize)
	if _, err := r.ReadAt(h, 0); err != nil {
		return offErr(name, 0, "reading ELF header: %v", err)
	}
	var shoff uint64
	if hdrSize == 64 {
		shoff = bo.Uint64(h[shoffAt:])
	} else {
		shoff = uint64(bo.Uint32(h[shoffAt:]))
	}
	shent, shnum := int64(bo.Uint16(h[shentAt:])), int64(bo.Uint16(h[shnumAt:]))
	if shoff == 0 || shnum == 0 {
		return nil // no section headers: debug/elf reports what is missing
	}
	if shent != shentWant {
		return offErr(name, shentAt, "section header size %d, want %d", shent, shentWant)
	}
	if shoff > uint64(size) || uint64(size)-shoff < uint64(shent*shnum) {
		return offErr(name, int64(min(shoff, uint64(size))), "%d section headers at offset %#x run past the end of the file (%d bytes): truncated vmlinux?", shnum, shoff, size)
	}
	sh := make([]byte, shent*shnum)
	if _, err := r.ReadAt(sh, int64(shoff)); err != nil {
		return offErr(name, int64(shoff), "reading section headers: %v", err)
	}
	for i := int64(1); i < shnum; i++ {
		e := sh[i*shent:]
		var typ uint32
		var off, sz uint64
		if hdrSize == 64 {
			typ, off, sz = bo.Uint32(e[4:]), bo.Uint64(e[24:]), bo.Uint64(e[32:])
		} else {
			typ, off, sz = bo.Uint32(e[4:]), uint64(bo.Uint32(e[16:])), uint64(bo.Uint32(e[20:]))
		}
		if elf.SectionType(typ) == elf.SHT_NOBITS || elf.SectionType(typ) == elf.SHT_NULL {
			continue
		}
		if off > uint64(size) || sz > uint64(size)-off {
			return offErr(name, int64(shoff)+i*shent, "section %d (file offset %#x, %d bytes) runs past the end of the file (%d bytes): truncated vmlinux?", i, off, sz, size)
		}
	}
	return nil
}
