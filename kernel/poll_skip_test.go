package kernel_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
)

// slowMem hides FastWorld's PureRead, so the kernel polls register by
// register as it does on a machine that cannot promise pure reads.
type slowMem struct{ kernel.Memory }

// TestPollSkipMatchesSlowPath boots every preset with every y/m choice of
// the drivers, both late orders, and the three log modes on FastWorld with
// and without kernel.PureReader: the log, events and result must be
// identical byte for byte (the skip is only an optimisation).
func TestPollSkipMatchesSlowPath(t *testing.T) {
	syms := []string{"ARM_FFA_TRANSPORT", "TCG_CRB", "TCG_ARM_CRB_FFA", "IMA"}
	type mode struct{ quiet, trace bool }
	n, timeouts := 0, 0
	for _, p := range kernel.Presets() {
		for mask := 0; mask < 16; mask++ {
			for _, late := range [][]string{{"init_ima", "deferred_probe_initcall"}, {"deferred_probe_initcall", "init_ima"}} {
				for _, md := range []mode{{true, false}, {false, false}, {false, true}, {true, true}} {
					run := func(slow bool) (string, string) {
						w, pl := kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
						w.Reset()
						if slow {
							pl.Mem = slowMem{pl.Mem}
						}
						spec := p.Spec(pl)
						spec.Quiet, spec.Trace = md.quiet, md.trace
						for i, s := range syms {
							if mask&(1<<i) != 0 {
								spec.Config.Set(s, kernel.M)
							}
						}
						spec.Order[kernel.LevelLate] = late
						return bootRendered(t, spec)
					}
					slowLog, slowRes := run(true)
					fastLog, fastRes := run(false)
					name := p.Name
					assert.Equal(t, slowLog, fastLog, "%s mask %04b late %v %+v: log", name, mask, late, md)
					assert.Equal(t, slowRes, fastRes, "%s mask %04b late %v %+v: result", name, mask, late, md)
					if !md.quiet && !md.trace && containsTimeout(slowLog) {
						timeouts++
					}
					n++
				}
			}
		}
	}
	t.Logf("%d boots compared, %d non-quiet logs with a locality timeout", n, timeouts)
	assert.NotZero(t, timeouts, "no configuration exercised the timeout the skip shortens")
}

// bootRendered boots spec with an IMA probe at late_initcall and returns
// the log (with the boot's error, if any) and the result as JSON, for
// comparing two ways of booting the same machine byte for byte.
func bootRendered(t *testing.T, spec kernel.Spec) (log, result string) {
	t.Helper()
	ima := &kerneltest.IMAProbe{}
	spec.Initcalls = []kernel.Initcall{ima.Initcall(kernel.LevelLate)}
	res, err := kernel.Boot(spec)
	errs := ""
	if err != nil {
		errs = err.Error()
	}
	b, jerr := json.Marshal(res)
	require.NoError(t, jerr)
	return res.FormatLog() + "\n" + errs, string(b)
}

func containsTimeout(log string) bool {
	for i := 0; i+9 <= len(log); i++ {
		if log[i:i+9] == "timed out" {
			return true
		}
	}
	return false
}
