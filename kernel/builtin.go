package kernel

// driverState holds the modelled drivers' static variables.
type driverState struct {
	acpiBus       *Bus
	ffaBus        *Bus
	ffaInfo       *ffaDrvInfo
	crbFFADriver  *Driver
	crbACPIDriver *Driver
	crbFFA        crbFFA
	tpmClass      bool
	chipSeq       int
}

// KnownInitcalls names the initcalls of the code the model contains, with
// their default level (ffa_init moves to rootfs with Patches.FFAInitRootfs).
// init_ima is IMA's, contributed through Spec.Initcalls.
func KnownInitcalls() []Initcall {
	k := &Kernel{spec: &Spec{}}
	return k.builtinInitcalls()
}

// builtinInitcalls returns the initcalls of the code the model contains
// for this boot's configuration and patches.
func (k *Kernel) builtinInitcalls() []Initcall {
	k.drv.acpiBus = newACPIBus()
	k.drv.ffaBus = newFFABus()
	k.drv.crbFFADriver = newCRBFFADriver()
	k.drv.crbACPIDriver = newCRBACPIDriver()
	p := k.spec.Patches
	ffaLevel := LevelDevice
	if p.FFAInitRootfs {
		ffaLevel = LevelRootfs
	}
	calls := make([]Initcall, 0, 12)
	calls = append(calls, []Initcall{
		{Name: "acpi_init", Level: LevelSubsys, Object: "drivers/acpi/bus.o", Symbol: "ACPI", Fn: acpiInit},
		{Name: "tpm_init", Level: LevelSubsys, Object: "drivers/char/tpm/tpm-interface.o", Symbol: "TCG_TPM", Module: "tpm", Fn: tpmInit},
		{Name: "ffa_init", Level: ffaLevel, Object: "drivers/firmware/arm_ffa/driver.o", Symbol: "ARM_FFA_TRANSPORT", Module: "ffa-module", Fn: ffaInit},
		{Name: "crb_acpi_driver_init", Level: LevelDevice, Object: tpmCRBObject, Symbol: "TCG_CRB", Module: tpmCRBModule, Fn: crbACPIDriverInit},
		{Name: "deferred_probe_initcall", Level: LevelLate, Object: "drivers/base/dd.o", Fn: deferredProbeInitcall},
	}...)
	if !p.FFABusInFFAInit {
		calls = append(calls, Initcall{Name: "arm_ffa_bus_init", Level: LevelSubsys, Object: "drivers/firmware/arm_ffa/bus.o",
			Symbol: "ARM_FFA_TRANSPORT", Module: "ffa-core", Fn: ffaBusInit})
	}
	// module_ffa_driver(tpm_crb_ffa_driver): with 746d9e9f62a6 (or the v2
	// form) only under #ifdef MODULE, so a built-in tpm_crb_ffa has no
	// initcall of its own.
	registerPatch := p.CRBFFARegister || p.CRBFFABugOn
	if !(registerPatch && k.cfg != nil && k.builtin("TCG_ARM_CRB_FFA")) {
		calls = append(calls, Initcall{Name: "tpm_crb_ffa_driver_init", Level: LevelDevice, Object: crbFFAObject,
			Symbol: "TCG_ARM_CRB_FFA", Module: crbFFAModule, Fn: tpmCRBFFADriverInit})
	}
	return calls
}
