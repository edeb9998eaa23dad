// Package kernel models the part of Linux that decides whether IMA finds the
// TPM at boot: the initcall levels (include/linux/init.h, init/main.c), the
// driver core with probe deferral (drivers/base/dd.c, bus.c, driver.c), the
// Arm FF-A driver (drivers/firmware/arm_ffa/driver.c, bus.c), the TPM CRB
// drivers (drivers/char/tpm/tpm_crb.c, tpm_crb_ffa.c, tpm_crb_ffa.h) and the
// TPM core (drivers/char/tpm/tpm-chip.c, tpm2-cmd.c, tpm-interface.c).
//
// A boot is a value: Boot(Spec) runs the initcalls of every level in Linux
// order, in the link order the Spec gives, loads the =m modules after the
// last level, starts /init, and returns a Result with the dmesg-form log,
// the structured event stream and the facts the CLI reports (where the TPM
// chip was registered, which probes were deferred and when they ran).
//
// The model has no table of known outcomes: whether IMA (an initcall that
// another package contributes through Spec.Initcalls, and that calls
// Kernel.DefaultChip as init_ima calls tpm_default_chip) sees a TPM follows
// from running the driver core's rules on the given Kconfig (Config), link
// order (Order), patch switches (Patches) and platform. Presets name real
// kernels. The secure world is reached only through FF-A calls (an
// ffa.Conduit, spoken through ffa.Client) and CRB MMIO (a Memory such as a
// non-secure phys.Accessor), as the real drivers reach it.
//
// Time is virtual (each modelled action advances the boot's clock by a
// fixed cost, see Costs), so the same inputs give the same log byte for
// byte. Package kerneltest has fakes: a TPM engine, a minimal secure world
// for fast exploration, and a stand-in init_ima.
package kernel
