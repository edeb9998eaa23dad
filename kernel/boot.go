package kernel

import (
	"fmt"
	"sort"
	"time"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
)

// Patches are the switches for the upstream changes and posted patches the
// model knows. Each one changes the modelled code path as the real change
// does; none of them decides an outcome by itself.
type Patches struct {
	// FFAInitRootfs: ffa_init is rootfs_initcall instead of module_init
	// (device level when built in). Upstream 0e0546eabcd6 (v6.17), seed 000,
	// seed 002 patch 1.
	FFAInitRootfs bool `json:"ffa_init_rootfs" yaml:"ffa_init_rootfs"`
	// CRBFFARegister: tpm_crb_ffa_init() calls ffa_register() itself when
	// tpm_crb_ffa is built in, and module_ffa_driver is kept only for the
	// module build. Upstream 746d9e9f62a6 (v6.17), reverted by 677042afb97a.
	CRBFFARegister bool `json:"crb_ffa_register" yaml:"crb_ffa_register"`
	// CRBFFABugOn: the seed 002 v2 form of the same change, which returned
	// ffa_register()'s result and had BUG_ON(!ret && !tpm_crb_ffa) after it
	// (review asked to remove the BUG_ON). Takes precedence over
	// CRBFFARegister.
	CRBFFABugOn bool `json:"crb_ffa_bug_on" yaml:"crb_ffa_bug_on"`
	// FFABusInFFAInit: the arm_ffa bus is registered from ffa_init itself
	// instead of by its own subsys_initcall (arm_ffa_bus_init), as kernels
	// did before bus.c became the separate "ffa-core" object. Every preset
	// uses the subsys form.
	FFABusInFFAInit bool `json:"ffa_bus_in_ffa_init" yaml:"ffa_bus_in_ffa_init"`
}

// Hooks let other packages observe the boot without the kernel importing
// them.
type Hooks struct {
	// Measure is called at every measurement point: an event IMA's policy
	// could measure (a module load, an exec in early user space), whether
	// or not IMA is ready. IMA decides what it means.
	Measure func(k *Kernel, m Measurement)
	// Event, when set, sees every structured event as it is recorded.
	Event func(Event)
}

// Measurement is a measurement point: something IMA's policy could measure.
type Measurement struct {
	At   Point  `json:"at"`
	Func string `json:"func"` // IMA policy func: MODULE_CHECK, BPRM_CHECK, FILE_CHECK, FIRMWARE_CHECK
	Path string `json:"path"`
}

// ScheduledMeasurement is a measurement point the Spec adds: it fires after
// the named initcall returns (or, with After empty, at the end of Level).
type ScheduledMeasurement struct {
	Level Level  `json:"level"`
	After string `json:"after,omitempty"`
	Func  string `json:"func"`
	Path  string `json:"path"`
}

// Spec is everything a boot depends on. Boot does not modify it.
type Spec struct {
	Name     string  // preset or scenario name, for the log banner
	Version  string  // "Linux version" string (preset's kernel)
	Config   *Config // nil: DefaultConfig()
	Order    Order   // link order inside levels (nil: Kbuild order)
	Patches  Patches
	Platform Platform
	// Initcalls contributed by other packages (IMA's init_ima). They run
	// only when built in the model's sense: their Symbol (if any) is y.
	Initcalls []Initcall
	// Modprobe is the order in which =m modules are loaded: after the last
	// initcall level, by the initramfs's /init once it runs (each after its
	// dependencies, as modprobe does). nil: DefaultModprobeOrder().
	Modprobe []string
	// Measurements adds measurement points during the initcalls.
	Measurements []ScheduledMeasurement
	// UserspaceExecs are the programs early user space runs (BPRM_CHECK
	// measurement points); nil: "/init". The first is the initramfs's
	// /init, which loads the =m modules before the others run.
	UserspaceExecs []string
	Hooks          Hooks
	Costs          *Costs // nil: DefaultCosts()
	// Trace records FF-A calls, CRB register accesses and TPM commands as
	// events (off by default: they are many).
	Trace bool
	// Quiet skips the log and most events (the fast path for exploring);
	// the Result's facts are still filled in.
	Quiet bool
}

// InitcallResult is one initcall as it ran.
type InitcallResult struct {
	Level  Level  `json:"level"`
	Name   string `json:"name"`
	Module string `json:"module,omitempty"` // set when it ran at module load
	Ret    Errno  `json:"ret"`
	// Panicked: the kernel panicked inside this initcall, which so never
	// returned (Ret is meaningless then).
	Panicked bool          `json:"panicked,omitempty"`
	Start    time.Duration `json:"start_ns"`
	End      time.Duration `json:"end_ns"`
}

// ChipInfo says where and when the TPM chip became visible.
type ChipInfo struct {
	Name   string    `json:"name"`   // tpm0
	Device string    `json:"device"` // MSFT0101:00
	At     Point     `json:"at"`
	Banks  []PCRBank `json:"banks"`
}

// Result is what a boot produced.
type Result struct {
	Log       []LogLine        `json:"-"`
	Events    []Event          `json:"events,omitempty"`
	Initcalls []InitcallResult `json:"initcalls"`
	// Chip is the first TPM chip registered (tpm0), or nil.
	Chip *ChipInfo `json:"tpm_registered"`
	// Deferred lists every device whose probe was deferred at least once.
	Deferred []DeferredProbe `json:"deferred"`
	// Modules lists the modules loaded, in order.
	Modules []string `json:"modules,omitempty"`
	// NotBuilt lists names in Spec.Order that this configuration does not
	// build (or that no code of the model defines); Notes says which.
	NotBuilt []string `json:"not_built,omitempty"`
	// Notes explain configuration adjustments and order entries ignored.
	Notes []string `json:"notes,omitempty"`
	// Panic is the panic message when the kernel panicked ("" otherwise).
	Panic string `json:"panic,omitempty"`
	// FFACalls counts FF-A calls by function name.
	FFACalls map[string]int `json:"ffa_calls,omitempty"`
	// Probes counts probe attempts.
	Probes int `json:"probes"`
	// Measurements are the measurement points, in order.
	Measurements []Measurement `json:"measurements,omitempty"`
	// End is the virtual time when the boot model stopped (user space
	// running; later if the deferred-probe timeout fired).
	End time.Duration `json:"end_ns"`
}

// FormatLog returns the log as dmesg prints it.
func (r *Result) FormatLog() string { return FormatLog(r.Log) }

// InitcallAt returns the result of the named initcall, if it ran.
func (r *Result) InitcallAt(name string) (InitcallResult, bool) {
	for _, ic := range r.Initcalls {
		if ic.Name == name {
			return ic, true
		}
	}
	return InitcallResult{}, false
}

// Boot runs one boot. The error is for faults of the model or bad inputs
// (a Spec that cannot be built); every modelled outcome, including a
// kernel panic, is in the Result.
func Boot(spec Spec) (*Result, error) {
	k, plan, err := prepare(&spec)
	if err != nil {
		return nil, err
	}
	k.run(plan)
	if k.fault != nil {
		return k.res, k.fault
	}
	return k.res, nil
}

// plan is the list of built-in initcalls per level and the modules to load.
type plan struct {
	levels  [LevelLateSync + 1][]Initcall
	modules []moduleInfo
}

type moduleInfo struct {
	name  string
	deps  []string
	calls []Initcall
}

func prepare(spec *Spec) (*Kernel, *plan, error) {
	cfg := spec.Config
	if cfg == nil {
		cfg = DefaultConfig()
	}
	if spec.Platform.Conduit != nil && spec.Platform.Mem == nil {
		return nil, nil, fmt.Errorf("platform %q has an FF-A conduit but no memory accessor", spec.Platform.Name)
	}
	costs := DefaultCosts()
	if spec.Costs != nil {
		costs = *spec.Costs
	}
	k := &Kernel{spec: spec, cfg: cfg, costs: costs, quiet: spec.Quiet, res: &Result{}}
	k.pure, _ = spec.Platform.Mem.(PureReader)
	k.bio, _ = spec.Platform.Mem.(phys.BlockIO)
	if !spec.Quiet {
		k.res.Notes = append(k.res.Notes, cfg.Notes()...)
	}
	k.triCache = make([]symTri, 0, 12)
	k.res.Initcalls = make([]InitcallResult, 0, 16)
	k.crbReachesFFA = k.builtin("TCG_ARM_CRB_FFA") || (k.tristate("TCG_ARM_CRB_FFA") == M && k.tristate("TCG_CRB") == M)
	k.crbFFABuiltin = k.builtin("TCG_ARM_CRB_FFA")

	for l := range spec.Order {
		if !l.IsInitcall() {
			return nil, nil, fmt.Errorf("link order given for %s, which is not an initcall level", l)
		}
	}
	all := k.builtinInitcalls()
	all = append(all, spec.Initcalls...)
	p := &plan{}
	var mods map[string]*moduleInfo
	seen := func(name string) bool {
		for _, l := range p.levels {
			for _, ic := range l {
				if ic.Name == name {
					return true
				}
			}
		}
		return false
	}
	for _, ic := range all {
		if ic.Name == "" {
			return nil, nil, fmt.Errorf("an initcall at %s has no name", ic.Level)
		}
		if ic.Fn == nil {
			return nil, nil, fmt.Errorf("initcall %q has no function", ic.Name)
		}
		if !ic.Level.IsInitcall() {
			return nil, nil, fmt.Errorf("initcall %q: %s is not an initcall level", ic.Name, ic.Level)
		}
		build := Y
		if ic.Symbol != "" {
			build = k.tristate(ic.Symbol)
		}
		switch build {
		case Y:
			if seen(ic.Name) {
				return nil, nil, fmt.Errorf("initcall %q is defined twice", ic.Name)
			}
			p.levels[ic.Level] = append(p.levels[ic.Level], ic)
		case M:
			if ic.Module == "" {
				continue
			}
			if mods == nil {
				mods = map[string]*moduleInfo{}
			}
			m := mods[ic.Module]
			if m == nil {
				m = &moduleInfo{name: ic.Module, deps: moduleDeps(cfg, ic.Module)}
				mods[ic.Module] = m
			}
			m.calls = append(m.calls, ic)
		}
	}
	// Order each level.
	for l := LevelEarly; l <= LevelLateSync; l++ {
		var missing []string
		p.levels[l], missing = sortLevel(p.levels[l], spec.Order[l])
		for _, n := range missing {
			var lv Level
			ok := false
			for _, ic := range all {
				if ic.Name == n {
					lv, ok = ic.Level, true
					break
				}
			}
			switch {
			case !ok && n == "tpm_crb_ffa_driver_init" && (spec.Patches.CRBFFARegister || spec.Patches.CRBFFABugOn):
				k.res.NotBuilt = append(k.res.NotBuilt, n)
				k.res.Notes = append(k.res.Notes, n+" does not exist in this kernel: with the built-in registration patch, module_ffa_driver(tpm_crb_ffa_driver) is compiled only for the module build")
			case !ok && n == "arm_ffa_bus_init" && spec.Patches.FFABusInFFAInit:
				k.res.NotBuilt = append(k.res.NotBuilt, n)
				k.res.Notes = append(k.res.Notes, n+" does not exist in this kernel: ffa_init registers the arm_ffa bus itself")
			case !ok:
				k.res.NotBuilt = append(k.res.NotBuilt, n)
				k.res.Notes = append(k.res.Notes, fmt.Sprintf("%s (in the %s order) is not an initcall of this kernel", n, l))
			case lv != l && seen(n):
				k.res.Notes = append(k.res.Notes, fmt.Sprintf("%s is at %s in this configuration; its place in the %s order is ignored", n, lv, l))
			default:
				k.res.NotBuilt = append(k.res.NotBuilt, n)
				k.res.Notes = append(k.res.Notes, fmt.Sprintf("%s (in the %s order) is not built in by this configuration", n, l))
			}
		}
	}
	// Modules in modprobe order.
	order := spec.Modprobe
	if order == nil {
		order = DefaultModprobeOrder()
	}
	if len(mods) == 0 {
		return k, p, nil
	}
	var names []string
	listed := map[string]bool{}
	for _, n := range order {
		if mods[n] != nil && !listed[n] {
			names = append(names, n)
			listed[n] = true
		}
	}
	var rest []string
	for n := range mods {
		if !listed[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)
	loaded := map[string]bool{}
	var load func(n string, depth int)
	load = func(n string, depth int) {
		m := mods[n]
		if m == nil || loaded[n] || depth > 8 {
			return
		}
		loaded[n] = true
		for _, d := range m.deps {
			load(d, depth+1)
		}
		p.modules = append(p.modules, *m)
	}
	for _, n := range names {
		load(n, 0)
	}
	return k, p, nil
}

// DefaultModprobeOrder is the order in which the model loads =m modules:
// modules.order (Kbuild order: drivers/char/tpm before drivers/firmware),
// each after the modules it needs (depmod).
func DefaultModprobeOrder() []string {
	return []string{"tpm", "tpm_crb", "tpm_crb_ffa", "ffa-core", "ffa-module"}
}

// moduleDeps lists the modules a module needs symbols from (modules.dep).
func moduleDeps(cfg *Config, mod string) []string {
	var deps []string
	add := func(sym, m string) {
		if cfg.Module(sym) {
			deps = append(deps, m)
		}
	}
	switch mod {
	case "tpm_crb":
		add("TCG_TPM", "tpm")
		if cfg.Reachable("TCG_CRB", "TCG_ARM_CRB_FFA") {
			add("TCG_ARM_CRB_FFA", "tpm_crb_ffa")
		}
	case "tpm_crb_ffa":
		add("ARM_FFA_TRANSPORT", "ffa-core")
	case "ffa-module":
		add("ARM_FFA_TRANSPORT", "ffa-core")
	}
	return deps
}

// run executes the plan: the levels in order, then the modules, then early
// user space.
func (k *Kernel) run(p *plan) {
	k.banner()
	k.clock.Advance(k.costs.Banner)
	// do_basic_setup -> driver_init: the platform bus exists before any
	// initcall runs.
	k.cur = Point{Level: LevelEarly, Initcall: "driver_init"}
	k.BusRegister(&Bus{Name: "platform", Match: func(d *Device, drv *Driver) bool { return d.Name == drv.Name }})
	for _, l := range Levels() {
		k.cur = Point{Level: l}
		for _, ic := range p.levels[l] {
			k.callInitcall(ic, "")
			if k.stopped() {
				k.finish()
				return
			}
			k.fireMeasurements(l, ic.Name)
		}
		k.cur = Point{Level: l}
		k.fireMeasurements(l, "")
	}
	// kernel_init: "Run /init as init process". The initramfs's /init
	// loads the =m modules (udev/modprobe), then the remaining programs run.
	execs := k.spec.UserspaceExecs
	if execs == nil {
		execs = []string{"/init"}
	}
	k.cur = Point{Level: LevelUser, Initcall: execs[0]}
	k.clock.Advance(k.costs.Userspac)
	k.printf("Run %s as init process", execs[0])
	k.event(Event{Kind: EvUserspace, Detail: execs[0]})
	k.measure("BPRM_CHECK", execs[0])
	for _, m := range p.modules {
		k.cur = Point{Level: LevelModule, Initcall: "modprobe " + m.name}
		k.clock.Advance(k.costs.Module)
		k.res.Modules = append(k.res.Modules, m.name)
		k.event(Event{Kind: EvModuleLoad, Detail: m.name})
		k.measure("MODULE_CHECK", "/lib/modules/"+m.name+".ko")
		for _, ic := range m.calls {
			k.callInitcall(ic, m.name)
			if k.stopped() {
				k.finish()
				return
			}
		}
	}
	k.cur = Point{Level: LevelUser, Initcall: execs[0]}
	for _, e := range execs[1:] {
		k.measure("BPRM_CHECK", e)
	}
	k.deferredProbeTimeoutWork()
	k.finish()
}

func (k *Kernel) stopped() bool { return k.fault != nil || k.panicked }

func (k *Kernel) callInitcall(ic Initcall, module string) {
	if module == "" {
		k.cur.Initcall = ic.Name
	}
	k.clock.Advance(k.costs.Initcall)
	start := k.clock.now
	k.event(Event{Kind: EvInitcallStart, Detail: ic.Object})
	err := ic.Fn(k)
	e, ok := AsErrno(err)
	if !ok {
		k.Fault(fmt.Errorf("initcall %s: %w", ic.Name, err))
		return
	}
	k.event(Event{Kind: EvInitcallReturn, Err: e})
	lvl := ic.Level
	if module != "" {
		lvl = LevelModule
	}
	k.res.Initcalls = append(k.res.Initcalls, InitcallResult{Level: lvl, Name: ic.Name, Module: module, Ret: e, Panicked: k.panicked, Start: start, End: k.clock.now})
	if k.panicked {
		return
	}
	// The deferwq worker runs what this initcall queued.
	k.runDeferredWorker()
}

func (k *Kernel) fireMeasurements(l Level, after string) {
	for _, m := range k.spec.Measurements {
		if m.Level == l && m.After == after {
			k.measure(m.Func, m.Path)
		}
	}
}

// Measure reports a measurement point to the hook (and the event stream).
func (k *Kernel) Measure(fn, path string) { k.measure(fn, path) }

func (k *Kernel) measure(fn, path string) {
	m := Measurement{At: k.point(), Func: fn, Path: path}
	k.res.Measurements = append(k.res.Measurements, m)
	k.event(Event{Kind: EvMeasure, Detail: fn + " " + path})
	if k.spec.Hooks.Measure != nil {
		k.spec.Hooks.Measure(k, m)
	}
}

func (k *Kernel) banner() {
	if k.quiet {
		return
	}
	v := k.spec.Version
	if v == "" {
		v = "6.17.0-ffatpm"
	}
	k.printf("Booting Linux on physical CPU 0x0000000000 [0x410fd0c0]")
	k.printf("Linux version %s (ffatpm model)", v)
	k.printACPITables()
}

func (k *Kernel) finish() {
	r := k.res
	r.Log = k.log
	r.Events = k.events
	r.Panic = k.panicMsg
	r.End = k.clock.now
	for _, d := range k.deferrals {
		r.Deferred = append(r.Deferred, *d)
	}
	if len(k.chips) > 0 {
		c := k.chips[0]
		r.Chip = &ChipInfo{Name: c.Name, Device: c.Device.Name, At: c.At, Banks: append([]PCRBank(nil), c.Banks...)}
	}
	for conv, counts := range k.ffaCounts {
		for num, n := range counts {
			if n == 0 {
				continue
			}
			f := ffa.FuncID(0x84000000 | uint32(num+ffaMinFuncNum))
			if conv == 1 {
				f |= 0x40000000
			}
			if r.FFACalls == nil {
				r.FFACalls = map[string]int{}
			}
			r.FFACalls[f.String()] += int(n)
		}
	}
}
