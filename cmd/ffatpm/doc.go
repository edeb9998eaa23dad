// Command ffatpm emulates the Arm boot chain that connects a firmware TPM to
// Linux IMA: FF-A -> SPMC -> TPM secure partition -> CRB -> TPM 2.0 -> kernel
// driver core -> IMA, and shows which kernel configurations and initcall
// orders lose the TPM, and why.
//
// Commands: boot (one boot: dmesg-style log, verdict, where tpm0 was
// registered, deferred probes, boot_aggregate, measurements; --json, --out
// with the files securityfs, the TPM and ACPI expose), explore (every
// initcall order, y/m and patch switch, grouped by verdict with the smallest
// fix, in worker processes), trace (FF-A calls, CRB registers, driver-core
// events; --svg timeline), verify (a measurement list against PCRs and the
// firmware event log), presets, serve (the chain as an mssim TPM server),
// bench. Real kernels' build outputs come in with --kernel-dir
// (kernel/kbuild).
//
// It models: include/linux/init.h and init/main.c (levels, link order),
// drivers/base/dd.c (deferred probing), drivers/firmware/arm_ffa,
// drivers/char/tpm/tpm_crb.c and tpm_crb_ffa.c, security/integrity/ima
// (through the kernel, crb, ffa, spmc and ima packages); this package only
// composes them and renders what they report.
//
// Run "ffatpm help" for the list of commands and "ffatpm help <command>" for
// each command's flags and examples. docs/cli.md describes every command, the
// scenario file format, the JSON keys and the exit statuses.
package main
