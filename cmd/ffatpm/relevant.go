package main

// relevantInitcalls names the initcalls of interest that p's configuration
// builds into the device and late levels, in Linux's link order.
func relevantInitcalls(p point) (device, late []string, err error) {
	if p.CRB == "y" {
		device = append(device, "crb_acpi_driver_init")
	}
	if p.CRBFFA == "y" && !p.CRBFFARegister {
		device = append(device, "tpm_crb_ffa_driver_init")
	}
	if p.FFA == "y" && p.FFAInitcall == "device" {
		device = append(device, "ffa_init")
	}
	if p.IMALate == "sync" {
		late = []string{"deferred_probe_initcall"}
	} else {
		late = []string{"init_ima", "deferred_probe_initcall"}
	}
	return device, late, nil
}
