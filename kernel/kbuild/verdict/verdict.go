package verdict

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kbuild"
)

// Outcome is what the verdict needs to know about one modelled boot.
type Outcome struct {
	// TPMAtIMA reports that IMA found a TPM chip when init_ima ran.
	TPMAtIMA bool
	// Detail is a one-line account of the boot for the why section
	// ("tpm0 registered at device level before init_ima", "TPM-bypass").
	Detail string
	Result *kernel.Result
}

// Booter boots the model on a kernel Spec whose Config, Order, Patches,
// Version and Name come from the real kernel's files; the caller supplies
// the platform and IMA (the kernel model never imports them), putting
// init_ima at late_initcall_sync when the Spec's Config has
// IMA_INIT_LATE_SYNC=y.
type Booter func(spec kernel.Spec) (Outcome, error)

// Input is one of the boot inputs derived from the files, for a what-if.
type Input struct {
	Kconfig   *kbuild.Kconfig
	LinkOrder *kbuild.LinkOrder
	Patches   kbuild.PatchFacts
}

// Spec builds the kernel inputs of a boot from what kbuild loaded.
func Spec(in *kbuild.Inputs) (kernel.Spec, error) {
	return specOf(in, Input{Kconfig: in.Kconfig, LinkOrder: in.LinkOrder, Patches: in.Patches})
}

func specOf(in *kbuild.Inputs, x Input) (kernel.Spec, error) {
	order, err := Order(x.LinkOrder)
	if err != nil {
		return kernel.Spec{}, err
	}
	name := "kernel-dir"
	if in.Dir != "" {
		name = in.Dir
	}
	return kernel.Spec{
		Name:    name,
		Version: in.Version,
		Config:  Config(x.Kconfig),
		Order:   order,
		Patches: Patches(x.Patches),
	}, nil
}

// Change is a what-if: Kconfig values and/or patch switches.
type Change struct {
	Kconfig []kbuild.Override `json:"-"`
	// Patches names the patch switches turned on ("ffa_init_rootfs",
	// "crb_ffa_register").
	Patches []string `json:"patches,omitempty"`
}

// Size is the number of things the change touches.
func (c Change) Size() int {
	return len(c.Kconfig) + len(c.Patches)
}

func (c Change) String() string {
	var parts []string
	for _, o := range c.Kconfig {
		if o.Value.Kind == kbuild.KindTristate && o.Value.Tri == kbuild.No {
			parts = append(parts, "# CONFIG_"+o.Name+" is not set")
		} else {
			parts = append(parts, "CONFIG_"+o.Name+"="+o.Value.String())
		}
	}
	for _, p := range c.Patches {
		parts = append(parts, "patch "+p+" ("+patchText[p]+")")
	}
	return strings.Join(parts, " + ")
}

// MarshalText writes the change as String does.
func (c Change) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

var patchText = map[string]string{
	"ffa_init_rootfs":  "ffa_init at rootfs_initcall, upstream 0e0546eabcd6",
	"crb_ffa_register": "built-in tpm_crb_ffa_init() calls ffa_register(), upstream 746d9e9f62a6",
}

// Fix is a change that makes IMA find the TPM, checked by booting the model
// with it.
type Fix struct {
	Change  Change  `json:"change"`
	Checked Outcome `json:"-"`
	// Effects lists what the change does to the inputs beyond the values
	// it names (selects, depends, new initcalls in the link order).
	Effects []string `json:"effects,omitempty"`
}

// DecidingFact is a Kconfig value or link-order fact whose change flips the
// verdict (checked by booting the model with it changed).
type DecidingFact struct {
	Kind string `json:"kind"` // "kconfig" or "link-order"
	Text string `json:"text"`
	// Flip is what was changed to test it, and Flipped the outcome then.
	Flip    string `json:"flip"`
	Flipped bool   `json:"tpm_at_ima_when_flipped"`
}

// Explanation is the why section: the verdict, what decided it, and the
// smallest change that turns it around.
type Explanation struct {
	Baseline Outcome        `json:"-"`
	TPMAtIMA bool           `json:"tpm_at_ima"`
	Detail   string         `json:"detail"`
	Deciding []DecidingFact `json:"deciding"`
	// Fixes are the smallest changes found that make IMA find the TPM (all
	// of the smallest size; Kconfig-only ones first). Empty when the
	// baseline already finds it or nothing within MaxSize does.
	Fixes []Fix `json:"fixes,omitempty"`
	// NoFix explains an empty Fixes.
	NoFix string `json:"no_fix,omitempty"`
	// Boots is how many modelled boots the explanation took.
	Boots int `json:"boots"`
	// Frozen lists symbols the search could not change (the kernel version
	// has no such symbol).
	Frozen []string `json:"frozen,omitempty"`
	// Upgrade is the search on a newer kernel, when Frozen symbols stopped
	// this one.
	Upgrade *Upgrade `json:"upgrade,omitempty"`
}

// candidateSymbols are the Kconfig symbols a user can change that matter
// to the chain, with the values tried.
var candidateSymbols = []struct {
	name   string
	values []kbuild.Tristate
}{
	{"ARM_FFA_TRANSPORT", []kbuild.Tristate{kbuild.Yes, kbuild.Module, kbuild.No}},
	{"TCG_TPM", []kbuild.Tristate{kbuild.Yes, kbuild.Module, kbuild.No}},
	{"TCG_CRB", []kbuild.Tristate{kbuild.Yes, kbuild.Module, kbuild.No}},
	{"TCG_ARM_CRB_FFA", []kbuild.Tristate{kbuild.Yes, kbuild.Module, kbuild.No}},
	{"IMA_INIT_LATE_SYNC", []kbuild.Tristate{kbuild.Yes, kbuild.No}},
	{"ACPI", []kbuild.Tristate{kbuild.Yes, kbuild.No}},
	{"SECURITY", []kbuild.Tristate{kbuild.Yes, kbuild.No}},
	{"IMA", []kbuild.Tristate{kbuild.Yes, kbuild.No}},
}

// MaxSize bounds the smallest-change search (number of symbols and patch
// switches changed together).
const MaxSize = 3

// Explain boots the model on the loaded kernel, finds which Kconfig values
// and link-order facts decide the verdict (each checked by a boot with it
// changed), and searches, smallest first, for the changes that make IMA
// find the TPM (each checked by a boot).
func Explain(in *kbuild.Inputs, boot Booter) (*Explanation, error) {
	ex := &Explanation{}
	run := func(x Input) (Outcome, error) {
		spec, err := specOf(in, x)
		if err != nil {
			return Outcome{}, err
		}
		ex.Boots++
		return boot(spec)
	}
	base := Input{Kconfig: in.Kconfig, LinkOrder: in.LinkOrder, Patches: in.Patches}
	out, err := run(base)
	if err != nil {
		return nil, err
	}
	ex.Baseline, ex.TPMAtIMA, ex.Detail = out, out.TPMAtIMA, out.Detail

	// Kconfig values that decide: flip each to each other value.
	for _, c := range candidateSymbols {
		r := in.Kconfig.Get(c.name)
		if r.Origin == kbuild.NotInVersion {
			ex.Frozen = append(ex.Frozen, c.name)
			continue
		}
		for _, v := range c.values {
			if v == r.Tri() {
				continue
			}
			x, effects, ok := whatIf(in, base, Change{Kconfig: []kbuild.Override{{Name: c.name, Value: kbuild.TriValue(v)}}})
			if !ok {
				continue
			}
			o, err := run(x)
			if err != nil {
				return nil, err
			}
			if o.TPMAtIMA != out.TPMAtIMA {
				flip := fmt.Sprintf("CONFIG_%s=%s", c.name, v)
				if len(effects) > 0 {
					flip += " (" + strings.Join(effects, "; ") + ")"
				}
				ex.Deciding = append(ex.Deciding, DecidingFact{Kind: "kconfig", Text: fmt.Sprintf("CONFIG_%s=%s: %s", c.name, r.Value.Text(), r.Why), Flip: flip, Flipped: o.TPMAtIMA})
				break
			}
		}
	}
	// Link-order facts that decide: swap each adjacent pair.
	for li, l := range in.LinkOrder.Levels {
		for i := 1; i < len(l.Fns); i++ {
			lo := cloneLinkOrder(in.LinkOrder)
			fns := lo.Levels[li].Fns
			fns[i-1], fns[i] = fns[i], fns[i-1]
			x := base
			x.LinkOrder = lo
			o, err := run(x)
			if err != nil {
				return nil, err
			}
			if o.TPMAtIMA != out.TPMAtIMA {
				ex.Deciding = append(ex.Deciding, DecidingFact{Kind: "link-order",
					Text:    fmt.Sprintf("%s runs before %s at %s (%s)", l.Fns[i-1], l.Fns[i], l.Level.Name(), l.How),
					Flip:    fmt.Sprintf("%s before %s", l.Fns[i], l.Fns[i-1]),
					Flipped: o.TPMAtIMA})
			}
		}
	}
	if out.TPMAtIMA {
		return ex, nil
	}

	// Smallest change: all changes of size 1, then 2, ... up to MaxSize.
	resolve := func(ov ...kbuild.Override) *kbuild.Kconfig { return kbuild.Resolve(in.Config, in.Version, ov...) }
	ex.Fixes, err = search(in, base, resolve, run)
	if err != nil {
		return nil, err
	}
	if len(ex.Fixes) > 0 {
		return ex, nil
	}
	ex.NoFix = fmt.Sprintf("no change of up to %d Kconfig symbols and patch switches makes IMA find the TPM in the model", MaxSize)
	if len(ex.Frozen) == 0 {
		return ex, nil
	}
	ex.NoFix += fmt.Sprintf("; Linux %s has no %s", in.Version, strings.Join(prefixed(ex.Frozen), ", "))

	// Carry the configuration to the first kernel that has the missing
	// symbols (make olddefconfig) and search again there.
	up := "6.15"
	for _, n := range ex.Frozen {
		if s, ok := kbuild.KnownSymbol(n); ok && s.Since != "" && in.Version != "" && !versionBefore(s.Since, up) {
			up = s.Since
		}
	}
	kcUp := kbuild.Olddefconfig(in.Config, up)
	loUp := mergeOrder(in.LinkOrder, kbuild.DeriveLinkOrder(kcUp, in.Builtin, nil))
	baseUp := Input{Kconfig: kcUp, LinkOrder: loUp, Patches: kbuild.InferPatches(kcUp, in.Builtin, nil)}
	u := &Upgrade{Version: up, Why: fmt.Sprintf("carried to Linux %s with make olddefconfig (the first release with the FF-A CRB driver; symbols it adds take their Kconfig defaults)", up)}
	if u.Baseline, err = run(baseUp); err != nil {
		return nil, err
	}
	if !u.Baseline.TPMAtIMA {
		resolveUp := func(ov ...kbuild.Override) *kbuild.Kconfig { return kbuild.Olddefconfig(in.Config, up, ov...) }
		if u.Fixes, err = search(in, baseUp, resolveUp, run); err != nil {
			return nil, err
		}
	}
	ex.Upgrade = u
	return ex, nil
}

// Upgrade is the search repeated on a newer kernel when the kernel's own
// version cannot get there.
type Upgrade struct {
	Version  string  `json:"version"`
	Why      string  `json:"why"`
	Baseline Outcome `json:"-"`
	Fixes    []Fix   `json:"fixes,omitempty"`
}

func versionBefore(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		var x, y int
		fmt.Sscan(pa[i], &x)
		fmt.Sscan(pb[i], &y)
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

// search tries every change of size 1, then 2, ... up to MaxSize, and
// returns the ones of the smallest size that make IMA find the TPM
// (Kconfig-only changes first).
func search(in *kbuild.Inputs, base Input, resolve func(...kbuild.Override) *kbuild.Kconfig, run func(Input) (Outcome, error)) ([]Fix, error) {
	var fixes []Fix
	atoms := atomsOf(base.Kconfig, base.Patches)
	for size := 1; size <= MaxSize && len(fixes) == 0; size++ {
		for _, ch := range combos(atoms, size) {
			x, effects, ok := whatIfWith(in, base, ch, resolve)
			if !ok {
				continue
			}
			o, err := run(x)
			if err != nil {
				return nil, err
			}
			if o.TPMAtIMA {
				fixes = append(fixes, Fix{Change: ch, Checked: o, Effects: effects})
			}
		}
	}
	sort.SliceStable(fixes, func(i, j int) bool {
		return len(fixes[i].Change.Patches) < len(fixes[j].Change.Patches)
	})
	return fixes, nil
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "CONFIG_" + n
	}
	return out
}

// atom is one element of a change: a symbol value or a patch switch.
type atom struct {
	sym   string
	val   kbuild.Tristate
	patch string
}

func atomsOf(kc *kbuild.Kconfig, p kbuild.PatchFacts) []atom {
	var out []atom
	for _, c := range candidateSymbols {
		r := kc.Get(c.name)
		if r.Origin == kbuild.NotInVersion {
			continue
		}
		for _, v := range c.values {
			if v != r.Tri() {
				out = append(out, atom{sym: c.name, val: v})
			}
		}
	}
	if !p.FFAInitRootfs {
		out = append(out, atom{patch: "ffa_init_rootfs"})
	}
	if !p.CRBFFARegister {
		out = append(out, atom{patch: "crb_ffa_register"})
	}
	return out
}

// combos returns the changes made of size atoms, at most one value per
// symbol, in a stable order.
func combos(atoms []atom, size int) []Change {
	var out []Change
	var rec func(start int, cur []atom)
	rec = func(start int, cur []atom) {
		if len(cur) == size {
			var ch Change
			for _, a := range cur {
				if a.patch != "" {
					ch.Patches = append(ch.Patches, a.patch)
				} else {
					ch.Kconfig = append(ch.Kconfig, kbuild.Override{Name: a.sym, Value: kbuild.TriValue(a.val)})
				}
			}
			out = append(out, ch)
			return
		}
		for i := start; i < len(atoms); i++ {
			a := atoms[i]
			clash := false
			for _, c := range cur {
				if a.sym != "" && c.sym == a.sym {
					clash = true
				}
			}
			if !clash {
				rec(i+1, append(append([]atom(nil), cur...), a))
			}
		}
	}
	rec(0, nil)
	return out
}

// whatIf applies a change to the inputs: the Kconfig values through
// Kconfig's rules (so a value that depends on or selects another shows
// its full effect), the link order kept as the files gave it with newly
// built initcalls placed by Kbuild order, and the patch switches as the
// files decided them, plus the change's own. ok is false when Kconfig's
// rules undo the change (the value cannot be set this way).
func whatIf(in *kbuild.Inputs, base Input, ch Change) (Input, []string, bool) {
	return whatIfWith(in, base, ch, func(ov ...kbuild.Override) *kbuild.Kconfig { return kbuild.Resolve(in.Config, in.Version, ov...) })
}

func whatIfWith(in *kbuild.Inputs, base Input, ch Change, resolve func(...kbuild.Override) *kbuild.Kconfig) (Input, []string, bool) {
	kc := base.Kconfig
	var effects []string
	if len(ch.Kconfig) > 0 {
		kc = resolve(ch.Kconfig...)
		for _, o := range ch.Kconfig {
			if kc.Get(o.Name).Tri() != o.Value.Tri {
				return Input{}, nil, false
			}
		}
		for _, r := range kc.All() {
			old := base.Kconfig.Get(r.Name)
			if !changed(old, r) || named(ch, r.Name) {
				continue
			}
			if sym, ok := kbuild.KnownSymbol(r.Name); !ok || !sym.Decides {
				continue
			}
			effects = append(effects, fmt.Sprintf("CONFIG_%s=%s (%s)", r.Name, r.Value.Text(), shortWhy(r)))
		}
	}
	lo := base.LinkOrder
	if len(ch.Kconfig) > 0 {
		lo = mergeOrder(base.LinkOrder, kbuild.DeriveLinkOrder(kc, in.Builtin, nil))
	}
	p := base.Patches
	if len(ch.Kconfig) > 0 {
		// Switches the files could not decide (the code did not apply)
		// follow the kernel version for the changed configuration.
		again := kbuild.InferPatches(kc, in.Builtin, nil)
		if !base.Patches.Exact["ffa_init_rootfs"] {
			p.FFAInitRootfs = again.FFAInitRootfs
		}
		if !base.Patches.Exact["crb_ffa_register"] {
			p.CRBFFARegister = again.CRBFFARegister
		}
		if !base.Patches.Exact["ffa_bus_in_ffa_init"] {
			p.FFABusInFFAInit = again.FFABusInFFAInit
		}
	}
	for _, sw := range ch.Patches {
		switch sw {
		case "ffa_init_rootfs":
			p.FFAInitRootfs = true
			lo = moveToRootfs(lo, "ffa_init")
		case "crb_ffa_register":
			p.CRBFFARegister = true
		}
	}
	return Input{Kconfig: kc, LinkOrder: lo, Patches: p}, effects, true
}

func named(ch Change, sym string) bool {
	for _, o := range ch.Kconfig {
		if o.Name == sym {
			return true
		}
	}
	return false
}

func changed(a, b kbuild.Resolved) bool {
	return a.Set != b.Set || a.Value != b.Value
}

func cloneLinkOrder(lo *kbuild.LinkOrder) *kbuild.LinkOrder {
	c := *lo
	c.Levels = make([]kbuild.LevelOrder, len(lo.Levels))
	for i, l := range lo.Levels {
		l.Fns = append([]string(nil), l.Fns...)
		c.Levels[i] = l
	}
	c.LevelOf = map[string]kbuild.LevelID{}
	for k, v := range lo.LevelOf {
		c.LevelOf[k] = v
	}
	return &c
}

// mergeOrder keeps the real order (base) of the initcalls still built and
// places the ones only the what-if builds where the derived order puts
// them relative to their neighbours.
func mergeOrder(base, derived *kbuild.LinkOrder) *kbuild.LinkOrder {
	out := cloneLinkOrder(derived)
	baseLevel := map[kbuild.LevelID][]string{}
	for _, l := range base.Levels {
		baseLevel[l.Level] = l.Fns
	}
	for i, l := range out.Levels {
		bl := baseLevel[l.Level]
		inDerived := map[string]bool{}
		for _, f := range l.Fns {
			inDerived[f] = true
		}
		var merged []string
		for _, f := range bl {
			if inDerived[f] {
				merged = append(merged, f)
			}
		}
		have := map[string]bool{}
		for _, f := range merged {
			have[f] = true
		}
		// Insert each new initcall before the first kept one that follows
		// it in the derived order.
		for j, f := range l.Fns {
			if have[f] {
				continue
			}
			pos := len(merged)
			for _, g := range l.Fns[j+1:] {
				if k := indexOf(merged, g); k >= 0 && have[g] {
					pos = k
					break
				}
			}
			merged = append(merged[:pos], append([]string{f}, merged[pos:]...)...)
			have[f] = true
		}
		out.Levels[i].Fns = merged
		if base.Levels != nil && len(bl) > 0 && len(merged) != len(bl) {
			out.Levels[i].How = l.How + " (what-if: new initcalls placed by Kbuild order)"
		}
	}
	return out
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return -1
}

// moveToRootfs moves fn from its level to rootfs (the ffa_init_rootfs
// switch), keeping the rest.
func moveToRootfs(lo *kbuild.LinkOrder, fn string) *kbuild.LinkOrder {
	c := cloneLinkOrder(lo)
	found := false
	for i := range c.Levels {
		if j := indexOf(c.Levels[i].Fns, fn); j >= 0 && c.Levels[i].Level != "rootfs" {
			c.Levels[i].Fns = append(c.Levels[i].Fns[:j], c.Levels[i].Fns[j+1:]...)
			found = true
		}
	}
	if !found {
		return c
	}
	c.LevelOf[fn] = "rootfs"
	for i := range c.Levels {
		if c.Levels[i].Level == "rootfs" {
			c.Levels[i].Fns = append(c.Levels[i].Fns, fn)
			return c
		}
	}
	var levels []kbuild.LevelOrder
	for _, l := range c.Levels {
		if l.Level.Rank() > kbuild.LevelID("rootfs").Rank() && fn != "" {
			levels = append(levels, kbuild.LevelOrder{Level: "rootfs", Fns: []string{fn}, How: "patch switch ffa_init_rootfs"})
			fn = ""
		}
		levels = append(levels, l)
	}
	if fn != "" {
		levels = append(levels, kbuild.LevelOrder{Level: "rootfs", Fns: []string{fn}, How: "patch switch ffa_init_rootfs"})
	}
	c.Levels = levels
	return c
}

// shortWhy is the rule that set a value, without file positions.
func shortWhy(r kbuild.Resolved) string {
	sym, _ := kbuild.KnownSymbol(r.Name)
	switch r.Origin {
	case kbuild.FromClamp:
		return "depends on " + sym.Depends
	case kbuild.FromSelect:
		if i := strings.Index(r.Why, " selects it"); i > 0 {
			return "selected: " + r.Why[:i]
		}
		return "selected"
	case kbuild.FromDefault, kbuild.FromChoice:
		return "Kconfig default"
	}
	return r.Origin.String()
}

// Knob is something a user of a real kernel can still change: a Kconfig
// symbol with the values it can take, or a patch switch.
type Knob struct {
	Symbol string            `json:"symbol,omitempty"`
	Values []kbuild.Tristate `json:"values,omitempty"`
	// Current is the symbol's value in the loaded kernel.
	Current kbuild.Tristate `json:"current"`
	Patch   string          `json:"patch,omitempty"`
}

// Knobs lists what "ffatpm explore --kernel-dir" may vary for a loaded
// kernel: the Kconfig symbols that matter and exist in its version, and
// the patch switches it does not already have. The link order stays the
// kernel's own.
func Knobs(in *kbuild.Inputs) []Knob {
	var out []Knob
	for _, c := range candidateSymbols {
		r := in.Kconfig.Get(c.name)
		if r.Origin == kbuild.NotInVersion {
			continue
		}
		out = append(out, Knob{Symbol: c.name, Values: append([]kbuild.Tristate(nil), c.values...), Current: r.Tri()})
	}
	if !in.Patches.FFAInitRootfs {
		out = append(out, Knob{Patch: "ffa_init_rootfs"})
	}
	if !in.Patches.CRBFFARegister {
		out = append(out, Knob{Patch: "crb_ffa_register"})
	}
	return out
}

// WhatIf returns the kernel Spec for the loaded kernel with a change
// applied through the same rules Explain uses (Kconfig semantics, the real
// link order kept, patch switches added). ok is false when Kconfig's rules
// undo the change.
func WhatIf(in *kbuild.Inputs, ch Change) (spec kernel.Spec, effects []string, ok bool, err error) {
	base := Input{Kconfig: in.Kconfig, LinkOrder: in.LinkOrder, Patches: in.Patches}
	x, effects, ok := whatIf(in, base, ch)
	if !ok {
		return kernel.Spec{}, nil, false, nil
	}
	spec, err = specOf(in, x)
	return spec, effects, err == nil, err
}
