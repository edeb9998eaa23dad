package kbuild

import (
	"fmt"
	"sort"
	"strings"
)

// KnownInitcall is an initcall the kernel model implements, with where the
// Linux tree puts it.
type KnownInitcall struct {
	Fn     string // function name (the initcall's name in the model)
	Object string // the vmlinux object that holds it (composite objects as Kbuild names them)
	Module string // KBUILD_MODNAME of that object
	Symbol string // Kconfig symbol that builds the object; "" for always-built code
	Level  LevelID
	Source string // C file and macro
	// ModList is the modules.builtin path of the object ("" for code that can
	// never be a module, which modules.builtin never lists).
	ModList string
}

// knownInitcalls lists the initcalls the model knows, at the levels of a
// kernel without the 2025-2026 fixes (the fixes are patch switches). The
// object names come from the Makefiles: drivers/acpi/Makefile (acpi.o holds
// bus.o), drivers/char/tpm/Makefile
// (tpm.o, tpm_crb.o, tpm_crb_ffa.o), drivers/firmware/arm_ffa/Makefile
// (ffa-core.o = bus.o, ffa-module.o = driver.o + smccc.o; before the split
// a single ffa-module.o held both), security/integrity/ima/Makefile (ima.o)
// and drivers/base/Makefile (dd.o). The module names match the
// __initcall__kmod_<modname> symbols of a real arm64 6.12 vmlinux.
var knownInitcalls = []KnownInitcall{
	{Fn: "acpi_init", Object: "drivers/acpi/acpi.o", Module: "acpi", Symbol: "ACPI", Level: "4",
		Source: "drivers/acpi/bus.c subsys_initcall"},
	{Fn: "arm_ffa_bus_init", Object: "drivers/firmware/arm_ffa/ffa-core.o", Module: "ffa_core", Symbol: "ARM_FFA_TRANSPORT", Level: "4",
		Source: "drivers/firmware/arm_ffa/bus.c subsys_initcall", ModList: "kernel/drivers/firmware/arm_ffa/ffa-core.ko"},
	{Fn: "tpm_init", Object: "drivers/char/tpm/tpm.o", Module: "tpm", Symbol: "TCG_TPM", Level: "4",
		Source: "drivers/char/tpm/tpm-interface.c subsys_initcall", ModList: "kernel/drivers/char/tpm/tpm.ko"},
	{Fn: "crb_acpi_driver_init", Object: "drivers/char/tpm/tpm_crb.o", Module: "tpm_crb", Symbol: "TCG_CRB", Level: "6",
		Source: "drivers/char/tpm/tpm_crb.c module_acpi_driver", ModList: "kernel/drivers/char/tpm/tpm_crb.ko"},
	{Fn: "tpm_crb_ffa_driver_init", Object: "drivers/char/tpm/tpm_crb_ffa.o", Module: "tpm_crb_ffa", Symbol: "TCG_ARM_CRB_FFA", Level: "6",
		Source: "drivers/char/tpm/tpm_crb_ffa.c module_ffa_driver", ModList: "kernel/drivers/char/tpm/tpm_crb_ffa.ko"},
	{Fn: "ffa_init", Object: "drivers/firmware/arm_ffa/ffa-module.o", Module: "ffa_module", Symbol: "ARM_FFA_TRANSPORT", Level: "6",
		Source: "drivers/firmware/arm_ffa/driver.c module_init (rootfs_initcall since v6.17)", ModList: "kernel/drivers/firmware/arm_ffa/ffa-module.ko"},
	{Fn: "init_ima", Object: "security/integrity/ima/ima.o", Module: "ima", Symbol: "IMA", Level: "7",
		Source: "security/integrity/ima/ima_main.c late_initcall (late_initcall_sync with IMA_INIT_LATE_SYNC)"},
	{Fn: "deferred_probe_initcall", Object: "drivers/base/dd.o", Module: "dd", Level: "7",
		Source: "drivers/base/dd.c late_initcall"},
}

// KnownInitcalls returns the initcalls the model knows (a fresh copy).
func KnownInitcalls() []KnownInitcall { return append([]KnownInitcall(nil), knownInitcalls...) }

// Kbuild's link order, for when no file gives it. vmlinux links the
// top-level directories in the order of the top-level Kbuild/Makefile
// (security/ before drivers/), each directory's objects in its Makefile's
// order (drivers/Makefile: char/ before base/ before firmware/;
// drivers/char/tpm/Makefile: tpm.o before tpm_crb.o before tpm_crb_ffa.o;
// drivers/firmware/arm_ffa/Makefile: ffa-core.o before ffa-module.o).
var kbuildTop = []string{"init", "usr", "arch", "kernel", "certs", "mm", "fs", "ipc", "security", "crypto", "block", "io_uring", "rust", "drivers", "sound", "samples", "net", "virt", "lib"}

var kbuildDrivers = strings.Fields(`cache irqchip bus phy pinctrl gpio pwm pci parisc rapidio video idle char/ipmi acpi pnp amba clk dma soc pmdomain virtio vdpa xen regulator reset tty char iommu gpu connector video/fbdev/i810 parport base block misc mfd nfc nvdimm dax dma-buf nubus cxl macintosh scsi nvme ata target mtd spi spmi hsi slimbus net atm message firewire uio vfio cdrom auxdisplay pcmcia dio sbus zorro block/aoe tc usb input/serio input/gameport input rtc i2c i3c media pps ptp w1 power hwmon thermal watchdog md bluetooth accessibility isdn edac eisa opp cpufreq cpuidle mmc ufs memstick leds infiniband firmware crypto sh clocksource dca hid ps3 of ssb bcma vhost greybus comedi staging platform mailbox hwspinlock remoteproc rpmsg soundwire virt hv devfreq extcon memory iio ipack ntb powercap mcb perf ras thunderbolt hwtracing/coresight hwtracing/intel_th hwtracing/stm hwtracing/ptt android nvmem fpga fsi tee mux siox gnss interconnect counter most peci hte accel cdx dpll s390`)

var kbuildObjects = map[string][]string{
	"drivers/char/tpm":         {"tpm.o", "tpm_crb.o", "tpm_crb_ffa.o"},
	"drivers/firmware/arm_ffa": {"ffa-core.o", "ffa-module.o"},
	"security/integrity/ima":   {"ima.o"},
	"drivers/base":             {"dd.o"},
	"drivers/firmware":         {"arm_ffa"},
	"security":                 {"integrity"},
	"security/integrity":       {"ima"},
	"drivers/char":             {"tpm"},
}

// kbuildKey is an object's position in Kbuild's link order, as a sortable
// tuple, and the rule that placed it.
func kbuildKey(obj string) []int {
	parts := strings.Split(obj, "/")
	key := []int{indexOr(kbuildTop, parts[0])}
	rest := parts[1:]
	if parts[0] == "drivers" && len(rest) > 0 {
		// The longest drivers/Makefile entry that prefixes the path.
		best, bestLen := len(kbuildDrivers), 0
		for i, d := range kbuildDrivers {
			dp := strings.Split(d, "/")
			if len(dp) <= len(rest) && strings.Join(rest[:len(dp)], "/") == d && len(dp) > bestLen {
				best, bestLen = i, len(dp)
			}
		}
		key = append(key, best)
	}
	dir := parts[0]
	for _, p := range parts[1:] {
		key = append(key, indexOr(kbuildObjects[dir], p))
		dir += "/" + p
	}
	return key
}

func indexOr(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return len(list)
}

func keyLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// Fact is one piece of evidence behind the boot's inputs, for the CLI's
// "why" section.
type Fact struct {
	// Kind is "kconfig", "link-order", "level", "patch", "presence" or "input".
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	Pos     Pos    `json:"pos,omitzero"`
}

func (f Fact) String() string {
	if p := f.Pos.String(); p != "" {
		return f.Text + " [" + p + "]"
	}
	return f.Text
}

// LevelOrder is the order of the model's initcalls inside one level.
type LevelOrder struct {
	Level LevelID  `json:"level"`
	Fns   []string `json:"fns"`
	// Exact reports that an initcall table (System.map or vmlinux) gave the
	// order; otherwise How names the rules used.
	Exact bool   `json:"exact"`
	How   string `json:"how"`
}

// LinkOrder is where and in which order the model's built-in initcalls run.
type LinkOrder struct {
	Levels []LevelOrder `json:"levels"`
	// LevelOf maps each built-in known initcall to its level.
	LevelOf map[string]LevelID `json:"level_of"`
	// Absent lists known initcalls that Kconfig builds in but the initcall
	// table does not have (the code registers differently in this kernel).
	Absent []string `json:"absent,omitempty"`
	Facts  []Fact   `json:"facts"`
}

// DeriveLinkOrder places the model's initcalls that the configuration builds
// in. With an initcall table the levels and the order come from it exactly;
// without one the level comes from the kernel version and the order from
// modules.builtin (the link order of objects that could be modules) and,
// for code that can never be a module, from Kbuild's directory order.
func DeriveLinkOrder(kc *Kconfig, builtin *ModuleList, tab *InitcallTable) *LinkOrder {
	lo := &LinkOrder{LevelOf: map[string]LevelID{}}
	type placed struct {
		k    KnownInitcall
		lvl  LevelID
		idx  int // table index, or -1
		e    InitcallEntry
		bpos int // modules.builtin index, or -1
	}
	var calls []placed
	for _, k := range knownInitcalls {
		built := k.Symbol == "" || kc.Tri(k.Symbol) == Yes
		var e InitcallEntry
		idx := -1
		if tab != nil {
			e, idx, _ = tab.Find(k.Fn)
		}
		if tab != nil && idx >= 0 && !built {
			lo.Facts = append(lo.Facts, Fact{Kind: "presence", Subject: k.Fn, Pos: e.Pos,
				Text: fmt.Sprintf("%s has %s (%s) but the config builds %s as %s: are the config and the image from the same build? The image wins for the order", tab.File, e.Symbol, k.Fn, k.Symbol, kc.Tri(k.Symbol))})
		}
		if !built {
			continue
		}
		p := placed{k: k, lvl: k.Level, idx: idx, e: e, bpos: -1}
		if builtin != nil && k.ModList != "" {
			p.bpos = builtin.Index(k.Object)
		}
		switch {
		case tab != nil && idx < 0:
			lo.Absent = append(lo.Absent, k.Fn)
			lo.Facts = append(lo.Facts, Fact{Kind: "presence", Subject: k.Fn, Pos: Pos{File: tab.File},
				Text: fmt.Sprintf("%s is built in (CONFIG_%s=y) but %s has no %s initcall", k.Object, k.Symbol, tab.File, k.Fn)})
			continue
		case tab != nil:
			p.lvl = e.Level
			lo.Facts = append(lo.Facts, Fact{Kind: "level", Subject: k.Fn, Pos: e.Pos,
				Text: fmt.Sprintf("%s runs at %s (%s at %#x)", k.Fn, e.Level.Name(), e.Symbol, e.Addr)})
		default:
			p.lvl, _ = defaultLevel(k, kc, &lo.Facts)
		}
		if builtin != nil && k.ModList != "" && tab == nil {
			if p.bpos >= 0 {
				lo.Facts = append(lo.Facts, Fact{Kind: "presence", Subject: k.Fn, Pos: builtin.Entries[p.bpos].Pos,
					Text: fmt.Sprintf("%s lists %s: %s is built in", builtin.File, builtin.Entries[p.bpos].Path, k.Fn)})
			} else {
				lo.Facts = append(lo.Facts, Fact{Kind: "presence", Subject: k.Fn, Pos: Pos{File: builtin.File},
					Text: fmt.Sprintf("%s does not list %s although the config builds CONFIG_%s=y: the files may be from different builds", builtin.File, k.ModList, k.Symbol)})
			}
		}
		lo.LevelOf[k.Fn] = p.lvl
		calls = append(calls, p)
	}

	byLevel := map[LevelID][]placed{}
	for _, c := range calls {
		byLevel[c.lvl] = append(byLevel[c.lvl], c)
	}
	for _, lvl := range levelOrder {
		cs := byLevel[lvl]
		if len(cs) == 0 {
			continue
		}
		lv := LevelOrder{Level: lvl}
		if tab != nil {
			sort.SliceStable(cs, func(i, j int) bool { return cs[i].idx < cs[j].idx })
			lv.Exact = true
			lv.How = tab.Kind + " (address order of the initcall entries)"
			for i := 1; i < len(cs); i++ {
				a, b := cs[i-1], cs[i]
				lo.Facts = append(lo.Facts, Fact{Kind: "link-order", Subject: a.k.Fn + "<" + b.k.Fn, Pos: b.e.Pos,
					Text: fmt.Sprintf("%s: %s (%#x) runs before %s (%#x) at %s", tab.Kind, a.k.Fn, a.e.Addr, b.k.Fn, b.e.Addr, lvl.Name())})
			}
		} else {
			// Kbuild order first, then the objects modules.builtin lists are
			// put in its order within the slots they occupy.
			sort.SliceStable(cs, func(i, j int) bool { return keyLess(kbuildKey(cs[i].k.Object), kbuildKey(cs[j].k.Object)) })
			var slots []int
			var listed []placed
			for i, c := range cs {
				if c.bpos >= 0 {
					slots = append(slots, i)
					listed = append(listed, c)
				}
			}
			sort.SliceStable(listed, func(i, j int) bool { return listed[i].bpos < listed[j].bpos })
			for n, i := range slots {
				cs[i] = listed[n]
			}
			usedBuiltin, usedKbuild := false, false
			for i := 1; i < len(cs); i++ {
				a, b := cs[i-1], cs[i]
				f := Fact{Kind: "link-order", Subject: a.k.Fn + "<" + b.k.Fn}
				if a.bpos >= 0 && b.bpos >= 0 {
					usedBuiltin = true
					f.Pos = builtin.Entries[b.bpos].Pos
					f.Text = fmt.Sprintf("%s lists %s (line %d) before %s (line %d), so %s runs before %s at %s",
						builtin.File, builtin.Entries[a.bpos].Path, builtin.Entries[a.bpos].Pos.Line, builtin.Entries[b.bpos].Path, builtin.Entries[b.bpos].Pos.Line, a.k.Fn, b.k.Fn, lvl.Name())
				} else {
					usedKbuild = true
					f.Text = fmt.Sprintf("no file gives the order of %s and %s (%s): Linux's Kbuild order links %s before %s, so %s runs first at %s",
						a.k.Fn, b.k.Fn, whyUnlisted(a.k, b.k, builtin), a.k.Object, b.k.Object, a.k.Fn, lvl.Name())
				}
				lo.Facts = append(lo.Facts, f)
			}
			switch {
			case len(cs) == 1:
				lv.How = "single initcall"
			case usedBuiltin && usedKbuild:
				lv.How = "modules.builtin order, and Linux's Makefile/Kbuild order for objects it cannot list"
			case usedBuiltin:
				lv.How = "modules.builtin order"
			default:
				lv.How = "Linux's Makefile/Kbuild order (no file gives this level's order)"
			}
		}
		for _, c := range cs {
			lv.Fns = append(lv.Fns, c.k.Fn)
		}
		lo.Levels = append(lo.Levels, lv)
	}
	return lo
}

func whyUnlisted(a, b KnownInitcall, builtin *ModuleList) string {
	var n []string
	for _, k := range []KnownInitcall{a, b} {
		if k.ModList == "" {
			n = append(n, k.Object+" can never be a module, so modules.builtin never lists it")
		} else if builtin == nil {
			n = append(n, "no modules.builtin was given")
		}
	}
	if len(n) == 0 {
		return "modules.builtin does not list both"
	}
	return strings.Join(dedup(n), "; ")
}

func dedup(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// defaultLevel is the level of a known initcall when no initcall table
// says: ffa_init moved to rootfs_initcall in v6.17 (0e0546eabcd6), and
// init_ima runs at late_initcall_sync with IMA_INIT_LATE_SYNC=y.
func defaultLevel(k KnownInitcall, kc *Kconfig, facts *[]Fact) (LevelID, bool) {
	switch k.Fn {
	case "ffa_init":
		if kc.Version != "" && !versionLess(kc.Version, "6.17") {
			*facts = append(*facts, Fact{Kind: "level", Subject: k.Fn, Text: fmt.Sprintf("no initcall table: Linux %s is v6.17 or later, where ffa_init is rootfs_initcall (0e0546eabcd6)", kc.Version)})
			return "rootfs", true
		}
		if kc.Version != "" {
			*facts = append(*facts, Fact{Kind: "level", Subject: k.Fn, Text: fmt.Sprintf("no initcall table: Linux %s predates v6.17, so built-in ffa_init is module_init, i.e. device_initcall", kc.Version)})
		} else {
			*facts = append(*facts, Fact{Kind: "level", Subject: k.Fn, Text: "no initcall table and no kernel version: ffa_init taken as module_init (device level), as before v6.17"})
		}
	case "init_ima":
		if kc.Tri("IMA_INIT_LATE_SYNC") == Yes {
			*facts = append(*facts, Fact{Kind: "level", Subject: k.Fn, Text: "CONFIG_IMA_INIT_LATE_SYNC=y: init_ima runs at late_initcall_sync"})
			return "7s", true
		}
	}
	return k.Level, false
}
