package verdict

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kbuild"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastBooter boots the model on the fast fake world with a stand-in for
// init_ima (kerneltest.IMAProbe) at late, or late_sync with
// IMA_INIT_LATE_SYNC=y.
func fastBooter(t testing.TB) Booter {
	return func(spec kernel.Spec) (Outcome, error) {
		_, pl := kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
		spec.Platform = pl
		spec.Quiet = true
		probe := &kerneltest.IMAProbe{}
		lvl := kernel.LevelLate
		if spec.Config.Builtin("IMA_INIT_LATE_SYNC") {
			lvl = kernel.LevelLateSync
		}
		spec.Initcalls = append(spec.Initcalls, probe.Initcall(lvl))
		res, err := kernel.Boot(spec)
		if err != nil {
			return Outcome{}, err
		}
		d := "no TPM chip when init_ima ran"
		switch {
		case !probe.Ran:
			d = "init_ima did not run (IMA not built in)"
		case probe.SawChip:
			d = fmt.Sprintf("TPM chip registered before init_ima (%v)", probe.At)
		}
		return Outcome{TPMAtIMA: probe.Ran && probe.SawChip, Detail: d, Result: res}, nil
	}
}

func load(t *testing.T, name, ver string) *kbuild.Inputs {
	t.Helper()
	in, err := kbuild.Load(kbuild.Options{Dir: filepath.Join("../../../testdata/kernels", name, "lib/modules", ver)})
	require.NoError(t, err)
	return in
}

func fixTexts(ex *Explanation) []string {
	var out []string
	for _, f := range ex.Fixes {
		out = append(out, f.Change.String())
	}
	return out
}

func TestExplainSeed002(t *testing.T) {
	in := load(t, "seed002-6.16", "6.16.0-ffatpm")
	ex, err := Explain(in, fastBooter(t))
	require.NoError(t, err)
	assert.False(t, ex.TPMAtIMA, ex.Detail)
	var deciding []string
	for _, d := range ex.Deciding {
		deciding = append(deciding, d.Kind+": "+d.Text+" | flip: "+d.Flip)
	}
	t.Logf("deciding:\n%s", strings.Join(deciding, "\n"))
	t.Logf("fixes: %v (boots %d) nofix=%q frozen=%v", fixTexts(ex), ex.Boots, ex.NoFix, ex.Frozen)
	assert.Contains(t, ex.Frozen, "IMA_INIT_LATE_SYNC")
	require.NotEmpty(t, ex.Fixes)
	// Upstream's answer: both v6.17 fixes together; neither alone works.
	assert.Equal(t, []string{"ffa_init_rootfs", "crb_ffa_register"}, ex.Fixes[0].Change.Patches)
	assert.Empty(t, ex.Fixes[0].Change.Kconfig)
	require.Len(t, ex.Deciding, 1)
	assert.Equal(t, "link-order", ex.Deciding[0].Kind)
	assert.Contains(t, ex.Deciding[0].Text, "init_ima runs before deferred_probe_initcall")
}

func TestExplainV617(t *testing.T) {
	in := load(t, "v6.17-fixes", "6.17.0-ffatpm")
	ex, err := Explain(in, fastBooter(t))
	require.NoError(t, err)
	assert.True(t, ex.TPMAtIMA, ex.Detail)
	assert.Empty(t, ex.Fixes)
	for _, d := range ex.Deciding {
		t.Logf("%s: %s | flip: %s", d.Kind, d.Text, d.Flip)
	}
}

func TestExplainCRBFFAModule(t *testing.T) {
	in := load(t, "crb-ffa-module-6.16", "6.16.0-ffatpm")
	ex, err := Explain(in, fastBooter(t))
	require.NoError(t, err)
	assert.False(t, ex.TPMAtIMA, ex.Detail)
	t.Logf("fixes: %v (boots %d)", fixTexts(ex), ex.Boots)
	require.NotEmpty(t, ex.Fixes)
	assert.Contains(t, ex.Fixes[0].Change.String(), "CONFIG_TCG_ARM_CRB_FFA=y")
	for _, d := range ex.Deciding {
		t.Logf("%s: %s | flip: %s", d.Kind, d.Text, d.Flip)
	}
}

func TestExplainDebian(t *testing.T) {
	in := load(t, "debian-6.12-arm64", "6.12.117+deb12-arm64")
	ex, err := Explain(in, fastBooter(t))
	require.NoError(t, err)
	assert.False(t, ex.TPMAtIMA, ex.Detail)
	t.Logf("detail %s fixes: %v nofix=%q frozen=%v (boots %d)", ex.Detail, fixTexts(ex), ex.NoFix, ex.Frozen, ex.Boots)
	assert.Empty(t, ex.Fixes)
	assert.Equal(t, []string{"TCG_ARM_CRB_FFA", "IMA_INIT_LATE_SYNC"}, ex.Frozen)
	require.NotNil(t, ex.Upgrade)
	require.NotEmpty(t, ex.Upgrade.Fixes)
	assert.Contains(t, ex.Upgrade.Fixes[0].Change.String(), "CONFIG_ARM_FFA_TRANSPORT=y")
}

func TestExplainLateSyncFragment(t *testing.T) {
	d := "../../../testdata/kernels/late-sync-fragment"
	in, err := kbuild.Load(kbuild.Options{KernelConfig: filepath.Join(d, "config"), ModulesBuiltin: filepath.Join(d, "modules.builtin")})
	require.NoError(t, err)
	ex, err := Explain(in, fastBooter(t))
	require.NoError(t, err)
	assert.True(t, ex.TPMAtIMA, ex.Detail)
	var flips []string
	for _, dcd := range ex.Deciding {
		flips = append(flips, dcd.Flip)
	}
	assert.Contains(t, flips, "CONFIG_IMA_INIT_LATE_SYNC=n")
}

func TestExplainDeterministic(t *testing.T) {
	in := load(t, "crb-ffa-module-6.16", "6.16.0-ffatpm")
	var outs []string
	for i := 0; i < 2; i++ {
		ex, err := Explain(in, fastBooter(t))
		require.NoError(t, err)
		var b strings.Builder
		require.NoError(t, ex.WriteWhy(&b, in))
		outs = append(outs, b.String())
	}
	assert.Equal(t, outs[0], outs[1])
}

func TestWriteWhy(t *testing.T) {
	for _, c := range []struct{ name, ver string }{{"seed002-6.16", "6.16.0-ffatpm"}, {"crb-ffa-module-6.16", "6.16.0-ffatpm"}, {"debian-6.12-arm64", "6.12.117+deb12-arm64"}} {
		in := load(t, c.name, c.ver)
		ex, err := Explain(in, fastBooter(t))
		require.NoError(t, err)
		var b strings.Builder
		require.NoError(t, ex.WriteWhy(&b, in))
		t.Logf("== %s\n%s", c.name, b.String())
	}
}

// TestRealWhy prints the why section for a real module directory named by
// KBUILD_TEST_DIR (KBUILD_TEST_VMLINUX optional); skipped by default.
func TestRealWhy(t *testing.T) {
	d := os.Getenv("KBUILD_TEST_DIR")
	if d == "" {
		t.Skip("set KBUILD_TEST_DIR to a /lib/modules/<version> directory")
	}
	in, err := kbuild.Load(kbuild.Options{Dir: d, Vmlinux: os.Getenv("KBUILD_TEST_VMLINUX")})
	require.NoError(t, err)
	ex, err := Explain(in, fastBooter(t))
	require.NoError(t, err)
	require.NoError(t, ex.WriteWhy(os.Stdout, in))
}

func TestKnobsAndWhatIf(t *testing.T) {
	in := load(t, "debian-6.12-arm64", "6.12.117+deb12-arm64")
	var names []string
	for _, k := range Knobs(in) {
		names = append(names, k.Symbol+k.Patch)
	}
	assert.NotContains(t, names, "TCG_ARM_CRB_FFA")
	assert.Contains(t, names, "ARM_FFA_TRANSPORT")
	assert.Contains(t, names, "ffa_init_rootfs")

	in = load(t, "seed002-6.16", "6.16.0-ffatpm")
	spec, _, ok, err := WhatIf(in, Change{Patches: []string{"ffa_init_rootfs", "crb_ffa_register"}})
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, spec.Patches.FFAInitRootfs && spec.Patches.CRBFFARegister)
	o, err := fastBooter(t)(spec)
	require.NoError(t, err)
	assert.True(t, o.TPMAtIMA)

	// TCG_CRB=m cannot be had with IMA=y and ACPI=y (IMA selects TCG_CRB).
	_, _, ok, err = WhatIf(in, Change{Kconfig: []kbuild.Override{{Name: "TCG_CRB", Value: kbuild.TriValue(kbuild.Module)}}})
	require.NoError(t, err)
	assert.False(t, ok)
}
