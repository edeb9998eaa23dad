package kernel_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update-boot", false, "rewrite the boot golden files")

// summary prints the facts the CLI reports about a boot.
func summary(res *kernel.Result, ima *kerneltest.IMAProbe) string {
	var b strings.Builder
	fmt.Fprintf(&b, "init_ima saw a TPM: %v\n", ima.SawChip)
	if res.Chip != nil {
		fmt.Fprintf(&b, "%s registered at %s, banks", res.Chip.Name, res.Chip.At)
		for _, bk := range res.Chip.Banks {
			fmt.Fprintf(&b, " %s", bk.Name)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("no TPM chip\n")
	}
	for _, d := range res.Deferred {
		fmt.Fprintf(&b, "deferred: %s (%s) first at %s, %d attempts", d.Device, d.Driver, d.First, d.Attempts)
		if d.Resolved != nil {
			fmt.Fprintf(&b, ", last at %s -> %s", *d.Resolved, d.Result)
		}
		b.WriteString("\n")
	}
	for _, ic := range res.Initcalls {
		ret := ic.Ret.String()
		if ic.Panicked {
			ret = "(panicked, never returned)"
		}
		fmt.Fprintf(&b, "initcall %-12s %-26s %s\n", ic.Level, ic.Name, ret)
	}
	if res.Panic != "" {
		fmt.Fprintf(&b, "panic: %s\n", res.Panic)
	}
	return b.String()
}

// TestPresetGolden boots every preset with the seed 002 link order and a
// stand-in init_ima, on the real FF-A/SPMC/CRB models with the fake TPM,
// and compares log and summary with testdata/boot-<preset>.golden
// (go test -run TestPresetGolden -update-boot rewrites them).
func TestPresetGolden(t *testing.T) {
	for _, p := range kernel.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			_, pl, err := kerneltest.NewMachine(nil)
			require.NoError(t, err)
			spec := p.Spec(pl)
			ima := &kerneltest.IMAProbe{}
			lvl := kernel.LevelLate
			if spec.Config.Builtin("IMA_INIT_LATE_SYNC") {
				lvl = kernel.LevelLateSync
			}
			spec.Initcalls = []kernel.Initcall{ima.Initcall(lvl)}
			res, err := kernel.Boot(spec)
			require.NoError(t, err)
			got := res.FormatLog() + "----\n" + summary(res, ima)
			path := filepath.Join("testdata", "boot-"+p.Name+".golden")
			if *updateGolden {
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestPresetGolden -update-boot")
			assert.Equal(t, string(want), got)
		})
	}
}

// TestVariantGolden records a few boots that show the mechanism's other
// outcomes: tpm_crb as a module, 746d9e9f62a6 without the rootfs move
// (ffa-crb registered twice), and the v2 BUG_ON.
func TestVariantGolden(t *testing.T) {
	cases := []struct {
		name string
		mut  func(*kernel.Spec)
	}{
		{"tcg-crb-module", func(s *kernel.Spec) { s.Config.Set("TCG_CRB", kernel.M) }},
		{"register-without-rootfs", func(s *kernel.Spec) { s.Patches = kernel.Patches{CRBFFARegister: true} }},
		{"v2-bug-on-without-rootfs", func(s *kernel.Spec) { s.Patches = kernel.Patches{CRBFFABugOn: true} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, ima := boot(t, c.mut)
			got := res.FormatLog() + "----\n" + summary(res, ima)
			path := filepath.Join("testdata", "variant-"+c.name+".golden")
			if *updateGolden {
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestVariantGolden -update-boot")
			assert.Equal(t, string(want), got)
		})
	}
}
