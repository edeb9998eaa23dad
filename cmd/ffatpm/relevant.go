package main

import "github.com/ffatpm/ffatpm/kernel"

// relevantInitcalls names the initcalls of interest that p's configuration
// builds into the device and late levels, in Linux's link order. What is
// built in follows the kernel model's Kconfig rules (a tristate that
// depends on an =m symbol is at most m).
func relevantInitcalls(p point) (device, late []string, err error) {
	cfg := kernel.DefaultConfig()
	for sym, v := range map[string]string{"ARM_FFA_TRANSPORT": p.FFA, "TCG_CRB": p.CRB, "TCG_ARM_CRB_FFA": p.CRBFFA} {
		if err := cfg.SetValue(sym, v); err != nil {
			return nil, nil, err
		}
	}
	if cfg.Builtin("TCG_CRB") {
		device = append(device, "crb_acpi_driver_init")
	}
	// With the register patch a built-in tpm_crb_ffa has no initcall of
	// its own (module_ffa_driver only under #ifdef MODULE).
	if cfg.Builtin("TCG_ARM_CRB_FFA") && !p.CRBFFARegister {
		device = append(device, "tpm_crb_ffa_driver_init")
	}
	if cfg.Builtin("ARM_FFA_TRANSPORT") && p.FFAInitcall == "device" {
		device = append(device, "ffa_init")
	}
	if p.IMALate == "sync" {
		late = []string{"deferred_probe_initcall"}
	} else {
		late = []string{"init_ima", "deferred_probe_initcall"}
	}
	return device, late, nil
}
