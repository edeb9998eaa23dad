package kbuild

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// A minimal ELF64 writer for synthetic vmlinux fixtures: a .text with one
// 4-byte function per initcall, the initcall table either merged into
// .init.data between the INIT_CALLS boundary symbols (as a linked vmlinux
// has it) or kept as .initcall<level>.init sections, a symbol table and the
// string tables.

type elfSect struct {
	name  string
	typ   elf.SectionType
	flags elf.SectionFlag
	addr  uint64
	data  []byte
}

type elfSym struct {
	name  string
	value uint64
	fn    bool
	sect  int // section index (1-based as in the file)
}

func buildELF(bo binary.ByteOrder, machine elf.Machine, typ elf.Type, sects []elfSect, syms []elfSym) []byte {
	var shstr bytes.Buffer
	shstr.WriteByte(0)
	addStr := func(b *bytes.Buffer, s string) uint32 {
		off := uint32(b.Len())
		b.WriteString(s)
		b.WriteByte(0)
		return off
	}
	var strtab bytes.Buffer
	strtab.WriteByte(0)
	var symtab bytes.Buffer
	symtab.Write(make([]byte, 24)) // null symbol
	for _, s := range syms {
		ent := make([]byte, 24)
		bo.PutUint32(ent[0:], addStr(&strtab, s.name))
		info := byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_OBJECT)
		if s.fn {
			info = byte(elf.STB_GLOBAL)<<4 | byte(elf.STT_FUNC)
		}
		ent[4] = info
		bo.PutUint16(ent[6:], uint16(s.sect))
		bo.PutUint64(ent[8:], s.value)
		bo.PutUint64(ent[16:], 4)
		symtab.Write(ent)
	}
	all := append([]elfSect(nil), sects...)
	symIdx := len(all) + 1
	all = append(all,
		elfSect{name: ".symtab", typ: elf.SHT_SYMTAB, data: symtab.Bytes()},
		elfSect{name: ".strtab", typ: elf.SHT_STRTAB, data: strtab.Bytes()},
		elfSect{name: ".shstrtab", typ: elf.SHT_STRTAB})
	names := make([]uint32, len(all))
	for i, s := range all {
		names[i] = addStr(&shstr, s.name)
	}
	all[len(all)-1].data = shstr.Bytes()

	var out bytes.Buffer
	out.Write(make([]byte, 64))
	offs := make([]uint64, len(all))
	for i, s := range all {
		for out.Len()%8 != 0 {
			out.WriteByte(0)
		}
		offs[i] = uint64(out.Len())
		out.Write(s.data)
	}
	for out.Len()%8 != 0 {
		out.WriteByte(0)
	}
	shoff := uint64(out.Len())
	out.Write(make([]byte, 64)) // null section header
	for i, s := range all {
		sh := make([]byte, 64)
		bo.PutUint32(sh[0:], names[i])
		bo.PutUint32(sh[4:], uint32(s.typ))
		bo.PutUint64(sh[8:], uint64(s.flags))
		bo.PutUint64(sh[16:], s.addr)
		bo.PutUint64(sh[24:], offs[i])
		bo.PutUint64(sh[32:], uint64(len(s.data)))
		if s.typ == elf.SHT_SYMTAB {
			bo.PutUint32(sh[40:], uint32(symIdx+1)) // link: .strtab
			bo.PutUint32(sh[44:], 1)                // first global
			bo.PutUint64(sh[56:], 24)
		}
		bo.PutUint64(sh[48:], 8)
		out.Write(sh)
	}
	b := out.Bytes()
	copy(b[0:], []byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), 0, byte(elf.EV_CURRENT)})
	if bo == binary.LittleEndian {
		b[5] = byte(elf.ELFDATA2LSB)
	} else {
		b[5] = byte(elf.ELFDATA2MSB)
	}
	bo.PutUint16(b[16:], uint16(typ))
	bo.PutUint16(b[18:], uint16(machine))
	bo.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	bo.PutUint64(b[40:], shoff)
	bo.PutUint16(b[52:], 64)
	bo.PutUint16(b[58:], 64)
	bo.PutUint16(b[60:], uint16(len(all)+1))
	bo.PutUint16(b[62:], uint16(len(all))) // shstrndx: last section
	return b
}

// fixtureCall is one initcall of a synthetic vmlinux.
type fixtureCall struct {
	fn, module string
	level      LevelID
	unnamed    bool // no __initcall__ symbol for the entry
}

type vmlinuxOpts struct {
	bo       binary.ByteOrder
	absolute bool // 64-bit pointers instead of PREL32 offsets
	sections bool // keep .initcall<level>.init sections instead of merging
	noBounds bool // leave out the boundary symbols (merged layout only)
	oldNames bool // pre-5.14 names: __initcall_<fn><level>
	ltoStubs bool // CONFIG_LTO_CLANG: entries point at __initstub__kmod_* stubs
}

// syntheticVmlinux builds an arm64 vmlinux whose initcall table holds calls
// in the given order (which must already be grouped by level in run order).
func syntheticVmlinux(calls []fixtureCall, o vmlinuxOpts) []byte {
	if o.bo == nil {
		o.bo = binary.LittleEndian
	}
	const textAddr, dataAddr = 0xffff800080010000, 0xffff800081000000
	stride := uint64(4)
	if o.absolute {
		stride = 8
	}
	text := make([]byte, 4*len(calls))
	var syms []elfSym
	for i, c := range calls {
		fn := c.fn
		if o.ltoStubs {
			fn = fmt.Sprintf("__initstub__kmod_%s__%d_%d_%s%s", c.module, 100+i, 10*i+7, c.fn, c.level)
		}
		syms = append(syms, elfSym{name: fn, value: textAddr + uint64(4*i), fn: true, sect: 1})
	}
	entry := func(at uint64, i int) []byte {
		b := make([]byte, stride)
		tgt := textAddr + uint64(4*i)
		if o.absolute {
			o.bo.PutUint64(b, tgt)
		} else {
			o.bo.PutUint32(b, uint32(int32(int64(tgt-at))))
		}
		return b
	}
	sects := []elfSect{{name: ".text", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, addr: textAddr, data: text}}
	name := func(i int, c fixtureCall) string {
		if o.oldNames {
			return "__initcall_" + c.fn + string(c.level)
		}
		return fmt.Sprintf("__initcall__kmod_%s__%d_%d_%s%s", c.module, 100+i, 10*i+7, c.fn, c.level)
	}
	if o.sections {
		addr := uint64(dataAddr)
		for i := 0; i < len(calls); {
			lv := calls[i].level
			var data []byte
			secIdx := len(sects) + 1
			start := addr
			for ; i < len(calls) && calls[i].level == lv; i++ {
				at := start + uint64(len(data))
				data = append(data, entry(at, i)...)
				if !calls[i].unnamed {
					syms = append(syms, elfSym{name: name(i, calls[i]), value: at, sect: secIdx})
				}
			}
			sects = append(sects, elfSect{name: ".initcall" + string(lv) + ".init", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC, addr: start, data: data})
			addr = start + uint64(len(data)) + 0x100
		}
	} else {
		var data []byte
		data = append(data, make([]byte, 16)...) // something before the table
		bounds := map[LevelID]uint64{}
		for i, c := range calls {
			at := dataAddr + uint64(len(data))
			base := c.level
			if len(base) == 2 && base[1] == 's' {
				base = base[:1]
			}
			if _, ok := bounds[base]; !ok {
				bounds[base] = at
			}
			data = append(data, entry(at, i)...)
			if !c.unnamed {
				syms = append(syms, elfSym{name: name(i, c), value: at, sect: 2})
			}
		}
		end := dataAddr + uint64(len(data))
		data = append(data, make([]byte, 16)...)
		sects = append(sects, elfSect{name: ".init.data", typ: elf.SHT_PROGBITS, flags: elf.SHF_ALLOC | elf.SHF_WRITE, addr: dataAddr, data: data})
		if !o.noBounds {
			// Every level gets a start symbol; empty levels share the next
			// level's address, as in a real link.
			next := end
			for r := len(levelOrder) - 1; r >= 0; r-- {
				lv := levelOrder[r]
				if len(lv) == 2 && lv[1] == 's' {
					continue
				}
				if a, ok := bounds[lv]; ok {
					next = a
				}
				sym := "__initcall" + string(lv) + "_start"
				if lv == "early" {
					sym = "__initcall_start"
				}
				syms = append(syms, elfSym{name: sym, value: next, sect: 2})
			}
			syms = append(syms, elfSym{name: "__initcall_end", value: end, sect: 2})
		}
	}
	return buildELF(o.bo, elf.EM_AARCH64, elf.ET_DYN, sects, syms)
}

// seed002Calls is seed 002's kernel: everything built in, no fixes.
func seed002Calls() []fixtureCall {
	return []fixtureCall{
		{fn: "early_fn", module: "setup", level: "early"},
		{fn: "arm_ffa_bus_init", module: "ffa_core", level: "4"},
		{fn: "tpm_init", module: "tpm", level: "4"},
		{fn: "populate_rootfs", module: "initramfs", level: "rootfs"},
		{fn: "crb_acpi_driver_init", module: "tpm_crb", level: "6"},
		{fn: "tpm_crb_ffa_driver_init", module: "tpm_crb_ffa", level: "6"},
		{fn: "ffa_init", module: "ffa_module", level: "6"},
		{fn: "init_ima", module: "ima", level: "7"},
		{fn: "deferred_probe_initcall", module: "dd", level: "7"},
		{fn: "clk_disable_unused", module: "clk", level: "7s"},
	}
}
