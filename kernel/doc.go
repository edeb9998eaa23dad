// Package kernel models the part of Linux that decides whether IMA finds the
// TPM at boot: the initcall levels (include/linux/init.h, init/main.c), the
// driver core with probe deferral (drivers/base/dd.c, bus.c, driver.c), the
// Arm FF-A driver (drivers/firmware/arm_ffa/driver.c, bus.c), the TPM CRB
// drivers (drivers/char/tpm/tpm_crb.c, tpm_crb_ffa.c) and the TPM core
// (drivers/char/tpm/tpm-chip.c, tpm2-cmd.c).
//
// A boot is a value: Boot(Spec) runs the initcalls of every level in Linux
// order, in the link order the Spec gives, loads the =m modules after the
// last level, and returns a Result with the dmesg-form log, the structured
// event stream and the facts the CLI reports (where the TPM chip was
// registered, which probes were deferred and when they ran).
//
// The model has no table of known outcomes: whether IMA (an initcall that
// another package contributes) sees a TPM follows from running the driver
// core's rules on the given Kconfig, link order, patch switches and platform.
// The secure world is reached only through FF-A calls (an ffa.Conduit) and
// CRB MMIO (a phys.Accessor), as the real drivers reach it.
//
// Time is virtual (a Clock that each modelled action advances by a fixed
// cost), so the same inputs give the same log byte for byte.
package kernel
