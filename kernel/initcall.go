package kernel

import (
	"slices"
	"strings"
)

// Initcall is a function placed at an initcall level, as the *_initcall
// macros place one (or module_init, which is device_initcall for built-in
// code and runs at module load for =m code).
type Initcall struct {
	Name  string // Linux's function name: ffa_init, crb_acpi_driver_init, init_ima
	Level Level  // where built-in code runs
	// Object is the object file that holds it (security/integrity/ima/ima_main.o);
	// it decides the default link order (Kbuild's directory order).
	Object string
	// Module is the module the code is part of when built as =m ("" when it
	// cannot be a module); Symbol is the Kconfig symbol that builds it.
	Module string
	Symbol string
	// Fn runs the initcall. It returns nil or a kernel Errno; any other
	// error is a fault of the model and stops the boot.
	Fn func(k *Kernel) error
}

// Order is the link order inside initcall levels: for each level, initcall
// names in the order they run. Levels or names it does not list keep the
// default link order after the listed ones.
type Order map[Level][]string

// Clone returns an independent copy.
func (o Order) Clone() Order {
	c := make(Order, len(o))
	for l, names := range o {
		c[l] = append([]string(nil), names...)
	}
	return c
}

// Set replaces the order of one level.
func (o Order) Set(l Level, names ...string) { o[l] = append([]string(nil), names...) }

// String formats the order as the CLI takes it: "device=a,b,c late=x,y".
func (o Order) String() string {
	var parts []string
	for _, l := range Levels() {
		if names, ok := o[l]; ok {
			parts = append(parts, l.String()+"="+strings.Join(names, ","))
		}
	}
	return strings.Join(parts, " ")
}

// Seed002Order returns the link order of seed 002 (and of Linux's real
// Makefiles): device level crb_acpi_driver_init, tpm_crb_ffa_driver_init,
// ffa_init; late level init_ima before deferred_probe_initcall.
func Seed002Order() Order {
	return Order{
		LevelDevice: {"crb_acpi_driver_init", "tpm_crb_ffa_driver_init", "ffa_init"},
		LevelLate:   {"init_ima", "deferred_probe_initcall"},
	}
}

// kbuildDirs is the order in which Kbuild links the top-level directories
// and the drivers/ subdirectories the model knows (Makefile, Kbuild,
// drivers/Makefile): security/ before drivers/, and in drivers/ acpi/,
// char/, base/, firmware/.
var kbuildDirs = []string{
	"init/", "arch/", "kernel/", "certs/", "mm/", "fs/", "ipc/", "security/", "crypto/", "block/",
	"drivers/acpi/", "drivers/char/tpm/tpm-interface.o", "drivers/char/tpm/tpm_crb.o",
	"drivers/char/tpm/tpm_crb_ffa.o", "drivers/char/", "drivers/base/", "drivers/firmware/arm_ffa/bus.o",
	"drivers/firmware/arm_ffa/driver.o", "drivers/firmware/", "drivers/", "sound/", "net/", "lib/",
}

// linkRank returns the position of an object in Kbuild's link order.
func linkRank(object string) int {
	for i, d := range kbuildDirs {
		if strings.HasPrefix(object, d) {
			return i
		}
	}
	return len(kbuildDirs)
}

// sortLevel orders the initcalls of one level: names in want first, in
// that order; then the rest by Kbuild link order. It returns the names in
// want that are not among the calls.
func sortLevel(calls []Initcall, want []string) (sorted []Initcall, missing []string) {
	if len(calls) <= 1 && len(want) == 0 {
		return calls, nil
	}
	pos := make(map[string]int, len(want))
	for i, n := range want {
		if _, dup := pos[n]; !dup {
			pos[n] = i
		}
	}
	sorted = calls
	slices.SortStableFunc(sorted, func(a, b Initcall) int {
		pa, aok := pos[a.Name]
		pb, bok := pos[b.Name]
		switch {
		case aok && bok:
			return pa - pb
		case aok:
			return -1
		case bok:
			return 1
		}
		if ra, rb := linkRank(a.Object), linkRank(b.Object); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Object, b.Object)
	})
	for _, n := range want {
		if !slices.ContainsFunc(calls, func(c Initcall) bool { return c.Name == n }) {
			missing = append(missing, n)
		}
	}
	return sorted, missing
}
