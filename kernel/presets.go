package kernel

import "sort"

// Preset is a named kernel: its configuration, link order and patch
// switches, with where the facts come from. Presets are values: every call
// of Presets returns fresh ones.
type Preset struct {
	Name        string
	Kernel      string // the "Linux version" it models
	Description string // one line
	Source      string // commits, threads
	Config      *Config
	Order       Order
	Patches     Patches
}

// Spec returns a Spec for the preset on a platform.
func (p Preset) Spec(pl Platform) Spec {
	return Spec{Name: p.Name, Version: p.Kernel, Config: p.Config.Clone(), Order: p.Order.Clone(), Patches: p.Patches, Platform: pl}
}

// DefaultPreset names the preset in which the whole chain works.
const DefaultPreset = "v6.17"

// Presets returns the kernels the model knows, sorted by name.
func Presets() []Preset {
	ps := []Preset{
		{
			Name:        "before-v6.17",
			Kernel:      "6.16.0",
			Description: "ffa_init at device level, tpm_crb_ffa registered by its own module_ffa_driver: the TPM probe defers past init_ima",
			Source:      "drivers/firmware/arm_ffa/driver.c module_init(ffa_init) and drivers/char/tpm/tpm_crb_ffa.c module_ffa_driver before 0e0546eabcd6; link order from seed 002",
			Config:      DefaultConfig(), Order: Seed002Order(),
		},
		{
			Name:        "v6.17",
			Kernel:      "6.17.0",
			Description: "both fixes: ffa_init at rootfs_initcall, and a built-in tpm_crb_ffa_init() calls ffa_register() itself; the TPM registers at device level",
			Source:      "upstream 0e0546eabcd6 (ffa_init -> rootfs_initcall) and 746d9e9f62a6 (try to probe tpm_crb_ffa when it's built-in), merged for v6.17",
			Config:      DefaultConfig(), Order: Seed002Order(),
			Patches: Patches{FFAInitRootfs: true, CRBFFARegister: true},
		},
		{
			Name:        "mainline",
			Kernel:      "7.1.0",
			Description: "current mainline: ffa_init at rootfs, 746d9e9f62a6 reverted, so tpm_crb defers again unless IMA initialises late (IMA_INIT_LATE_SYNC)",
			Source:      "677042afb97a reverts 746d9e9f62a6 relying on CONFIG_IMA_INIT_LATE_SYNC; 0e0546eabcd6 stays",
			Config:      DefaultConfig(), Order: Seed002Order(),
			Patches: Patches{FFAInitRootfs: true},
		},
		{
			Name:        "seed002-v2",
			Kernel:      "6.16.0-rc1",
			Description: "seed 002's v2 series: ffa_init at rootfs, and tpm_crb_ffa_init() returning ffa_register()'s result with BUG_ON(!ret && !tpm_crb_ffa)",
			Source:      "[PATCH v2 0/2] fix failure of integration IMA with tpm_crb_ffa (Yeoreum Yun, June 2025; review asked to drop the BUG_ON)",
			Config:      DefaultConfig(), Order: Seed002Order(),
			Patches: Patches{FFAInitRootfs: true, CRBFFABugOn: true},
		},
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

// LookupPreset returns the preset of that name.
func LookupPreset(name string) (Preset, bool) {
	for _, p := range Presets() {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}
