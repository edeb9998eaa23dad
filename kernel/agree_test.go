package kernel_test

import (
	"encoding/json"
	"testing"

	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type facts struct {
	SawChip  bool
	Chip     string
	Deferred []string
	Rets     []string
	Panic    bool
	Modules  []string
}

func factsOf(res *kernel.Result, ima *kerneltest.IMAProbe) facts {
	f := facts{SawChip: ima.SawChip, Panic: res.Panic != "", Modules: res.Modules}
	if res.Chip != nil {
		f.Chip = res.Chip.At.Level.String() + "/" + res.Chip.At.Initcall
	}
	for _, d := range res.Deferred {
		s := d.Device + " " + d.Result.String()
		if d.Resolved != nil {
			s += " " + d.Resolved.Initcall
		}
		f.Deferred = append(f.Deferred, s)
	}
	for _, ic := range res.Initcalls {
		f.Rets = append(f.Rets, ic.Name+"="+ic.Ret.String())
	}
	return f
}

// TestFastWorldAgreesWithMachine checks that the model-only fast path
// (FastWorld, Quiet) reaches the same facts as the real SPMC/CRB models for
// every preset, both y/m choices of the three drivers and both late orders.
func TestFastWorldAgreesWithMachine(t *testing.T) {
	syms := []string{"ARM_FFA_TRANSPORT", "TCG_CRB", "TCG_ARM_CRB_FFA"}
	n := 0
	for _, p := range kernel.Presets() {
		for mask := 0; mask < 8; mask++ {
			for _, late := range [][]string{{"init_ima", "deferred_probe_initcall"}, {"deferred_probe_initcall", "init_ima"}} {
				run := func(pl kernel.Platform, quiet bool) facts {
					spec := p.Spec(pl)
					spec.Quiet = quiet
					for i, s := range syms {
						if mask&(1<<i) != 0 {
							spec.Config.Set(s, kernel.M)
						}
					}
					spec.Order[kernel.LevelLate] = late
					ima := &kerneltest.IMAProbe{}
					spec.Initcalls = []kernel.Initcall{ima.Initcall(kernel.LevelLate)}
					res, err := kernel.Boot(spec)
					require.NoError(t, err)
					return factsOf(res, ima)
				}
				_, real, err := kerneltest.NewMachine(nil)
				require.NoError(t, err)
				_, fast := kerneltest.NewFastWorld(nil)
				assert.Equal(t, run(real, false), run(fast, true), "%s mask %03b late %v", p.Name, mask, late)
				n++
			}
		}
	}
	t.Logf("%d configurations agree", n)
}

// TestParallelBoots boots concurrently (run with -race): a boot shares no
// state with another.
func TestParallelBoots(t *testing.T) {
	p, _ := kernel.LookupPreset("before-v6.17")
	want := ""
	done := make(chan string, 8)
	for i := 0; i < 8; i++ {
		go func() {
			_, pl := kerneltest.NewFastWorld(nil)
			res, err := kernel.Boot(p.Spec(pl))
			if err != nil {
				done <- err.Error()
				return
			}
			done <- res.FormatLog()
		}()
	}
	for i := 0; i < 8; i++ {
		got := <-done
		if want == "" {
			want = got
		}
		assert.Equal(t, want, got)
	}
}

func TestResultJSON(t *testing.T) {
	_, pl := kerneltest.NewFastWorld(nil)
	p, _ := kernel.LookupPreset("before-v6.17")
	spec := p.Spec(pl)
	spec.Trace = true
	res, err := kernel.Boot(spec)
	require.NoError(t, err)
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	reg := m["tpm_registered"].(map[string]any)
	at := reg["at"].(map[string]any)
	assert.Equal(t, "late", at["level"])
	assert.Equal(t, "deferred_probe_initcall", at["initcall"])
	def := m["deferred"].([]any)[0].(map[string]any)
	assert.Equal(t, "MSFT0101:00", def["device"])
	assert.Equal(t, "0", def["result"])
	ev := m["events"].([]any)
	assert.NotEmpty(t, ev)
	kinds := map[string]bool{}
	for _, e := range ev {
		kinds[e.(map[string]any)["kind"].(string)] = true
	}
	for _, k := range []string{"initcall_start", "initcall_return", "bus_register", "device_add", "driver_register",
		"probe", "probe_return", "bind", "defer", "trigger", "deferred_retry", "deferred_enable", "chip_register",
		"tpm_command", "ffa_call", "mmio", "measure", "userspace"} {
		assert.True(t, kinds[k], k)
	}
}
