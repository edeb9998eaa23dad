package kernel

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Tristate is a Kconfig tristate value.
type Tristate uint8

// Kconfig values, ordered n < m < y as Kconfig's expression logic orders them.
const (
	N Tristate = iota // not built
	M                 // built as a module
	Y                 // built in
)

// String returns "n", "m" or "y".
func (t Tristate) String() string {
	switch t {
	case N:
		return "n"
	case M:
		return "m"
	case Y:
		return "y"
	}
	return fmt.Sprintf("Tristate(%d)", uint8(t))
}

// ParseTristate accepts y, m, n (any case).
func ParseTristate(s string) (Tristate, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "y":
		return Y, nil
	case "m":
		return M, nil
	case "n":
		return N, nil
	}
	return N, fmt.Errorf("bad tristate %q (want y, m or n)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (t Tristate) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Tristate) UnmarshalText(b []byte) error {
	v, err := ParseTristate(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// SymbolType is a Kconfig symbol type.
type SymbolType uint8

// Kconfig symbol types the model uses.
const (
	TypeBool SymbolType = iota + 1
	TypeTristate
	TypeString
	TypeInt
)

// String returns the Kconfig keyword.
func (t SymbolType) String() string {
	switch t {
	case TypeBool:
		return "bool"
	case TypeTristate:
		return "tristate"
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	}
	return fmt.Sprintf("SymbolType(%d)", uint8(t))
}

// Symbol describes one Kconfig symbol the model knows: its type, the
// default the model uses when a configuration does not set it, and the
// dependencies and selects it honours. Names are without the CONFIG_ prefix.
type Symbol struct {
	Name      string
	Type      SymbolType
	Default   string   // "y", "m", "n", a string or a number; "=SYM" means "default SYM"
	DependsOn []string // all must be enabled; a tristate is capped at their minimum
	Selects   []Select // what this symbol selects when enabled
	Source    string   // where the definition lives in the Linux tree
	Help      string   // one line
}

// Select is a Kconfig "select TARGET if COND..." clause.
type Select struct {
	Target string
	If     []string // all must be enabled (empty: unconditional)
}

// symbolTable is the model's Kconfig knowledge, sorted by name. It is
// never modified; Symbols returns a copy.
var symbolTable = [...]Symbol{
	{Name: "ARM64", Type: TypeBool, Default: "y", Source: "arch/Kconfig", Help: "the modelled machine is arm64"},
	{Name: "ACPI", Type: TypeBool, Default: "y", Source: "drivers/acpi/Kconfig", Help: "ACPI tables describe the TPM (TPM2 table, MSFT0101 device)"},
	{Name: "OF", Type: TypeBool, Default: "y", Source: "drivers/of/Kconfig", Help: "device tree support (ARM_FFA_TRANSPORT depends on it)"},
	{Name: "MODULES", Type: TypeBool, Default: "y", Source: "init/Kconfig", Help: "loadable module support; without it =m symbols are n"},
	{Name: "ARM_FFA_TRANSPORT", Type: TypeTristate, Default: "n", DependsOn: []string{"OF", "ARM64"},
		Source: "drivers/firmware/arm_ffa/Kconfig", Help: "Arm FF-A driver (ffa-core bus and ffa_init)"},
	{Name: "TCG_TPM", Type: TypeTristate, Default: "n", Source: "drivers/char/tpm/Kconfig", Help: "TPM core (tpm_chip_register, tpm_default_chip)"},
	{Name: "TCG_CRB", Type: TypeTristate, Default: "n", DependsOn: []string{"TCG_TPM", "ACPI"},
		Source: "drivers/char/tpm/Kconfig", Help: "TPM 2.0 CRB interface (tpm_crb, crb_acpi_driver_init)"},
	{Name: "TCG_ARM_CRB_FFA", Type: TypeTristate, Default: "=TCG_CRB", DependsOn: []string{"ARM_FFA_TRANSPORT", "TCG_CRB"},
		Source: "drivers/char/tpm/Kconfig", Help: "CRB start method over FF-A (tpm_crb_ffa)"},
	{Name: "SECURITY", Type: TypeBool, Default: "n", Source: "security/Kconfig", Help: "security hooks"},
	{Name: "INTEGRITY", Type: TypeBool, Default: "y", DependsOn: []string{"SECURITY"}, Source: "security/integrity/Kconfig", Help: "integrity subsystem"},
	{Name: "IMA", Type: TypeBool, Default: "n", DependsOn: []string{"INTEGRITY"},
		Selects: []Select{{Target: "TCG_TPM"}, {Target: "TCG_CRB", If: []string{"TCG_TPM", "ACPI"}}},
		Source:  "security/integrity/ima/Kconfig", Help: "Integrity Measurement Architecture (init_ima, late_initcall)"},
	{Name: "IMA_MEASURE_PCR_IDX", Type: TypeInt, Default: "10", DependsOn: []string{"IMA"}, Source: "security/integrity/ima/Kconfig", Help: "PCR IMA extends"},
	{Name: "IMA_DEFAULT_HASH", Type: TypeString, Default: "sha1", DependsOn: []string{"IMA"}, Source: "security/integrity/ima/Kconfig", Help: "default hash (choice IMA_DEFAULT_HASH_SHA1 is Kconfig's default)"},
	{Name: "IMA_DEFAULT_TEMPLATE", Type: TypeString, Default: "ima-ng", DependsOn: []string{"IMA"}, Source: "security/integrity/ima/Kconfig", Help: "default template (choice IMA_NG_TEMPLATE)"},
	{Name: "IMA_INIT_LATE_SYNC", Type: TypeBool, Default: "n", DependsOn: []string{"IMA"}, Source: "security/integrity/ima/Kconfig", Help: "run init_ima at late_initcall_sync (2026)"},
}

// Symbols returns the Kconfig symbols the model knows, with the defaults it
// uses (a fresh slice, sorted by name).
func Symbols() []Symbol {
	s := append([]Symbol(nil), symbolTable[:]...)
	sort.Slice(s, func(i, j int) bool { return s[i].Name < s[j].Name })
	return s
}

// LookupSymbol returns the model's definition of a symbol.
func LookupSymbol(name string) (Symbol, bool) {
	for i := range symbolTable {
		if symbolTable[i].Name == name {
			return symbolTable[i], true
		}
	}
	return Symbol{}, false
}

// Config is a kernel configuration: Kconfig symbols (without the CONFIG_
// prefix) set to y/m/n, strings or numbers. Symbols it does not set take
// the defaults of Symbols(); unknown symbols are kept (kbuild may read a
// whole .config) but do not affect the model.
//
// The zero value is not usable; call NewConfig. Config values are not
// shared between boots: Clone before changing one that is in use.
type Config struct {
	tri map[string]Tristate
	str map[string]string
	num map[string]int64
}

// NewConfig returns a configuration that sets nothing (every known symbol
// at its Kconfig default).
func NewConfig() *Config {
	return &Config{tri: map[string]Tristate{}, str: map[string]string{}, num: map[string]int64{}}
}

// DefaultConfig returns the configuration in which the whole chain works:
// FF-A, the TPM core, tpm_crb and tpm_crb_ffa built in, IMA built in.
func DefaultConfig() *Config {
	c := NewConfig()
	c.Set("ARM_FFA_TRANSPORT", Y)
	c.Set("TCG_TPM", Y)
	c.Set("TCG_CRB", Y)
	c.Set("TCG_ARM_CRB_FFA", Y)
	c.Set("SECURITY", Y)
	c.Set("INTEGRITY", Y)
	c.Set("IMA", Y)
	c.SetString("IMA_DEFAULT_HASH", "sha256")
	return c
}

// Clone returns an independent copy.
func (c *Config) Clone() *Config {
	d := NewConfig()
	for k, v := range c.tri {
		d.tri[k] = v
	}
	for k, v := range c.str {
		d.str[k] = v
	}
	for k, v := range c.num {
		d.num[k] = v
	}
	return d
}

// Set sets a bool or tristate symbol (a bool takes y or n).
func (c *Config) Set(sym string, v Tristate) { c.tri[sym] = v; delete(c.str, sym); delete(c.num, sym) }

// SetString sets a string symbol.
func (c *Config) SetString(sym, v string) { c.str[sym] = v; delete(c.tri, sym); delete(c.num, sym) }

// SetInt sets an int symbol.
func (c *Config) SetInt(sym string, v int64) { c.num[sym] = v; delete(c.tri, sym); delete(c.str, sym) }

// Unset removes an explicit value, so that the default applies.
func (c *Config) Unset(sym string) { delete(c.tri, sym); delete(c.str, sym); delete(c.num, sym) }

// SetValue sets a symbol from its .config text: y, m, n, a number or a
// (quoted or bare) string, checked against the symbol's type when the
// model knows the symbol.
func (c *Config) SetValue(sym, v string) error {
	s, known := LookupSymbol(sym)
	if known {
		switch s.Type {
		case TypeBool, TypeTristate:
			t, err := ParseTristate(v)
			if err != nil {
				return fmt.Errorf("%s: %w", sym, err)
			}
			if s.Type == TypeBool && t == M {
				return fmt.Errorf("%s is a bool symbol: m is not a value it can take", sym)
			}
			c.Set(sym, t)
		case TypeInt:
			n, err := strconv.ParseInt(strings.TrimSpace(v), 0, 64)
			if err != nil {
				return fmt.Errorf("%s is an int symbol: %q is not a number", sym, v)
			}
			c.SetInt(sym, n)
		case TypeString:
			c.SetString(sym, unquote(v))
		}
		return nil
	}
	if t, err := ParseTristate(v); err == nil {
		c.Set(sym, t)
		return nil
	}
	if n, err := strconv.ParseInt(v, 0, 64); err == nil {
		c.SetInt(sym, n)
		return nil
	}
	c.SetString(sym, unquote(v))
	return nil
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if u, err := strconv.Unquote(v); err == nil {
			return u
		}
		return v[1 : len(v)-1]
	}
	return v
}

// Explicit reports whether the configuration sets sym itself.
func (c *Config) Explicit(sym string) bool {
	_, a := c.tri[sym]
	_, b := c.str[sym]
	_, d := c.num[sym]
	return a || b || d
}

// SetSymbols returns the explicitly set symbols, sorted.
func (c *Config) SetSymbols() []string {
	var out []string
	for k := range c.tri {
		out = append(out, k)
	}
	for k := range c.str {
		out = append(out, k)
	}
	for k := range c.num {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Tristate returns the effective value of a bool or tristate symbol: the
// explicit value or the default, capped by its dependencies (a tristate
// that depends on an =m symbol is at most m; on an =n symbol it is n), and
// m becomes n when MODULES is off. Selects are not applied (see Notes).
func (c *Config) Tristate(sym string) Tristate {
	return c.tristate(sym, 0)
}

func (c *Config) tristate(sym string, depth int) Tristate {
	if depth > 16 {
		return N
	}
	s, known := LookupSymbol(sym)
	v, set := c.tri[sym]
	if !set {
		if !known {
			return N
		}
		switch {
		case strings.HasPrefix(s.Default, "="):
			v = c.tristate(s.Default[1:], depth+1)
		default:
			t, err := ParseTristate(s.Default)
			if err != nil {
				return N
			}
			v = t
		}
	}
	if known {
		for _, d := range s.DependsOn {
			if dv := c.tristate(d, depth+1); dv < v {
				v = dv
			}
		}
		if s.Type == TypeBool && v == M {
			v = Y // a bool depending on an m symbol is visible as y
		}
	}
	if v == M && sym != "MODULES" && c.tristate("MODULES", depth+1) != Y {
		v = N
	}
	return v
}

// Builtin reports whether sym is =y.
func (c *Config) Builtin(sym string) bool { return c.Tristate(sym) == Y }

// Module reports whether sym is =m.
func (c *Config) Module(sym string) bool { return c.Tristate(sym) == M }

// Enabled reports whether sym is y or m.
func (c *Config) Enabled(sym string) bool { return c.Tristate(sym) != N }

// Reachable is Linux's IS_REACHABLE(CONFIG_to) as seen from code built as
// from: built-in code reaches only built-in code; module code reaches both.
func (c *Config) Reachable(from, to string) bool {
	t := c.Tristate(to)
	if t == Y {
		return true
	}
	return t == M && c.Tristate(from) == M
}

// StringValue returns the effective value of a string symbol.
func (c *Config) StringValue(sym string) string {
	if v, ok := c.str[sym]; ok {
		return v
	}
	if s, ok := LookupSymbol(sym); ok && s.Type == TypeString {
		return s.Default
	}
	return ""
}

// Int returns the effective value of an int symbol.
func (c *Config) Int(sym string) int64 {
	if v, ok := c.num[sym]; ok {
		return v
	}
	if s, ok := LookupSymbol(sym); ok && s.Type == TypeInt {
		n, _ := strconv.ParseInt(s.Default, 0, 64)
		return n
	}
	return 0
}

// Notes explains where the effective values differ from what was set: a
// value capped by a dependency, and selects that a real Kconfig run would
// have applied (the model keeps the configuration as given so that any
// combination can be explored, and says so).
func (c *Config) Notes() []string {
	var notes []string
	for i := range symbolTable {
		s := &symbolTable[i]
		if s.Type != TypeBool && s.Type != TypeTristate {
			continue
		}
		if v, ok := c.tri[s.Name]; ok {
			if eff := c.Tristate(s.Name); eff != v {
				notes = append(notes, fmt.Sprintf("%s=%s is effectively %s (depends on %s)", s.Name, v, eff, strings.Join(s.DependsOn, " && ")))
			}
		}
		if c.Tristate(s.Name) == N {
			continue
		}
		for _, sel := range s.Selects {
			cond := true
			for _, d := range sel.If {
				if !c.Enabled(d) {
					cond = false
				}
			}
			if cond && c.Tristate(sel.Target) < c.Tristate(s.Name) {
				notes = append(notes, fmt.Sprintf("%s=%s selects %s: a real Kconfig run would make %s=%s (the model keeps %s)",
					s.Name, c.Tristate(s.Name), sel.Target, sel.Target, c.Tristate(s.Name), c.Tristate(sel.Target)))
			}
		}
	}
	return notes
}
