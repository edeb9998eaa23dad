package kernel_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ffa/phys"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
)

// singleMem hides the accessor's phys.BlockIO, so the kernel copies CRB
// buffers with one MMIO access at a time, as memcpy_toio does.
type singleMem struct{ kernel.Memory }

// TestBlockIOMatchesSingleAccesses boots every preset, both late orders and
// the three log modes on the real secure-world model (SPMC, TPM partition,
// CRB; a FakeTPM behind it) with and without phys.BlockIO: the log, the
// events, the result and the commands the TPM saw must be identical (the
// block copy is only an optimisation).
func TestBlockIOMatchesSingleAccesses(t *testing.T) {
	type mode struct{ quiet, trace bool }
	_, probe, err := kerneltest.NewMachineConfig(platform.Config{})
	require.NoError(t, err)
	_, ok := probe.Mem.(phys.BlockIO)
	require.True(t, ok, "the platform's memory must offer BlockIO, or this test compares nothing")
	n, withTPM := 0, 0
	for _, p := range kernel.Presets() {
		for _, late := range [][]string{{"init_ima", "deferred_probe_initcall"}, {"deferred_probe_initcall", "init_ima"}} {
			for _, md := range []mode{{true, false}, {false, false}, {false, true}} {
				run := func(single bool) (string, string, map[uint32]int) {
					tpm := &kerneltest.FakeTPM{}
					m, pl, err := kerneltest.NewMachineConfig(platform.Config{Engine: tpm})
					require.NoError(t, err)
					defer m.Close()
					if single {
						pl.Mem = singleMem{pl.Mem}
					}
					spec := p.Spec(pl)
					spec.Quiet, spec.Trace = md.quiet, md.trace
					spec.Order[kernel.LevelLate] = late
					log, res := bootRendered(t, spec)
					return log, res, tpm.Commands
				}
				sLog, sRes, sCmds := run(true)
				bLog, bRes, bCmds := run(false)
				assert.Equal(t, sLog, bLog, "%s late %v %+v: log", p.Name, late, md)
				assert.Equal(t, sRes, bRes, "%s late %v %+v: result", p.Name, late, md)
				assert.Equal(t, sCmds, bCmds, "%s late %v %+v: TPM commands", p.Name, late, md)
				n++
				if len(bCmds) > 0 {
					withTPM++
				}
			}
		}
	}
	t.Logf("%d boot pairs compared, %d of them sent TPM commands", n, withTPM)
	assert.NotZero(t, withTPM, "no boot reached the TPM through the CRB buffer")
}
