package kbuild

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Options name the inputs. Dir is a /usr/lib/modules/<version>-style
// directory (or a kernel build tree); the single-file options override what
// Load finds there.
type Options struct {
	Dir            string
	KernelConfig   string // .config, config-<version> or config.gz
	ModulesBuiltin string
	ModulesOrder   string
	SystemMap      string
	Vmlinux        string
}

// FileUse records what Load did with one input file.
type FileUse struct {
	Role string `json:"role"` // config, modules.builtin, modules.order, System.map, vmlinux
	Path string `json:"path"`
	// How: "given" (a single-file option) or "found" (discovered from Dir).
	How  string `json:"how"`
	Used bool   `json:"used"`
	Note string `json:"note,omitempty"`
}

// Inputs is everything Load read, with provenance.
type Inputs struct {
	// Version is the kernel release: the config header's version, or the
	// module directory's name.
	Version   string
	Dir       string
	Files     []FileUse
	Config    *Config
	Builtin   *ModuleList
	Order     *ModuleList
	Initcalls *InitcallTable
	Kconfig   *Kconfig
	LinkOrder *LinkOrder
	Patches   PatchFacts
	Warnings  []Warning
	// Looked lists the paths Load tried, for error messages and --verbose.
	Looked []string
}

// Load reads a kernel's build outputs: from opts.Dir (modules.builtin,
// modules.order, and the config, System.map and vmlinux where a
// distribution or a build tree puts them: DIR/.config, DIR/build/.config,
// <root>/boot/config-<version>, <root>/boot/System.map-<version>,
// <root>/usr/lib/debug/boot/vmlinux-<version>, where DIR is
// <root>/lib/modules/<version> or <root>/usr/lib/modules/<version>) and
// from the single-file options. A kernel config is required. A discovered
// file that cannot be used (Debian's placeholder System.map) is skipped
// with a note; a named file that cannot be used is an error.
func Load(opts Options) (*Inputs, error) {
	in := &Inputs{Dir: opts.Dir}
	var root, dirVersion string
	if opts.Dir != "" {
		st, err := os.Stat(opts.Dir)
		if err != nil {
			return nil, fmt.Errorf("kernel directory: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("kernel directory %s is not a directory (name single files with --kernel-config, --modules-builtin, --modules-order, --system-map, --vmlinux)", opts.Dir)
		}
		root, dirVersion = splitModulesDir(opts.Dir)
	}
	in.Version = dirVersion

	// Kernel config.
	cfgPath, cfgHow := pick(in, opts.KernelConfig, opts.Dir, "config", configCandidates(opts.Dir, root, dirVersion))
	if cfgPath == "" {
		if opts.Dir == "" {
			return nil, errors.New("no kernel config: pass --kernel-config FILE (a .config, /boot/config-<version> or /proc/config.gz) or --kernel-dir DIR")
		}
		return nil, fmt.Errorf("no kernel config found for %s (looked at %s): pass --kernel-config FILE, e.g. /boot/config-%s", opts.Dir, strings.Join(in.Looked, ", "), orPlaceholder(dirVersion))
	}
	cfg, err := ReadConfigFile(cfgPath)
	if err != nil {
		return nil, err
	}
	in.Config = cfg
	in.use("config", cfgPath, cfgHow, "")
	in.Warnings = append(in.Warnings, cfg.Warnings...)
	if cfg.Version != "" {
		if dirVersion != "" && !strings.HasPrefix(dirVersion, cfg.Version) {
			in.Warnings = append(in.Warnings, Warning{Pos: Pos{File: cfgPath}, Msg: fmt.Sprintf("the config is for Linux %s but the module directory is %s: are they from the same kernel?", cfg.Version, dirVersion)})
		}
		in.Version = cfg.Version
	}

	// Module lists.
	if p, how := pick(in, opts.ModulesBuiltin, opts.Dir, "modules.builtin", candidates(opts.Dir, "modules.builtin")); p != "" {
		l, err := ReadModuleListFile(p)
		if err != nil {
			return nil, err
		}
		in.Builtin = l
		in.Warnings = append(in.Warnings, l.Warnings...)
		in.use("modules.builtin", p, how, "")
	}
	if p, how := pick(in, opts.ModulesOrder, opts.Dir, "modules.order", candidates(opts.Dir, "modules.order")); p != "" {
		l, err := ReadModuleListFile(p)
		if err != nil {
			return nil, err
		}
		in.Order = l
		in.Warnings = append(in.Warnings, l.Warnings...)
		in.use("modules.order", p, how, "")
	}

	// Initcall tables: vmlinux first (it is the image itself), then System.map.
	vmCands := append(candidates(opts.Dir, "vmlinux", "build/vmlinux"), rootCandidates(root, dirVersion, "usr/lib/debug/boot/vmlinux-%s", "usr/lib/debug/lib/modules/%s/vmlinux")...)
	if p, how := pick(in, opts.Vmlinux, opts.Dir, "vmlinux", vmCands); p != "" {
		t, err := ReadVmlinuxFile(p)
		switch {
		case err == nil:
			in.Initcalls = t
			in.Warnings = append(in.Warnings, t.Warnings...)
			in.use("vmlinux", p, how, fmt.Sprintf("%d initcall entries (%s)", len(t.Entries), t.Encoding))
		case how == "given":
			return nil, err
		default:
			in.skip("vmlinux", p, how, err.Error())
		}
	}
	mapCands := append(candidates(opts.Dir, "System.map", "build/System.map"), rootCandidates(root, dirVersion, "boot/System.map-%s")...)
	if p, how := pick(in, opts.SystemMap, opts.Dir, "System.map", mapCands); p != "" {
		t, err := ReadSystemMapFile(p)
		switch {
		case err != nil && how == "given":
			return nil, err
		case err != nil:
			in.skip("System.map", p, how, err.Error())
		case in.Initcalls != nil:
			in.checkSameOrder(t)
			in.skip("System.map", p, how, "not needed: the vmlinux gives the initcall table")
		default:
			in.Initcalls = t
			in.Warnings = append(in.Warnings, t.Warnings...)
			in.use("System.map", p, how, fmt.Sprintf("%d initcall entries", len(t.Entries)))
		}
	}

	in.Kconfig = Resolve(cfg, in.Version)
	in.LinkOrder = DeriveLinkOrder(in.Kconfig, in.Builtin, in.Initcalls)
	in.Patches = InferPatches(in.Kconfig, in.Builtin, in.Initcalls)
	return in, nil
}

func orPlaceholder(v string) string {
	if v == "" {
		return "<version>"
	}
	return v
}

func (in *Inputs) use(role, p, how, note string) {
	in.Files = append(in.Files, FileUse{Role: role, Path: p, How: how, Used: true, Note: note})
}

func (in *Inputs) skip(role, p, how, note string) {
	in.Files = append(in.Files, FileUse{Role: role, Path: p, How: how, Note: note})
}

// checkSameOrder warns when a System.map disagrees with the vmlinux about
// the model's initcalls.
func (in *Inputs) checkSameOrder(m *InitcallTable) {
	pos := func(t *InitcallTable, fn string) (LevelID, int) {
		e, i, ok := t.Find(fn)
		if !ok {
			return "", -1
		}
		return e.Level, i
	}
	for _, k := range knownInitcalls {
		lv, iv := pos(in.Initcalls, k.Fn)
		lm, im := pos(m, k.Fn)
		if (iv < 0) != (im < 0) || lv != lm {
			in.Warnings = append(in.Warnings, Warning{Pos: Pos{File: m.File}, Msg: fmt.Sprintf("System.map and vmlinux disagree about %s: are they from the same build?", k.Fn)})
			return
		}
	}
}

// splitModulesDir recognises <root>/lib/modules/<version> and
// <root>/usr/lib/modules/<version>.
func splitModulesDir(dir string) (root, version string) {
	clean := filepath.Clean(dir)
	parent := filepath.Dir(clean)
	if filepath.Base(parent) != "modules" {
		return "", ""
	}
	version = filepath.Base(clean)
	lib := filepath.Dir(parent)
	if filepath.Base(lib) != "lib" {
		return "", version
	}
	root = filepath.Dir(lib)
	if filepath.Base(root) == "usr" {
		root = filepath.Dir(root)
	}
	return root, version
}

func candidates(dir string, names ...string) []string {
	if dir == "" {
		return nil
	}
	var out []string
	for _, n := range names {
		out = append(out, filepath.Join(dir, n))
	}
	return out
}

func rootCandidates(root, version string, patterns ...string) []string {
	if root == "" || version == "" {
		return nil
	}
	var out []string
	for _, p := range patterns {
		out = append(out, filepath.Join(root, fmt.Sprintf(p, version)))
	}
	return out
}

func configCandidates(dir, root, version string) []string {
	c := candidates(dir, ".config", "config", "build/.config")
	return append(c, rootCandidates(root, version, "boot/config-%s")...)
}

// pick returns the given path, or the first candidate that is a regular
// file; it records every candidate it looked at.
func pick(in *Inputs, given, dir, role string, cands []string) (string, string) {
	if given != "" {
		return given, "given"
	}
	for _, c := range cands {
		in.Looked = append(in.Looked, c)
		st, err := os.Stat(c)
		if err == nil && st.Mode().IsRegular() {
			return c, "found"
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			in.Warnings = append(in.Warnings, Warning{Pos: Pos{File: c}, Msg: fmt.Sprintf("%s candidate not readable: %v", role, err)})
		}
	}
	return "", ""
}
