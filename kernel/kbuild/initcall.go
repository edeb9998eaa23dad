package kbuild

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// LevelID is an initcall level as include/linux/init.h spells its section
// suffix (.initcall<LevelID>.init): "early", "0" .. "7", "1s" .. "7s",
// "rootfs". kernel.ParseLevel accepts the same strings.
type LevelID string

// levelOrder lists the levels in the order INIT_CALLS lays them out
// (include/asm-generic/vmlinux.lds.h) and do_initcalls runs them: every
// level's _sync entries follow its own, and rootfs sits between 5s and 6.
var levelOrder = []LevelID{"early", "0", "1", "1s", "2", "2s", "3", "3s", "4", "4s", "5", "5s", "rootfs", "6", "6s", "7", "7s"}

// LevelIDs returns every initcall level in run order (a fresh slice).
func LevelIDs() []LevelID { return append([]LevelID(nil), levelOrder...) }

// Rank is the level's position in run order, -1 for an unknown level.
func (l LevelID) Rank() int {
	for i, x := range levelOrder {
		if x == l {
			return i
		}
	}
	return -1
}

// Name is the init.h name of the level ("device", "late_sync").
func (l LevelID) Name() string {
	base := map[byte]string{'0': "pure", '1': "core", '2': "postcore", '3': "arch", '4': "subsys", '5': "fs", '6': "device", '7': "late"}
	switch {
	case l == "early" || l == "rootfs":
		return string(l)
	case len(l) == 1 && base[l[0]] != "":
		return base[l[0]]
	case len(l) == 2 && l[1] == 's' && base[l[0]] != "":
		return base[l[0]] + "_sync"
	}
	return string(l)
}

// boundary is the linker symbol that starts a level's range: INIT_CALLS
// defines __initcall_start (early), __initcall0_start .. __initcall7_start,
// __initcallrootfs_start, and __initcall_end. A level's _sync entries share
// their base level's range.
func boundaryLevel(sym string) (LevelID, bool) {
	switch sym {
	case "__initcall_start":
		return "early", true
	case "__initcall_end":
		return "end", true
	}
	if strings.HasPrefix(sym, "__initcall") && strings.HasSuffix(sym, "_start") {
		id := LevelID(strings.TrimSuffix(strings.TrimPrefix(sym, "__initcall"), "_start"))
		if id.Rank() >= 0 && !strings.HasSuffix(string(id), "s") || id == "rootfs" {
			return id, true
		}
	}
	return "", false
}

// InitcallEntry is one initcall table entry.
type InitcallEntry struct {
	Fn     string  `json:"fn"`               // the function called (init_ima)
	Module string  `json:"module,omitempty"` // KBUILD_MODNAME (ima); "" for pre-5.14 names
	Level  LevelID `json:"level"`
	// SrcLine is the source line of the initcall macro (from the symbol).
	SrcLine int    `json:"src_line,omitempty"`
	Addr    uint64 `json:"addr"`
	Symbol  string `json:"symbol,omitempty"` // __initcall__kmod_ima__818_1274_init_ima7
	Pos     Pos    `json:"pos"`
}

// InitcallTable is the initcall table of one kernel image, in address order,
// which is the order do_initcalls runs the entries.
type InitcallTable struct {
	File string
	// Kind is "System.map" or "vmlinux".
	Kind string
	// Encoding (vmlinux only): "prel32" (32-bit offset from the entry,
	// CONFIG_HAVE_ARCH_PREL32_RELOCATIONS) or "absolute" (pointers).
	Encoding string
	Entries  []InitcallEntry
	// Bounds holds the __initcall<level>_start addresses found ("end" for
	// __initcall_end).
	Bounds   map[LevelID]uint64
	Warnings []Warning
}

// Level returns the entries of one level in run order.
func (t *InitcallTable) Level(l LevelID) []InitcallEntry {
	var out []InitcallEntry
	for _, e := range t.Entries {
		if e.Level == l {
			out = append(out, e)
		}
	}
	return out
}

// Find returns the first entry calling fn.
func (t *InitcallTable) Find(fn string) (InitcallEntry, int, bool) {
	for i, e := range t.Entries {
		if e.Fn == fn {
			return e, i, true
		}
	}
	return InitcallEntry{}, -1, false
}

var kmodIDRE = regexp.MustCompile(`^(.+?)__([0-9]+)_([0-9]+)_(.+)$`)

// DecodeInitcallSymbol decodes an initcall entry's symbol name:
//
//	__initcall__kmod_<modname>__<counter>_<line>_<fn><level>   (v5.14+, init.h __initcall_name)
//	__initcall_<fn><level>                                     (older kernels)
//
// where <level> is a section suffix (early, 0..7, 1s..7s, rootfs). The
// boundary symbols (__initcall_start, __initcall6_start, __initcall_end)
// are not entries.
func DecodeInitcallSymbol(name string) (InitcallEntry, bool) {
	if rest, ok := strings.CutPrefix(name, "__initcall__kmod_"); ok {
		m := kmodIDRE.FindStringSubmatch(rest)
		if m == nil {
			return InitcallEntry{}, false
		}
		fn, lvl, ok := splitLevel(m[4])
		if !ok {
			return InitcallEntry{}, false
		}
		line, _ := strconv.Atoi(m[3])
		return InitcallEntry{Fn: fn, Module: m[1], Level: lvl, SrcLine: line, Symbol: name}, true
	}
	if rest, ok := strings.CutPrefix(name, "__initcall_"); ok && !strings.HasPrefix(rest, "_") {
		fn, lvl, ok := splitLevel(rest)
		if !ok {
			return InitcallEntry{}, false
		}
		return InitcallEntry{Fn: fn, Level: lvl, Symbol: name}, true
	}
	return InitcallEntry{}, false
}

// decodeStub decodes an LTO stub name (__initstub__kmod_<mod>__<c>_<line>_<fn><level>)
// to the function it calls.
func decodeStub(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "__initstub__kmod_")
	if !ok {
		return "", false
	}
	e, ok := DecodeInitcallSymbol("__initcall__kmod_" + rest)
	return e.Fn, ok
}

// splitLevel splits "<fn><level>": the level suffix is rootfs, early, a
// digit 0-7, or a digit 1-7 followed by s. The split is unambiguous because
// the level always comes last.
func splitLevel(s string) (fn string, lvl LevelID, ok bool) {
	n := len(s)
	switch {
	case strings.HasSuffix(s, "rootfs") && n > 6:
		return s[:n-6], "rootfs", true
	case strings.HasSuffix(s, "early") && n > 5:
		return s[:n-5], "early", true
	case n >= 3 && s[n-1] == 's' && s[n-2] >= '1' && s[n-2] <= '7':
		return s[:n-2], LevelID(s[n-2:]), true
	case n >= 2 && s[n-1] >= '0' && s[n-1] <= '7':
		return s[:n-1], LevelID(s[n-1:]), true
	}
	return "", "", false
}

// sortAndCheck orders entries by address and checks each against the level
// boundaries when they are known.
func (t *InitcallTable) sortAndCheck() {
	sort.SliceStable(t.Entries, func(i, j int) bool { return t.Entries[i].Addr < t.Entries[j].Addr })
	if len(t.Bounds) == 0 {
		return
	}
	for _, e := range t.Entries {
		base := e.Level
		if len(base) == 2 && base[1] == 's' {
			base = base[:1]
		}
		lo, okLo := t.Bounds[base]
		if !okLo {
			continue
		}
		hi, okHi := uint64(0), false
		for r := base.Rank() + 1; r < len(levelOrder); r++ {
			if v, ok := t.Bounds[levelOrder[r]]; ok {
				hi, okHi = v, true
				break
			}
		}
		if !okHi {
			hi, okHi = t.Bounds["end"]
		}
		if e.Addr < lo || (okHi && e.Addr >= hi) {
			t.Warnings = append(t.Warnings, Warning{Pos: e.Pos, Msg: fmt.Sprintf("%s at %#x is outside the %s level's range starting at %#x", e.Symbol, e.Addr, e.Level.Name(), lo)})
		}
	}
}
