package imakernel_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ima/imakernel"
	"github.com/ffatpm/ffatpm/kernel"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestLostMeasurementsTable makes seed 003's debate measurable: for each
// kernel and each IMA initialisation form, where init_ima completed, what
// the first entry is called, and how many measurement points were
// measured, left unprotected (TPM-bypass) or lost (before IMA). The table
// is golden: go test ./ima/imakernel/ -run LostMeasurementsTable -update.
func TestLostMeasurementsTable(t *testing.T) {
	type form struct {
		name     string
		opts     imakernel.Options
		lateSync bool
	}
	forms := []form{
		{"upstream (late_initcall)", imakernel.Options{}, false},
		{"seed 001 RFC (defer + retry)", imakernel.Options{RFCLateRetry: true}, false},
		{"CONFIG_IMA_INIT_LATE_SYNC=y", imakernel.Options{}, true},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# measurement points: FIRMWARE_CHECK at device level, BPRM_CHECK /sbin/modprobe at late after\n")
	fmt.Fprintf(&b, "# deferred_probe_initcall, FILE_CHECK at the end of late, module loads (=m modules, if any), then /init, busybox, /sbin/init\n\n")
	fmt.Fprintf(&b, "%-13s %-30s %-11s %-20s %-8s %8s %11s %4s\n", "kernel", "IMA init", "init at", "first entry", "bypass", "measured", "unprotected", "lost")
	var details strings.Builder
	for _, preset := range []string{"before-v6.17", "v6.17", "mainline"} {
		for _, f := range forms {
			t.Run(preset+"/"+f.name, func(t *testing.T) {
				r := boot(t, preset, f.opts, func(s *kernel.Spec) {
					if f.lateSync {
						s.Config.Set("IMA_INIT_LATE_SYNC", kernel.Y)
					}
				})
				at, ok := r.x.Initialized()
				require.True(t, ok)
				fmt.Fprintf(&b, "%-13s %-30s %-11s %-20s %-8v %8d %11d %4d\n", preset, f.name, at.Level, r.x.AggregateName(),
					r.x.State().Bypass(), r.x.Count(imakernel.Measured), r.x.Count(imakernel.Unprotected), r.x.Count(imakernel.Lost))
				fmt.Fprintf(&details, "\n%s / %s:\n", preset, f.name)
				for _, a := range r.x.Attempts() {
					fmt.Fprintf(&details, "  %s at %s: ret %v, chip %v\n", a.Initcall, a.At.Level, a.Ret, a.SawChip)
				}
				for _, p := range r.x.Points() {
					if p.Status == imakernel.Lost || p.Status == imakernel.Unprotected {
						fmt.Fprintf(&details, "  %-11s %s %s (%s %s): %s\n", p.Status, p.Func, p.Path, p.At.Level, p.At.Initcall, p.Reason)
					}
				}
			})
		}
	}
	got := b.String() + details.String()
	golden := filepath.Join("testdata", "lost-measurements.golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), got)
}
