package kbuild

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"strings"
)

// ModuleEntry is one line of modules.builtin or modules.order.
type ModuleEntry struct {
	// Path is the line as written ("kernel/drivers/char/tpm/tpm_crb.ko").
	Path string
	// Object is the object in the source tree ("drivers/char/tpm/tpm_crb.o").
	Object string
	// Name is the module name as KBUILD_MODNAME spells it ("tpm_crb"; "-"
	// becomes "_", so ffa-module.ko is "ffa_module").
	Name string
	Pos  Pos
}

// ModuleList is a parsed modules.builtin or modules.order, in file order
// (link order for modules.builtin, build order for modules.order).
type ModuleList struct {
	File     string
	Entries  []ModuleEntry
	Warnings []Warning
	index    map[string]int // object -> position
}

// Index returns the 0-based position of object ("drivers/char/tpm/tpm_crb.o")
// in the list, or -1.
func (l *ModuleList) Index(object string) int {
	if l == nil {
		return -1
	}
	if i, ok := l.index[object]; ok {
		return i
	}
	return -1
}

// Has reports whether the list names object.
func (l *ModuleList) Has(object string) bool { return l.Index(object) >= 0 }

// ReadModuleListFile reads modules.builtin or modules.order.
func ReadModuleListFile(p string) (*ModuleList, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return ParseModuleList(p, data)
}

// ParseModuleList parses modules.builtin or modules.order: one module path
// per line, relative to the module directory ("kernel/drivers/x/y.ko", as
// "make modules_install" writes them), or relative to the build tree
// ("drivers/x/y.o" in the build tree's modules.order since v6.2, or
// "drivers/x/y.ko" before). Compressed suffixes (.ko.xz, .ko.zst, .ko.gz)
// are accepted. Empty lines are skipped; anything else is a *ParseError.
func ParseModuleList(name string, data []byte) (*ModuleList, error) {
	l := &ModuleList{File: name, index: map[string]int{}}
	if i := indexNUL(data); i >= 0 {
		return nil, offErr(name, int64(i), "NUL byte: not a text module list (modules.builtin.modinfo is a different file)")
	}
	for i, raw := range splitLines(data) {
		ln := i + 1
		t := strings.TrimSpace(string(raw))
		if t == "" {
			continue
		}
		obj, err := moduleObject(t)
		if err != nil {
			return nil, lineErr(name, ln, "%v", err)
		}
		e := ModuleEntry{Path: t, Object: obj, Name: modName(obj), Pos: Pos{File: name, Line: ln}}
		if j, dup := l.index[obj]; dup {
			l.Warnings = append(l.Warnings, Warning{Pos: e.Pos, Msg: fmt.Sprintf("%s listed again (first at line %d); the first position counts", t, l.Entries[j].Pos.Line)})
			continue
		}
		l.index[obj] = len(l.Entries)
		l.Entries = append(l.Entries, e)
	}
	return l, nil
}

func indexNUL(b []byte) int { return bytes.IndexByte(b, 0) }

// moduleObject maps a module list line to the object path in the source tree.
func moduleObject(t string) (string, error) {
	if strings.ContainsAny(t, " \t") {
		return "", fmt.Errorf("%q: a module path has no spaces (one path per line)", clip(t))
	}
	if strings.HasPrefix(t, "/") {
		return "", fmt.Errorf("%q: absolute path; modules.builtin and modules.order hold paths relative to the module directory", clip(t))
	}
	p, found := "", false
	for _, suf := range []string{".ko.xz", ".ko.zst", ".ko.gz", ".ko", ".o"} {
		if strings.HasSuffix(t, suf) {
			p, found = strings.TrimSuffix(t, suf), true
			break
		}
	}
	if !found {
		return "", fmt.Errorf("%q does not end in .ko or .o: not a modules.builtin/modules.order line", clip(t))
	}
	p = strings.TrimPrefix(p, "kernel/")
	if p == "" || strings.HasSuffix(p, "/") {
		return "", fmt.Errorf("%q has no module name", clip(t))
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("%q: empty, . or .. path element", clip(t))
		}
	}
	if c := path.Clean(p); c != p {
		return "", fmt.Errorf("%q is not a clean path", clip(t))
	}
	return p + ".o", nil
}

// modName is KBUILD_MODNAME for an object: its base name with "-" as "_"
// (scripts/Makefile.lib name-fix).
func modName(obj string) string {
	b := strings.TrimSuffix(path.Base(obj), ".o")
	return strings.ReplaceAll(b, "-", "_")
}
