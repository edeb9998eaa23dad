package kernel_test

import (
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// boot runs one boot on a fresh machine with the fake TPM and a stand-in
// init_ima at late_initcall.
func boot(t testing.TB, mutate func(*kernel.Spec)) (*kernel.Result, *kerneltest.IMAProbe) {
	t.Helper()
	_, pl, err := kerneltest.NewMachine(nil)
	require.NoError(t, err)
	p, ok := kernel.LookupPreset("before-v6.17")
	require.True(t, ok)
	spec := p.Spec(pl)
	ima := &kerneltest.IMAProbe{}
	spec.Initcalls = append(spec.Initcalls, ima.Initcall(kernel.LevelLate))
	if mutate != nil {
		mutate(&spec)
	}
	res, err := kernel.Boot(spec)
	require.NoError(t, err)
	return res, ima
}

func TestSeed002NoPatchesBypass(t *testing.T) {
	res, ima := boot(t, nil)
	log := res.FormatLog()
	require.True(t, ima.Ran)
	assert.False(t, ima.SawChip, "no default TPM chip when init_ima's slot runs")
	assert.Contains(t, log, "ima: No TPM chip found, activating TPM-bypass!")
	require.NotNil(t, res.Chip, "tpm0 appears later")
	assert.Equal(t, "tpm0", res.Chip.Name)
	assert.Equal(t, kernel.LevelLate, res.Chip.At.Level)
	assert.Equal(t, "deferred_probe_initcall", res.Chip.At.Initcall)
	assert.Greater(t, res.Chip.At.T, ima.At.T)
	require.Len(t, res.Deferred, 1)
	d := res.Deferred[0]
	assert.Equal(t, "MSFT0101:00", d.Device)
	assert.Equal(t, "crb_acpi_driver_init", d.First.Initcall)
	require.NotNil(t, d.Resolved)
	assert.Equal(t, kernel.Errno(0), d.Result)
	ic, ok := res.InitcallAt("deferred_probe_initcall")
	require.True(t, ok)
	assert.Equal(t, kernel.Errno(0), ic.Ret)
	assert.Contains(t, log, "ARM FF-A: Driver version 1.2")
	assert.Contains(t, log, "ARM FF-A: Firmware version 1.2 found")
	assert.Contains(t, log, "tpm tpm0: starting up the TPM manually")
	assert.Contains(t, log, "ffa-crb arm-ffa-1: ABI version 1.0")
}

func TestSeed002BothPatchesChipBeforeIMA(t *testing.T) {
	res, ima := boot(t, func(s *kernel.Spec) { s.Patches = kernel.Patches{FFAInitRootfs: true, CRBFFARegister: true} })
	assert.True(t, ima.SawChip, "the TPM chip is registered before init_ima runs")
	require.NotNil(t, res.Chip)
	assert.Equal(t, kernel.LevelDevice, res.Chip.At.Level)
	assert.Equal(t, "crb_acpi_driver_init", res.Chip.At.Initcall)
	assert.Empty(t, res.Deferred)
	assert.NotContains(t, res.FormatLog(), "TPM-bypass")
	require.Len(t, res.Chip.Banks, 2)
	assert.Equal(t, "sha1", res.Chip.Banks[0].Name)
	assert.Equal(t, "sha256", res.Chip.Banks[1].Name)
	_, built := res.InitcallAt("tpm_crb_ffa_driver_init")
	assert.False(t, built, "module_ffa_driver is only built for the module")
}

func TestRootfsAloneStillDefers(t *testing.T) {
	// Patch 1 alone: the FF-A device exists, but tpm_crb_ffa's driver
	// registers after crb_acpi_driver_init in link order.
	res, ima := boot(t, func(s *kernel.Spec) { s.Patches = kernel.Patches{FFAInitRootfs: true} })
	assert.False(t, ima.SawChip)
	require.NotNil(t, res.Chip)
	assert.Equal(t, kernel.LevelLate, res.Chip.At.Level)
}

func TestRegisterPatchWithoutRootfsRegistersTwice(t *testing.T) {
	// 746d9e9f62a6 without 0e0546eabcd6: the first probe registers the
	// driver (no device yet, -EPROBE_DEFER); the deferred retry registers it
	// again, which the driver core refuses with -EBUSY, and the probe fails.
	res, ima := boot(t, func(s *kernel.Spec) { s.Patches = kernel.Patches{CRBFFARegister: true} })
	log := res.FormatLog()
	assert.False(t, ima.SawChip)
	assert.Nil(t, res.Chip)
	assert.Contains(t, log, "Error: Driver 'ffa-crb' is already registered, aborting...")
	assert.Contains(t, log, "tpm_crb MSFT0101:00: probe with driver tpm_crb failed with error -16")
	require.Len(t, res.Deferred, 1)
	assert.Equal(t, kernel.EBUSY, res.Deferred[0].Result)
}

func TestSeed002V2BugOnPanicsWithoutRootfs(t *testing.T) {
	res, ima := boot(t, func(s *kernel.Spec) { s.Patches = kernel.Patches{CRBFFABugOn: true} })
	assert.False(t, ima.Ran)
	assert.Contains(t, res.Panic, "Kernel panic")
	assert.Contains(t, res.FormatLog(), "kernel BUG at drivers/char/tpm/tpm_crb_ffa.c:")
}

func TestSeed002V2WithRootfsWorks(t *testing.T) {
	res, ima := boot(t, func(s *kernel.Spec) { s.Patches = kernel.Patches{FFAInitRootfs: true, CRBFFABugOn: true} })
	assert.True(t, ima.SawChip)
	assert.Empty(t, res.Panic)
}

func TestBusInFFAInitRejectsEarlyRegister(t *testing.T) {
	res, _ := boot(t, func(s *kernel.Spec) { s.Patches = kernel.Patches{CRBFFARegister: true, FFABusInFFAInit: true} })
	assert.Contains(t, res.FormatLog(), "Driver 'ffa-crb' was unable to register with bus_type 'arm_ffa' because the bus was not initialized.")
	assert.Nil(t, res.Chip)
}

// permutations returns every order of names.
func permutations(names []string) [][]string {
	if len(names) <= 1 {
		return [][]string{append([]string(nil), names...)}
	}
	var out [][]string
	for i := range names {
		rest := append(append([]string(nil), names[:i]...), names[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{names[i]}, p...))
		}
	}
	return out
}

func TestCRBModuleNeverAtIMA(t *testing.T) {
	for _, patches := range []kernel.Patches{{}, {FFAInitRootfs: true, CRBFFARegister: true}} {
		for _, dev := range permutations([]string{"crb_acpi_driver_init", "tpm_crb_ffa_driver_init", "ffa_init"}) {
			for _, late := range permutations([]string{"init_ima", "deferred_probe_initcall"}) {
				res, ima := boot(t, func(s *kernel.Spec) {
					s.Config.Set("TCG_CRB", kernel.M)
					s.Patches = patches
					s.Order = kernel.Order{kernel.LevelDevice: dev, kernel.LevelLate: late}
				})
				assert.False(t, ima.SawChip, "TCG_CRB=m %v %v", dev, late)
				require.NotNil(t, res.Chip, "the module brings the TPM up later")
				assert.Equal(t, kernel.LevelModule, res.Chip.At.Level)
				assert.Contains(t, res.Modules, "tpm_crb")
			}
		}
	}
}

func TestOrderDecidesOutcome(t *testing.T) {
	// Without patches, the chip is there at init_ima only when the FF-A
	// device and driver come before crb_acpi_driver_init, or when deferred
	// probing runs before init_ima.
	for _, dev := range permutations([]string{"crb_acpi_driver_init", "tpm_crb_ffa_driver_init", "ffa_init"}) {
		for _, late := range permutations([]string{"init_ima", "deferred_probe_initcall"}) {
			_, ima := boot(t, func(s *kernel.Spec) {
				s.Order = kernel.Order{kernel.LevelDevice: dev, kernel.LevelLate: late}
			})
			crbLast := dev[2] == "crb_acpi_driver_init"
			deferredFirst := late[0] == "deferred_probe_initcall"
			assert.Equal(t, crbLast || deferredFirst, ima.SawChip, "%v %v", dev, late)
		}
	}
}

func TestDeterministicLog(t *testing.T) {
	a, _ := boot(t, nil)
	b, _ := boot(t, nil)
	assert.Equal(t, a.FormatLog(), b.FormatLog())
	assert.Equal(t, a.Events, b.Events)
	for _, l := range strings.Split(strings.TrimSpace(a.FormatLog()), "\n") {
		assert.Regexp(t, `^\[ {0,4}\d+\.\d{6}\] `, l)
	}
}

func TestPresetsAreFreshAndDescribed(t *testing.T) {
	ps := kernel.Presets()
	require.NotEmpty(t, ps)
	for _, p := range ps {
		assert.NotEmpty(t, p.Description, p.Name)
		assert.NotEmpty(t, p.Source, p.Name)
		assert.NotContains(t, p.Description, "\n")
	}
	a, _ := kernel.LookupPreset(kernel.DefaultPreset)
	a.Config.Set("TCG_CRB", kernel.N)
	b, _ := kernel.LookupPreset(kernel.DefaultPreset)
	assert.Equal(t, kernel.Y, b.Config.Tristate("TCG_CRB"))
}

func TestDefaultPresetWorks(t *testing.T) {
	_, pl, err := kerneltest.NewMachine(nil)
	require.NoError(t, err)
	p, _ := kernel.LookupPreset(kernel.DefaultPreset)
	ima := &kerneltest.IMAProbe{}
	spec := p.Spec(pl)
	spec.Initcalls = []kernel.Initcall{ima.Initcall(kernel.LevelLate)}
	res, err := kernel.Boot(spec)
	require.NoError(t, err)
	assert.True(t, ima.SawChip)
	t.Log("\n" + res.FormatLog())
}

func TestBadSpecs(t *testing.T) {
	_, pl := kerneltest.NewFastWorld(nil)
	p, _ := kernel.LookupPreset("v6.17")
	cases := map[string]func(*kernel.Spec){
		"order at a pseudo level": func(s *kernel.Spec) { s.Order[kernel.LevelModule] = []string{"x"} },
		"initcall without name": func(s *kernel.Spec) {
			s.Initcalls = []kernel.Initcall{{Level: kernel.LevelLate, Fn: func(*kernel.Kernel) error { return nil }}}
		},
		"initcall without fn": func(s *kernel.Spec) { s.Initcalls = []kernel.Initcall{{Name: "x", Level: kernel.LevelLate}} },
		"initcall at module": func(s *kernel.Spec) {
			s.Initcalls = []kernel.Initcall{{Name: "x", Level: kernel.LevelModule, Fn: func(*kernel.Kernel) error { return nil }}}
		},
		"duplicate initcall": func(s *kernel.Spec) {
			s.Initcalls = []kernel.Initcall{{Name: "ffa_init", Level: kernel.LevelLate, Fn: func(*kernel.Kernel) error { return nil }}}
		},
		"conduit without memory": func(s *kernel.Spec) { s.Platform.Mem = nil },
		"initcall returns a Go error": func(s *kernel.Spec) {
			s.Initcalls = []kernel.Initcall{{Name: "x", Level: kernel.LevelLate, Fn: func(*kernel.Kernel) error { return assert.AnError }}}
		},
	}
	for name, mut := range cases {
		t.Run(name, func(t *testing.T) {
			spec := p.Spec(pl)
			mut(&spec)
			_, err := kernel.Boot(spec)
			assert.Error(t, err)
		})
	}
}

func TestUnknownOrderNamesAreNoted(t *testing.T) {
	res, _ := boot(t, func(s *kernel.Spec) {
		s.Order[kernel.LevelDevice] = append(s.Order[kernel.LevelDevice], "no_such_init")
		s.Patches.FFAInitRootfs = true
	})
	notes := strings.Join(res.Notes, "\n")
	assert.Contains(t, notes, "no_such_init (in the device order) is not an initcall of this kernel")
	assert.Contains(t, notes, "ffa_init is at rootfs in this configuration; its place in the device order is ignored")
}

func TestFFAv10FirmwareUsesBusNotifier(t *testing.T) {
	// FF-A v1.1+: partition info carries the UUID; the chain works.
	_, pl, err := kerneltest.NewMachineConfig(platform.Config{FFAVersion: ffa.Version1_1, VersionPolicy: spmc.VersionEL3, NoReq2: true})
	require.NoError(t, err)
	p, _ := kernel.LookupPreset(kernel.DefaultPreset)
	res, err := kernel.Boot(p.Spec(pl))
	require.NoError(t, err)
	require.NotNil(t, res.Chip, res.FormatLog())
	assert.Contains(t, res.FormatLog(), "ARM FF-A: Firmware version 1.1 found")
	// FF-A v1.0: no UUIDs; the bus notifier finds the TPM service by
	// PARTITION_INFO_GET(UUID) so that ffa-crb probes arm-ffa-1, which
	// then talks 32-bit DIRECT_REQ (no AArch64 property in v1.0).
	_, pl, err = kerneltest.NewMachineConfig(platform.Config{FFAVersion: ffa.Version1_0, VersionPolicy: spmc.VersionEL3, NoReq2: true})
	require.NoError(t, err)
	res, err = kernel.Boot(p.Spec(pl))
	require.NoError(t, err)
	assert.Contains(t, res.FormatLog(), "ARM FF-A: Firmware version 1.0 found")
	assert.Contains(t, res.FormatLog(), "ffa-crb arm-ffa-1: ABI version 1.0")
	assert.NotNil(t, res.Chip)
}
