package kbuild

import (
	"os"
	"strconv"
	"strings"
)

// ReadSystemMapFile reads a System.map (or a /proc/kallsyms copy).
func ReadSystemMapFile(p string) (*InitcallTable, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return ParseSystemMap(p, data)
}

// debianStub is the one line Debian ships as /boot/System.map-<version>;
// the real map is in the -dbg package.
const debianStub = "The real System.map is in the"

// ParseSystemMap reads the initcall table from a System.map ("<hex address>
// <type> <symbol>" per line, as scripts/mksysmap writes it; a fourth
// "[module]" field, as in /proc/kallsyms, marks module symbols, which are
// skipped). The entries come out in address order, which is the order
// do_initcalls runs them. Malformed lines are a *ParseError naming the line.
func ParseSystemMap(name string, data []byte) (*InitcallTable, error) {
	t := &InitcallTable{File: name, Kind: "System.map", Bounds: map[LevelID]uint64{}}
	if i := indexNUL(data); i >= 0 {
		return nil, offErr(name, int64(i), "NUL byte: not a text System.map (for a vmlinux ELF file use --vmlinux)")
	}
	symbols := 0
	nonZero := false
	for i, raw := range splitLines(data) {
		ln := i + 1
		line := string(raw)
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.Contains(line, debianStub) {
			return nil, lineErr(name, ln, "Debian's placeholder, not a System.map (%q): the real System.map and the vmlinux are in linux-image-<version>-dbg; pass its /usr/lib/debug/boot/vmlinux-<version> with --vmlinux", strings.TrimSpace(line))
		}
		f := strings.Fields(line)
		if len(f) != 3 && len(f) != 4 {
			return nil, lineErr(name, ln, "want \"<hex address> <type> <symbol>\", got %d fields in %q", len(f), clip(line))
		}
		if len(f[0]) > 16 {
			return nil, lineErr(name, ln, "address %q is longer than 64 bits", clip(f[0]))
		}
		addr, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			return nil, lineErr(name, ln, "address %q is not hexadecimal", clip(f[0]))
		}
		if len(f[1]) != 1 {
			return nil, lineErr(name, ln, "symbol type %q is not one letter", clip(f[1]))
		}
		if len(f) == 4 {
			if !strings.HasPrefix(f[3], "[") || !strings.HasSuffix(f[3], "]") {
				return nil, lineErr(name, ln, "fourth field %q is not a [module] name", clip(f[3]))
			}
			continue // a module's symbol (kallsyms): not in the vmlinux table
		}
		symbols++
		sym := f[2]
		if lv, ok := boundaryLevel(sym); ok {
			t.Bounds[lv] = addr
			continue
		}
		e, ok := DecodeInitcallSymbol(sym)
		if !ok {
			continue
		}
		if addr != 0 {
			nonZero = true
		}
		e.Addr = addr
		e.Pos = Pos{File: name, Line: ln}
		t.Entries = append(t.Entries, e)
	}
	if symbols == 0 {
		return nil, fileErr(name, "no symbols: empty System.map")
	}
	if len(t.Entries) == 0 {
		return nil, fileErr(name, "%d symbols but no initcall entries (__initcall__kmod_*<level> or __initcall_*<level>): not a kernel's System.map?", symbols)
	}
	if !nonZero {
		return nil, fileErr(name, "every initcall symbol has address 0 (a /proc/kallsyms read without privilege, kptr_restrict): the order cannot be read; use System.map or read kallsyms as root")
	}
	t.sortAndCheck()
	return t, nil
}
