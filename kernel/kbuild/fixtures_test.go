package kbuild

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const fixturesDir = "../../testdata/kernels"

// fixtureCases are the kernels in testdata/kernels (see its README for where
// each fact comes from) and how a user would point the loader at them.
var fixtureCases = []struct {
	name string
	opts func(dir string) Options
}{
	{"debian-6.12-arm64", func(d string) Options { return Options{Dir: filepath.Join(d, "lib/modules/6.12.117+deb12-arm64")} }},
	{"seed002-6.16", func(d string) Options { return Options{Dir: filepath.Join(d, "lib/modules/6.16.0-ffatpm")} }},
	{"crb-ffa-module-6.16", func(d string) Options { return Options{Dir: filepath.Join(d, "lib/modules/6.16.0-ffatpm")} }},
	{"ffa-module-6.16", func(d string) Options { return Options{Dir: filepath.Join(d, "lib/modules/6.16.0-ffatpm")} }},
	{"v6.17-fixes", func(d string) Options { return Options{Dir: filepath.Join(d, "lib/modules/6.17.0-ffatpm")} }},
	{"late-sync-fragment", func(d string) Options {
		return Options{KernelConfig: filepath.Join(d, "config"), ModulesBuiltin: filepath.Join(d, "modules.builtin")}
	}},
	{"toolchain-arm64", func(d string) Options {
		return Options{KernelConfig: filepath.Join(d, "config.gz"), Vmlinux: filepath.Join(d, "vmlinux"), SystemMap: filepath.Join(d, "System.map")}
	}},
}

func TestFixturesGolden(t *testing.T) {
	for _, fc := range fixtureCases {
		t.Run(fc.name, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join(fixturesDir, fc.name))
			require.NoError(t, err)
			in, err := Load(fc.opts(dir))
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, in.WriteReport(&buf, dir))
			golden := filepath.Join(fixturesDir, fc.name, "kbuild.golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -update once to create it")
			assert.Equal(t, string(want), buf.String())
		})
	}
}

// TestFixtureFacts asserts the facts each fixture exists for, independent
// of the golden text.
func TestFixtureFacts(t *testing.T) {
	load := func(name string) *Inputs {
		for _, fc := range fixtureCases {
			if fc.name == name {
				dir, err := filepath.Abs(filepath.Join(fixturesDir, name))
				require.NoError(t, err)
				in, err := Load(fc.opts(dir))
				require.NoError(t, err)
				return in
			}
		}
		t.Fatalf("no fixture %s", name)
		return nil
	}
	order := func(in *Inputs, l LevelID) []string {
		for _, lo := range in.LinkOrder.Levels {
			if lo.Level == l {
				return lo.Fns
			}
		}
		return nil
	}

	// Seed 002's order, derived from modules.builtin and Kbuild order.
	in := load("seed002-6.16")
	assert.Equal(t, []string{"crb_acpi_driver_init", "tpm_crb_ffa_driver_init", "ffa_init"}, order(in, "6"))
	assert.Equal(t, []string{"init_ima", "deferred_probe_initcall"}, order(in, "7"))
	assert.False(t, in.Patches.FFAInitRootfs)
	assert.False(t, in.Patches.CRBFFARegister)
	assert.True(t, in.Patches.Exact["ffa_bus_in_ffa_init"])

	// v6.17 with a System.map: exact levels and both fixes.
	in = load("v6.17-fixes")
	assert.Equal(t, []string{"ffa_init"}, order(in, "rootfs"))
	assert.Equal(t, []string{"crb_acpi_driver_init"}, order(in, "6"))
	assert.Equal(t, []string{"tpm_crb_ffa_driver_init"}, in.LinkOrder.Absent)
	assert.True(t, in.Patches.FFAInitRootfs)
	assert.True(t, in.Patches.CRBFFARegister)
	assert.True(t, in.Patches.Exact["crb_ffa_register"])

	// tpm_crb_ffa as a module: built-in tpm_crb gets the stubs.
	in = load("crb-ffa-module-6.16")
	assert.Equal(t, Module, in.Kconfig.Tri("TCG_ARM_CRB_FFA"))
	assert.False(t, Reachable(in.Kconfig.Tri("TCG_CRB"), in.Kconfig.Tri("TCG_ARM_CRB_FFA")))
	assert.Equal(t, []string{"crb_acpi_driver_init", "ffa_init"}, order(in, "6"))

	// FF-A as a module: ffa_init is not a built-in initcall.
	in = load("ffa-module-6.16")
	assert.Equal(t, Module, in.Kconfig.Tri("ARM_FFA_TRANSPORT"))
	assert.NotContains(t, in.LinkOrder.LevelOf, "ffa_init")

	// Debian 6.12: no FF-A, no tpm_crb_ffa in this kernel, placeholder System.map skipped.
	in = load("debian-6.12-arm64")
	assert.Equal(t, No, in.Kconfig.Tri("ARM_FFA_TRANSPORT"))
	assert.Equal(t, NotInVersion, in.Kconfig.Get("TCG_ARM_CRB_FFA").Origin)
	assert.Nil(t, in.Initcalls)

	// A fragment with IMA_INIT_LATE_SYNC=y: init_ima moves to late_sync.
	in = load("late-sync-fragment")
	assert.Equal(t, LevelID("7s"), in.LinkOrder.LevelOf["init_ima"])
	assert.Equal(t, Yes, in.Kconfig.Tri("TCG_TPM"), in.Kconfig.Get("TCG_TPM").Why)

	// The binutils-built image: the real linker's layout, read both ways.
	in = load("toolchain-arm64")
	assert.True(t, in.Config.Gzip)
	assert.Equal(t, "prel32", in.Initcalls.Encoding)
	assert.Equal(t, []string{"crb_acpi_driver_init", "tpm_crb_ffa_driver_init", "ffa_init"}, order(in, "6"))
	assert.Equal(t, []string{"init_ima", "deferred_probe_initcall"}, order(in, "7"))
	m, err := ReadSystemMapFile(filepath.Join(fixturesDir, "toolchain-arm64", "System.map"))
	require.NoError(t, err)
	assert.Equal(t, fnsOf(in.Initcalls.Entries), fnsOf(m.Entries))
}

func TestSummaryJSON(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join(fixturesDir, "v6.17-fixes"))
	require.NoError(t, err)
	in, err := Load(Options{Dir: filepath.Join(dir, "lib/modules/6.17.0-ffatpm")})
	require.NoError(t, err)
	b, err := json.Marshal(in.Summary())
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, "6.17.0", back["version"])
	assert.Contains(t, string(b), `"name":"TCG_ARM_CRB_FFA","value":"y","origin":"config","decides":true`)
	assert.Contains(t, string(b), `"ffa_init_rootfs":true`)
}

// TestToolchainFixtureRebuilds rebuilds testdata/kernels/toolchain-arm64
// with build.sh when the aarch64 binutils are installed, and checks that
// the committed image has the same initcall table.
func TestToolchainFixtureRebuilds(t *testing.T) {
	if _, err := exec.LookPath("aarch64-linux-gnu-as"); err != nil {
		t.Skip("binutils-aarch64-linux-gnu not installed")
	}
	src := filepath.Join(fixturesDir, "toolchain-arm64")
	dir := t.TempDir()
	for _, f := range []string{"build.sh", "vmlinux.lds"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	cmd := exec.Command("sh", "build.sh")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	built, err := ReadVmlinuxFile(filepath.Join(dir, "vmlinux"))
	require.NoError(t, err)
	committed, err := ReadVmlinuxFile(filepath.Join(src, "vmlinux"))
	require.NoError(t, err)
	assert.Equal(t, fnsOf(committed.Entries), fnsOf(built.Entries))
	m, err := ReadSystemMapFile(filepath.Join(dir, "System.map"))
	require.NoError(t, err)
	assert.Equal(t, fnsOf(committed.Entries), fnsOf(m.Entries))
}
