package kbuild

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// SymType is a Kconfig symbol type.
type SymType uint8

// Kconfig symbol types.
const (
	TypeBool SymType = iota
	TypeTristate
	TypeString
	TypeInt
	TypeHex
)

func (t SymType) String() string {
	return [...]string{"bool", "tristate", "string", "int", "hex"}[t]
}

// condDefault is one "default VALUE if COND" line.
type condDefault struct {
	value string // expression (bool/tristate) or literal (string/int)
	cond  string // "" for unconditional
}

// Symbol describes one Kconfig symbol the model knows, as the Linux tree
// defines it. Depends folds in the enclosing "if" blocks and menus.
type Symbol struct {
	Name    string
	Type    SymType
	Depends string        // Kconfig expression; "" means always visible
	Default []condDefault // first whose condition holds wins; none: n / ""
	Selects []selectProp  // reverse dependencies this symbol imposes
	Range   [2]int64      // int range, {0,0} for none
	Choice  string        // name of the choice group a bool belongs to
	// Since is the first kernel release that has the symbol ("6.15"); ""
	// means every kernel the model covers has it.
	Since string
	// SinceNote names where the symbol was introduced.
	SinceNote string
	// New marks a symbol that only some kernels have. A complete generated
	// .config (one with the "# Linux/<arch> <version> Kernel Configuration"
	// header) lists every visible symbol, as "=value" or "is not set"; when
	// such a file lacks a New symbol whose dependencies hold, that kernel
	// has no such symbol.
	New    bool
	Source string // Kconfig file in the Linux tree
	// Decides marks the symbols whose value can change whether IMA finds
	// the TPM (the CLI's "why" section lists these).
	Decides bool
}

type selectProp struct{ target, cond string }

type choiceGroup struct {
	name    string
	depends string
	def     string // default member
	members []string
	source  string
}

// The tables below restate drivers/char/tpm/Kconfig, drivers/firmware/arm_ffa/Kconfig,
// security/Kconfig, security/integrity/Kconfig and security/integrity/ima/Kconfig
// for the symbols the model uses. Dependencies on symbols outside this table
// (SYSFS, MULTIUSER, CRYPTO_*) are left out: a real .config always satisfies
// them when it sets the symbols below, and hand-written fixtures should not
// have to list them. Order is topological: every symbol comes after the
// symbols its depends/default/select expressions name and after every
// symbol that selects it.
var symbolTable = []Symbol{
	{Name: "ARM64", Type: TypeBool, Source: "arch/arm64/Kconfig"},
	{Name: "X86", Type: TypeBool, Source: "arch/x86/Kconfig"},
	{Name: "OF", Type: TypeBool, Source: "drivers/of/Kconfig"},
	{Name: "ACPI", Type: TypeBool, Default: []condDefault{{"y", "X86"}}, Source: "drivers/acpi/Kconfig", Decides: true},
	{Name: "NO_IOMEM", Type: TypeBool, Source: "arch/*/Kconfig"},
	{Name: "HAS_IOMEM", Type: TypeBool, Depends: "!NO_IOMEM", Default: []condDefault{{"y", ""}}, Source: "lib/Kconfig"},
	{Name: "SECURITY", Type: TypeBool, Source: "security/Kconfig", Decides: true},
	{Name: "MODULES", Type: TypeBool, Source: "init/Kconfig"},
	{Name: "INTEGRITY", Type: TypeBool, Depends: "SECURITY", Default: []condDefault{{"y", ""}}, Source: "security/integrity/Kconfig"},
	// security/integrity/Kconfig sources ima/Kconfig inside "if INTEGRITY".
	{Name: "IMA", Type: TypeBool, Depends: "INTEGRITY", Source: "security/integrity/ima/Kconfig", Decides: true,
		Selects: []selectProp{{"SECURITYFS", ""}, {"TCG_TPM", "HAS_IOMEM"}, {"TCG_CRB", "TCG_TPM && ACPI"}}},
	{Name: "SECURITYFS", Type: TypeBool, Source: "security/Kconfig"},
	{Name: "IMA_MEASURE_PCR_IDX", Type: TypeInt, Depends: "IMA", Range: [2]int64{8, 14}, Default: []condDefault{{"10", ""}}, Source: "security/integrity/ima/Kconfig"},
	{Name: "IMA_TEMPLATE", Type: TypeBool, Depends: "IMA", Choice: "ima template", Source: "security/integrity/ima/Kconfig"},
	{Name: "IMA_NG_TEMPLATE", Type: TypeBool, Depends: "IMA", Choice: "ima template", Source: "security/integrity/ima/Kconfig"},
	{Name: "IMA_SIG_TEMPLATE", Type: TypeBool, Depends: "IMA", Choice: "ima template", Source: "security/integrity/ima/Kconfig"},
	{Name: "IMA_DEFAULT_TEMPLATE", Type: TypeString, Depends: "IMA", Source: "security/integrity/ima/Kconfig",
		Default: []condDefault{{"ima", "IMA_TEMPLATE"}, {"ima-ng", "IMA_NG_TEMPLATE"}, {"ima-sig", "IMA_SIG_TEMPLATE"}}},
	{Name: "IMA_DEFAULT_HASH_SHA1", Type: TypeBool, Depends: "IMA", Choice: "ima hash", Source: "security/integrity/ima/Kconfig"},
	{Name: "IMA_DEFAULT_HASH_SHA256", Type: TypeBool, Depends: "IMA && !IMA_TEMPLATE", Choice: "ima hash", Source: "security/integrity/ima/Kconfig"},
	{Name: "IMA_DEFAULT_HASH_SHA512", Type: TypeBool, Depends: "IMA && !IMA_TEMPLATE", Choice: "ima hash", Source: "security/integrity/ima/Kconfig"},
	{Name: "IMA_DEFAULT_HASH", Type: TypeString, Depends: "IMA", Source: "security/integrity/ima/Kconfig",
		Default: []condDefault{{"sha1", "IMA_DEFAULT_HASH_SHA1"}, {"sha256", "IMA_DEFAULT_HASH_SHA256"}, {"sha512", "IMA_DEFAULT_HASH_SHA512"}}},
	{Name: "IMA_INIT_LATE_SYNC", Type: TypeBool, Depends: "IMA", Source: "security/integrity/ima/Kconfig", Decides: true,
		New: true, SinceNote: "\"security: ima: introduce IMA_INIT_LATE_SYNC option\", linux-integrity 2026"},
	{Name: "TCG_TPM", Type: TypeTristate, Depends: "HAS_IOMEM", Source: "drivers/char/tpm/Kconfig", Decides: true},
	{Name: "TCG_CRB", Type: TypeTristate, Depends: "TCG_TPM && ACPI", Source: "drivers/char/tpm/Kconfig", Decides: true},
	{Name: "ARM_FFA_TRANSPORT", Type: TypeTristate, Depends: "OF && ARM64", Source: "drivers/firmware/arm_ffa/Kconfig", Decides: true},
	{Name: "TCG_ARM_CRB_FFA", Type: TypeTristate, Depends: "TCG_TPM && ARM_FFA_TRANSPORT && TCG_CRB",
		Default: []condDefault{{"TCG_CRB", ""}}, Source: "drivers/char/tpm/Kconfig", Decides: true,
		New: true, Since: "6.15", SinceNote: "\"tpm_crb: ffa_tpm: Implement driver compliant to CRB over FF-A\""},
}

var choiceTable = []choiceGroup{
	{name: "ima template", depends: "IMA", def: "IMA_NG_TEMPLATE", members: []string{"IMA_TEMPLATE", "IMA_NG_TEMPLATE", "IMA_SIG_TEMPLATE"}, source: "security/integrity/ima/Kconfig"},
	{name: "ima hash", depends: "IMA", def: "IMA_DEFAULT_HASH_SHA1", members: []string{"IMA_DEFAULT_HASH_SHA1", "IMA_DEFAULT_HASH_SHA256", "IMA_DEFAULT_HASH_SHA512"}, source: "security/integrity/ima/Kconfig"},
}

// Symbols returns the Kconfig symbols the model knows, in evaluation order
// (a fresh copy).
func Symbols() []Symbol {
	out := make([]Symbol, len(symbolTable))
	copy(out, symbolTable)
	return out
}

// KnownSymbol returns the table entry of name.
func KnownSymbol(name string) (Symbol, bool) {
	for _, s := range symbolTable {
		if s.Name == name {
			return s, true
		}
	}
	return Symbol{}, false
}

// Origin says which rule gave a symbol its value.
type Origin uint8

// Origins, from most to least direct.
const (
	FromConfig   Origin = iota // assigned in the .config
	FromSelect                 // raised by another symbol's select
	FromClamp                  // assigned, but limited by depends on
	FromDefault                // unassigned: the Kconfig default
	FromChoice                 // unassigned choice member: the choice default
	NotInVersion               // the kernel version has no such symbol
	FromOverride               // set by a caller (a what-if change)
)

func (o Origin) String() string {
	return [...]string{"config", "select", "depends-limit", "default", "choice-default", "not-in-version", "override"}[o]
}

// MarshalText implements encoding.TextMarshaler.
func (o Origin) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Resolved is one symbol's effective value with the reason for it.
type Resolved struct {
	Name   string  `json:"name"`
	Type   SymType `json:"-"`
	Value  Value   `json:"-"`
	Origin Origin  `json:"origin"`
	// Set reports that the symbol has a value at all (a string or int whose
	// dependencies are n has none, like in a real .config).
	Set bool `json:"set"`
	Pos Pos  `json:"pos,omitzero"`
	// Why explains the value in one sentence for the CLI's why section.
	Why string `json:"why"`
}

// Tri returns the tristate value (n for non-tristate or unset symbols).
func (r Resolved) Tri() Tristate {
	if r.Set && r.Value.Kind == KindTristate {
		return r.Value.Tri
	}
	return No
}

// Kconfig is the effective configuration of the symbols the model knows.
type Kconfig struct {
	// Version is the kernel release the values are for ("6.12.117"), from
	// the config header or the module directory name; "" if unknown.
	Version string
	syms    map[string]Resolved
	order   []string
}

// Get returns symbol name's resolution (zero Resolved with Set=false for a
// name outside the table).
func (k *Kconfig) Get(name string) Resolved { return k.syms[name] }

// Tri returns the tristate value of name.
func (k *Kconfig) Tri(name string) Tristate { return k.syms[name].Tri() }

// All returns every known symbol's resolution in table order.
func (k *Kconfig) All() []Resolved {
	out := make([]Resolved, 0, len(k.order))
	for _, n := range k.order {
		out = append(out, k.syms[n])
	}
	return out
}

// Override is a what-if value for one symbol (a user's proposed change).
type Override struct {
	Name  string
	Value Value
}

// Resolve computes the effective value of every known symbol from a parsed
// .config (nil: nothing assigned) the way scripts/kconfig/symbol.c does:
//   - a tristate or bool is limited by its "depends on" (y with an =m
//     dependency builds as m; a bool limited to m rounds up to y);
//   - "select" raises the target to the selector's value;
//   - an unassigned symbol takes its first default whose condition holds,
//     itself limited by "depends on"; a choice with no member set takes its
//     default member;
//   - an int outside its range falls back to the default (conf_read rejects it);
//   - a symbol newer than the kernel version (from the config header, or
//     version if the header is missing) does not exist: n.
//
// overrides apply on top of the file (what-if changes).
func Resolve(cfg *Config, version string, overrides ...Override) *Kconfig {
	return resolve(cfg, version, false, overrides)
}

// Olddefconfig resolves cfg as "make olddefconfig" would after carrying it
// to Linux version: symbols that version has but the file does not mention
// take their Kconfig defaults (instead of being taken as missing from the
// kernel), and the file's own version header is ignored.
func Olddefconfig(cfg *Config, version string, overrides ...Override) *Kconfig {
	return resolve(cfg, version, true, overrides)
}

func resolve(cfg *Config, version string, carried bool, overrides []Override) *Kconfig {
	if cfg != nil && cfg.Version != "" && !carried {
		version = cfg.Version
	}
	k := &Kconfig{Version: version, syms: map[string]Resolved{}}
	ov := map[string]Value{}
	for _, o := range overrides {
		ov[strings.TrimPrefix(o.Name, "CONFIG_")] = o.Value
	}
	lookup := func(name string) (Setting, bool) {
		if v, ok := ov[name]; ok {
			return Setting{Name: name, Value: v, Pos: Pos{File: "override"}}, true
		}
		if cfg == nil {
			return Setting{}, false
		}
		return cfg.Lookup(name)
	}
	env := func(name string) Tristate { return k.syms[name].Tri() }

	for _, sym := range symbolTable {
		r := Resolved{Name: sym.Name, Type: sym.Type}
		dep := mustExpr(sym.Depends).eval(env)
		st, assigned := lookup(sym.Name)
		_, isOverride := ov[sym.Name]
		if sym.Since != "" && version != "" && versionLess(version, sym.Since) && !isOverride {
			r.Origin = NotInVersion
			r.Value, r.Set = zeroValue(sym.Type), sym.Type == TypeBool || sym.Type == TypeTristate
			r.Why = fmt.Sprintf("Linux %s has no CONFIG_%s (it came in v%s with %s)", version, sym.Name, sym.Since, sym.SinceNote)
			if assigned {
				r.Why += fmt.Sprintf("; the assignment at %s is ignored", st.Pos)
			}
			k.put(r)
			continue
		}
		if sym.New && !assigned && cfg != nil && cfg.Version != "" && dep != No && !carried {
			r.Origin = NotInVersion
			r.Value, r.Set = zeroValue(sym.Type), true
			r.Why = fmt.Sprintf("Linux %s has no CONFIG_%s: its generated config (%s) lists every visible symbol, and has no line for this one although its dependencies hold (%s; the option comes from %s)", version, sym.Name, cfg.File, depValues(sym.Depends, env), sym.SinceNote)
			k.put(r)
			continue
		}
		switch sym.Type {
		case TypeBool, TypeTristate:
			k.resolveTri(&r, sym, dep, st, assigned, isOverride, env, lookup)
		default:
			k.resolveScalar(&r, sym, dep, st, assigned, isOverride, env)
		}
		k.put(r)
	}
	return k
}

func (k *Kconfig) put(r Resolved) {
	if _, ok := k.syms[r.Name]; !ok {
		k.order = append(k.order, r.Name)
	}
	k.syms[r.Name] = r
}

func zeroValue(t SymType) Value {
	switch t {
	case TypeBool, TypeTristate:
		return TriValue(No)
	case TypeString:
		return StringValue("")
	}
	return IntValue(0)
}

func (k *Kconfig) resolveTri(r *Resolved, sym Symbol, dep Tristate, st Setting, assigned, isOverride bool, env func(string) Tristate, lookup func(string) (Setting, bool)) {
	r.Set = true
	depText := sym.Depends
	switch {
	case assigned && st.Value.Kind != KindTristate:
		// conf_read rejects a non-tristate value for a tristate symbol and
		// leaves it unset; fall through to the default below.
		assigned = false
		defer func(prev string) { r.Why = prev + r.Why }(fmt.Sprintf("%s: CONFIG_%s=%s is not a valid %s value (ignored); ", st.Pos, sym.Name, st.Value, sym.Type))
	}
	var v Tristate
	if assigned {
		v = st.Value.Tri
		if sym.Type == TypeBool && v == Module {
			v = Yes
		}
		r.Pos = st.Pos
		r.Origin = FromConfig
		if isOverride {
			r.Origin = FromOverride
			r.Pos = Pos{}
		}
		r.Why = fmt.Sprintf("CONFIG_%s=%s", sym.Name, st.Value.Tri)
		if st.NotSet {
			r.Why = fmt.Sprintf("# CONFIG_%s is not set", sym.Name)
		}
		if isOverride {
			r.Why += " (proposed change)"
		} else {
			r.Why += " in " + st.Pos.String()
		}
		if v > dep {
			lim := dep
			if sym.Type == TypeBool && lim == Module {
				lim = Yes
			}
			if lim < v {
				r.Why += fmt.Sprintf(", but it depends on %s which is %s, so Kconfig builds it as %s", depText, dep, lim)
				v = lim
				r.Origin = FromClamp
			}
		}
	} else if sym.Choice != "" {
		v = k.choiceValue(sym, dep, r, lookup)
	} else {
		v = No
		r.Origin = FromDefault
		r.Why = fmt.Sprintf("not set in the config: Kconfig default of CONFIG_%s is n", sym.Name)
		for _, d := range sym.Default {
			if d.cond != "" && mustExpr(d.cond).eval(env) == No {
				continue
			}
			dv := mustExpr(d.value).eval(env)
			v = min(dv, dep)
			if sym.Type == TypeBool && v == Module {
				v = Yes
			}
			txt := "default " + d.value
			if d.cond != "" {
				txt += " if " + d.cond
			}
			r.Why = fmt.Sprintf("not set in the config: %s (%s) gives %s", txt, sym.Source, v)
			if depText != "" && dv > dep {
				r.Why += fmt.Sprintf(", limited by depends on %s", depText)
			}
			break
		}
	}
	// Without loadable module support every m is n (the "modules" option
	// on MODULES in init/Kconfig makes it the limit of all tristates).
	if v == Module && sym.Type == TypeTristate && env("MODULES") != Yes {
		r.Why += "; MODULES is not y, so m builds nothing (n)"
		v = No
		if r.Origin == FromConfig {
			r.Origin = FromClamp
		}
	}
	// Reverse dependencies: select raises the value (sym_calc_value ORs in
	// rev_dep), whatever the config or the dependencies say.
	for _, s := range symbolTable {
		for _, sel := range s.Selects {
			if sel.target != sym.Name {
				continue
			}
			rv := env(s.Name)
			if sel.cond != "" {
				rv = min(rv, mustExpr(sel.cond).eval(env))
			}
			if sym.Type == TypeBool && rv == Module {
				rv = Yes
			}
			if rv > v {
				how := "select " + sym.Name
				if sel.cond != "" {
					how += " if " + sel.cond
				}
				r.Why = fmt.Sprintf("%s=%s selects it (%s in %s), so it is %s", s.Name, env(s.Name), how, s.Source, rv)
				r.Origin = FromSelect
				v = rv
			}
		}
	}
	r.Value = TriValue(v)
}

func (k *Kconfig) choiceValue(sym Symbol, dep Tristate, r *Resolved, lookup func(string) (Setting, bool)) Tristate {
	var grp choiceGroup
	for _, g := range choiceTable {
		if g.name == sym.Choice {
			grp = g
		}
	}
	r.Origin = FromChoice
	if dep == No {
		r.Why = fmt.Sprintf("depends on %s, which is n", sym.Depends)
		return No
	}
	// Another member set to y in the file makes this one n; otherwise the
	// choice default is y.
	for _, m := range grp.members {
		if m == sym.Name {
			continue
		}
		if s, ok := lookup(m); ok && s.Value.Kind == KindTristate && s.Value.Tri != No {
			r.Why = fmt.Sprintf("choice %q: CONFIG_%s is selected", grp.name, m)
			return No
		}
	}
	if grp.def == sym.Name {
		r.Why = fmt.Sprintf("no member of the %q choice is set: its default (%s) is %s", grp.name, grp.source, sym.Name)
		return Yes
	}
	r.Why = fmt.Sprintf("not the default of the %q choice", grp.name)
	return No
}

func (k *Kconfig) resolveScalar(r *Resolved, sym Symbol, dep Tristate, st Setting, assigned, isOverride bool, env func(string) Tristate) {
	if dep == No {
		r.Origin = FromDefault
		r.Why = fmt.Sprintf("depends on %s, which is n: no value", sym.Depends)
		return
	}
	want := KindString
	if sym.Type == TypeInt {
		want = KindInt
	} else if sym.Type == TypeHex {
		want = KindHex
	}
	bad := ""
	if assigned {
		ok := st.Value.Kind == want || (sym.Type == TypeInt && st.Value.Kind == KindInt)
		if ok && sym.Range != [2]int64{} && (st.Value.Int < sym.Range[0] || st.Value.Int > sym.Range[1]) {
			bad = fmt.Sprintf("%s: CONFIG_%s=%s is outside its range %d..%d (Kconfig ignores it); ", st.Pos, sym.Name, st.Value, sym.Range[0], sym.Range[1])
			ok = false
		} else if !ok {
			bad = fmt.Sprintf("%s: CONFIG_%s=%s is not a valid %s value (Kconfig ignores it); ", st.Pos, sym.Name, st.Value, sym.Type)
		}
		if ok {
			r.Set, r.Value, r.Pos, r.Origin = true, st.Value, st.Pos, FromConfig
			r.Why = fmt.Sprintf("CONFIG_%s=%s in %s", sym.Name, st.Value, st.Pos)
			if isOverride {
				r.Origin, r.Pos = FromOverride, Pos{}
				r.Why = fmt.Sprintf("CONFIG_%s=%s (proposed change)", sym.Name, st.Value)
			}
			return
		}
	}
	r.Origin = FromDefault
	for _, d := range sym.Default {
		if d.cond != "" && mustExpr(d.cond).eval(env) == No {
			continue
		}
		switch sym.Type {
		case TypeString:
			r.Value = StringValue(d.value)
		default:
			n, _ := strconv.ParseInt(d.value, 0, 64)
			r.Value = Value{Kind: want, Int: n}
		}
		r.Set = true
		txt := "default " + r.Value.String()
		if d.cond != "" {
			txt += " if " + d.cond
		}
		r.Why = bad + fmt.Sprintf("not set in the config: %s (%s)", txt, sym.Source)
		return
	}
	r.Why = bad + "not set in the config and no default applies"
}

// Reachable reports IS_REACHABLE(callee) for code built as caller
// (include/linux/kconfig.h): the callee's real functions are linked in when
// it is built in, or when both are modules; built-in code calling a module
// (and anything calling an n symbol) gets the header's static inline stubs.
func Reachable(caller, callee Tristate) bool {
	switch callee {
	case Yes:
		return caller != No
	case Module:
		return caller == Module
	}
	return false
}

// versionLess reports a < b for dotted kernel versions ("6.12.117" <
// "6.15"); a suffix such as "+deb12-arm64" or "-rc1" is ignored.
func versionLess(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func versionParts(v string) []int {
	var out []int
	for _, f := range strings.Split(v, ".") {
		n := 0
		j := 0
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			n = n*10 + int(f[j]-'0')
			j++
			if n > 1<<20 {
				break
			}
		}
		if j == 0 {
			break
		}
		out = append(out, n)
		if j < len(f) {
			break
		}
	}
	return out
}

// Decisive returns the resolutions of the symbols marked Decides, sorted by
// name, for the why section.
func (k *Kconfig) Decisive() []Resolved {
	var out []Resolved
	for _, s := range symbolTable {
		if s.Decides {
			out = append(out, k.syms[s.Name])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// depValues renders the symbols of a dependency expression with their
// values ("TCG_TPM=y, ACPI=y").
func depValues(depends string, env func(string) Tristate) string {
	var parts []string
	seen := map[string]bool{}
	mustExpr(depends).symbols(func(n string) {
		if !seen[n] {
			seen[n] = true
			parts = append(parts, n+"="+env(n).String())
		}
	})
	return strings.Join(parts, ", ")
}
