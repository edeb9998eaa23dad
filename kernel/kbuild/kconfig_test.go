package kbuild

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func cfgOf(t *testing.T, text string) *Config {
	t.Helper()
	c, err := ParseConfig("test.config", []byte(text))
	require.NoError(t, err)
	return c
}

// base is an arm64 config with everything the chain needs except the
// symbols each case sets.
const base = "CONFIG_ARM64=y\nCONFIG_OF=y\nCONFIG_ACPI=y\nCONFIG_MODULES=y\n"

func TestResolveKconfigRules(t *testing.T) {
	tests := []struct {
		name   string
		config string
		sym    string
		want   Tristate
		origin Origin
		why    string
	}{
		// drivers/char/tpm/Kconfig: depends on ARM_FFA_TRANSPORT && TCG_CRB.
		{"depends on an m symbol caps y at m", "CONFIG_TCG_TPM=y\nCONFIG_TCG_CRB=m\nCONFIG_ARM_FFA_TRANSPORT=y\nCONFIG_TCG_ARM_CRB_FFA=y\n",
			"TCG_ARM_CRB_FFA", Module, FromClamp, "builds it as m"},
		{"default TCG_CRB tracks y", "CONFIG_TCG_TPM=y\nCONFIG_TCG_CRB=y\nCONFIG_ARM_FFA_TRANSPORT=y\n",
			"TCG_ARM_CRB_FFA", Yes, FromDefault, "default TCG_CRB"},
		{"default TCG_CRB tracks m", "CONFIG_TCG_TPM=m\nCONFIG_TCG_CRB=m\nCONFIG_ARM_FFA_TRANSPORT=y\n",
			"TCG_ARM_CRB_FFA", Module, FromDefault, "default TCG_CRB"},
		{"default limited by an m dependency", "CONFIG_TCG_TPM=y\nCONFIG_TCG_CRB=y\nCONFIG_ARM_FFA_TRANSPORT=m\n",
			"TCG_ARM_CRB_FFA", Module, FromDefault, "limited by depends on"},
		{"dependency n makes it n", "CONFIG_TCG_TPM=y\nCONFIG_TCG_CRB=y\n# CONFIG_ARM_FFA_TRANSPORT is not set\nCONFIG_TCG_ARM_CRB_FFA=y\n",
			"TCG_ARM_CRB_FFA", No, FromClamp, "which is n"},
		{"ARM_FFA_TRANSPORT default n", "", "ARM_FFA_TRANSPORT", No, FromDefault, "default of CONFIG_ARM_FFA_TRANSPORT is n"},
		// security/integrity/ima/Kconfig: IMA selects TCG_TPM if HAS_IOMEM
		// and TCG_CRB if TCG_TPM && ACPI.
		{"IMA selects TCG_TPM", "CONFIG_SECURITY=y\nCONFIG_IMA=y\n", "TCG_TPM", Yes, FromSelect, "IMA=y selects it"},
		{"IMA selects TCG_CRB over an m", "CONFIG_SECURITY=y\nCONFIG_IMA=y\nCONFIG_TCG_TPM=y\nCONFIG_TCG_CRB=m\n", "TCG_CRB", Yes, FromSelect, "select TCG_CRB if TCG_TPM && ACPI"},
		{"IMA needs SECURITY through INTEGRITY", "# CONFIG_SECURITY is not set\nCONFIG_IMA=y\n", "IMA", No, FromClamp, "depends on INTEGRITY"},
		{"IMA inside if INTEGRITY", "CONFIG_SECURITY=y\n# CONFIG_INTEGRITY is not set\nCONFIG_IMA=y\n", "IMA", No, FromClamp, "depends on INTEGRITY"},
		{"INTEGRITY defaults y with SECURITY", "CONFIG_SECURITY=y\n", "INTEGRITY", Yes, FromDefault, "default y"},
		{"no MODULES: m is n", "# CONFIG_MODULES is not set\nCONFIG_TCG_TPM=m\n", "TCG_TPM", No, FromClamp, "MODULES is not y"},
		{"HAS_IOMEM defaults y", "", "HAS_IOMEM", Yes, FromDefault, "default y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := Resolve(cfgOf(t, base+tt.config), "")
			r := k.Get(tt.sym)
			assert.Equal(t, tt.want, r.Tri(), "value: %s", r.Why)
			assert.Equal(t, tt.origin, r.Origin, "origin: %s", r.Why)
			assert.Contains(t, r.Why, tt.why)
		})
	}
}

func TestResolveScalars(t *testing.T) {
	k := Resolve(cfgOf(t, base+"CONFIG_SECURITY=y\nCONFIG_IMA=y\nCONFIG_IMA_MEASURE_PCR_IDX=20\n"), "")
	r := k.Get("IMA_MEASURE_PCR_IDX")
	assert.Equal(t, IntValue(10), r.Value)
	assert.Contains(t, r.Why, "outside its range 8..14")
	assert.Contains(t, r.Why, "default 10")
	assert.Equal(t, "ima-ng", k.Get("IMA_DEFAULT_TEMPLATE").Value.Str, k.Get("IMA_DEFAULT_TEMPLATE").Why)
	assert.Equal(t, "sha1", k.Get("IMA_DEFAULT_HASH").Value.Str)
	assert.Equal(t, Yes, k.Tri("IMA_NG_TEMPLATE"))

	k = Resolve(cfgOf(t, base+"CONFIG_SECURITY=y\nCONFIG_IMA=y\nCONFIG_IMA_SIG_TEMPLATE=y\nCONFIG_IMA_DEFAULT_HASH_SHA256=y\n"), "")
	assert.Equal(t, "ima-sig", k.Get("IMA_DEFAULT_TEMPLATE").Value.Str)
	assert.Equal(t, No, k.Tri("IMA_NG_TEMPLATE"))
	assert.Equal(t, "sha256", k.Get("IMA_DEFAULT_HASH").Value.Str)

	k = Resolve(cfgOf(t, base+"CONFIG_SECURITY=y\nCONFIG_IMA=y\nCONFIG_IMA_DEFAULT_HASH=\"sha512\"\nCONFIG_IMA_MEASURE_PCR_IDX=11\n"), "")
	assert.Equal(t, "sha512", k.Get("IMA_DEFAULT_HASH").Value.Str)
	assert.Equal(t, int64(11), k.Get("IMA_MEASURE_PCR_IDX").Value.Int)

	// IMA off: its scalars have no value, as in a real .config.
	k = Resolve(cfgOf(t, base), "")
	assert.False(t, k.Get("IMA_DEFAULT_HASH").Set)
}

func TestResolveVersions(t *testing.T) {
	hdr := func(v string) string { return "#\n# Linux/arm64 " + v + " Kernel Configuration\n#\n" }
	all := base + "CONFIG_SECURITY=y\nCONFIG_IMA=y\nCONFIG_TCG_TPM=y\nCONFIG_TCG_CRB=y\nCONFIG_ARM_FFA_TRANSPORT=y\n"

	// 6.12 predates TCG_ARM_CRB_FFA (v6.15): even an explicit y is n.
	k := Resolve(cfgOf(t, hdr("6.12.117")+all+"CONFIG_TCG_ARM_CRB_FFA=y\n"), "")
	r := k.Get("TCG_ARM_CRB_FFA")
	assert.Equal(t, NotInVersion, r.Origin)
	assert.Equal(t, No, r.Tri())
	assert.Contains(t, r.Why, "Linux 6.12.117 has no CONFIG_TCG_ARM_CRB_FFA")

	// A complete 6.16 config without the line: Kconfig would have written
	// it, so the symbol does not exist there either... but 6.16 >= 6.15 and
	// the header is present, so the absence means "not in this kernel".
	k = Resolve(cfgOf(t, hdr("6.16.0")+all), "")
	assert.Equal(t, NotInVersion, k.Get("TCG_ARM_CRB_FFA").Origin)
	assert.Equal(t, NotInVersion, k.Get("IMA_INIT_LATE_SYNC").Origin)

	// A complete 6.16 config with the line.
	k = Resolve(cfgOf(t, hdr("6.16.0")+all+"CONFIG_TCG_ARM_CRB_FFA=m\n# CONFIG_IMA_INIT_LATE_SYNC is not set\n"), "")
	assert.Equal(t, Module, k.Tri("TCG_ARM_CRB_FFA"))
	assert.Equal(t, FromConfig, k.Get("IMA_INIT_LATE_SYNC").Origin)

	// A fragment (no header): absent symbols take their defaults.
	k = Resolve(cfgOf(t, all), "")
	assert.Equal(t, FromDefault, k.Get("TCG_ARM_CRB_FFA").Origin)
	assert.Equal(t, Yes, k.Tri("TCG_ARM_CRB_FFA"))

	// Overrides (what-if changes) are taken even where the header lacks them.
	k = Resolve(cfgOf(t, hdr("6.16.0")+all), "", Override{Name: "CONFIG_IMA_INIT_LATE_SYNC", Value: TriValue(Yes)})
	assert.Equal(t, Yes, k.Tri("IMA_INIT_LATE_SYNC"))
	assert.Equal(t, FromOverride, k.Get("IMA_INIT_LATE_SYNC").Origin)
}

func TestReachable(t *testing.T) {
	// include/linux/kconfig.h IS_REACHABLE: callee y, or callee m with the
	// caller a module too.
	tests := []struct {
		caller, callee Tristate
		want           bool
	}{
		{Yes, Yes, true}, {Yes, Module, false}, {Yes, No, false},
		{Module, Yes, true}, {Module, Module, true}, {Module, No, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Reachable(tt.caller, tt.callee), "%s->%s", tt.caller, tt.callee)
	}
	k := Resolve(cfgOf(t, base+"CONFIG_TCG_TPM=y\nCONFIG_TCG_CRB=y\nCONFIG_ARM_FFA_TRANSPORT=y\nCONFIG_TCG_ARM_CRB_FFA=m\n"), "")
	assert.Contains(t, k.CRBFFAReach(), "returns 0 (success)")
	assert.Contains(t, k.CRBFFAReach(), "cannot reach")
}

func TestSymbolTableIsTopological(t *testing.T) {
	pos := map[string]int{}
	for i, s := range symbolTable {
		_, dup := pos[s.Name]
		require.False(t, dup, "duplicate %s", s.Name)
		pos[s.Name] = i
	}
	check := func(owner int, text, what string) {
		if text == "" {
			return
		}
		e, err := parseExpr(text)
		require.NoError(t, err, "%s %s", symbolTable[owner].Name, what)
		e.symbols(func(n string) {
			p, ok := pos[n]
			require.True(t, ok, "%s %s names %s, which is not in the table", symbolTable[owner].Name, what, n)
			assert.Less(t, p, owner, "%s %s names %s, which comes later", symbolTable[owner].Name, what, n)
		})
	}
	for i, s := range symbolTable {
		check(i, s.Depends, "depends")
		for _, d := range s.Default {
			if s.Type == TypeBool || s.Type == TypeTristate {
				check(i, d.value, "default")
			}
			check(i, d.cond, "default condition")
		}
		for _, sel := range s.Selects {
			p, ok := pos[sel.target]
			require.True(t, ok, sel.target)
			assert.Greater(t, p, i, "%s selects %s, which must come later", s.Name, sel.target)
			check(p, sel.cond, "select condition of "+s.Name)
		}
	}
}

func TestParseExpr(t *testing.T) {
	env := func(m map[string]Tristate) func(string) Tristate { return func(n string) Tristate { return m[n] } }
	vals := map[string]Tristate{"A": Yes, "B": Module, "C": No}
	tests := []struct {
		in   string
		want Tristate
	}{
		{"A", Yes}, {"A && B", Module}, {"B || C", Module}, {"!B", Module}, {"!C", Yes},
		{"A && (B || C)", Module}, {"B=m", Yes}, {"B!=m", No}, {"!(A && C)", Yes}, {"", Yes},
		{"A && !(B = y)", Yes},
	}
	for _, tt := range tests {
		e, err := parseExpr(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, e.eval(env(vals)), tt.in)
	}
	for _, bad := range []string{"A &&", "(A", "A B", "&& A", "A = "} {
		_, err := parseExpr(bad)
		assert.Error(t, err, bad)
	}
}

func TestDecisiveAreMarked(t *testing.T) {
	var names []string
	for _, r := range Resolve(nil, "").Decisive() {
		names = append(names, r.Name)
	}
	assert.Equal(t, "ACPI ARM_FFA_TRANSPORT IMA IMA_INIT_LATE_SYNC SECURITY TCG_ARM_CRB_FFA TCG_CRB TCG_TPM", strings.Join(names, " "))
}

func TestOlddefconfig(t *testing.T) {
	c := cfgOf(t, "#\n# Linux/arm64 6.12.117 Kernel Configuration\n#\n"+base+"CONFIG_SECURITY=y\nCONFIG_IMA=y\nCONFIG_TCG_TPM=y\nCONFIG_TCG_CRB=y\n# CONFIG_ARM_FFA_TRANSPORT is not set\n")
	k := Resolve(c, "")
	assert.Equal(t, NotInVersion, k.Get("TCG_ARM_CRB_FFA").Origin)
	k = Olddefconfig(c, "6.15", Override{Name: "ARM_FFA_TRANSPORT", Value: TriValue(Yes)})
	assert.Equal(t, "6.15", k.Version)
	r := k.Get("TCG_ARM_CRB_FFA")
	assert.Equal(t, FromDefault, r.Origin, r.Why)
	assert.Equal(t, Yes, r.Tri())
	assert.Equal(t, FromDefault, k.Get("IMA_INIT_LATE_SYNC").Origin)
}
