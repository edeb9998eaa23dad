// Package imakernel plugs IMA into the kernel model the way Linux's IMA
// plugs into the boot: it contributes init_ima as an initcall
// (security/integrity/ima/ima_main.c, DEFINE_LSM(ima).initcall_late) and
// receives the kernel's measurement points through Spec.Hooks.Measure. The
// kernel never imports IMA; cmd/ composes the two.
//
// Three forms of initialisation are modelled, each behind its own switch:
//
//   - upstream: init_ima at late_initcall; with no TPM chip it logs
//     "ima: No TPM chip found, activating TPM-bypass!" and runs without one,
//     recording a boot_aggregate whose digest is all zeros.
//   - CONFIG_IMA_INIT_LATE_SYNC (merged 2026, read from the kernel config):
//     init_ima runs at late_initcall_sync instead, and the first entry is
//     always named "boot_aggregate_late".
//   - seed 001's RFC (Options.RFCLateRetry): with no chip at late_initcall
//     and CONFIG_TCG_TPM enabled, init_ima returns -EPROBE_DEFER and is
//     called again at late_initcall_sync (init_ima_late_sync); only that
//     second attempt names the entry "boot_aggregate_late".
//
// Every measurement point is accounted for: measured (in the list and
// extended), unprotected (in the list, but IMA runs in TPM-bypass so no PCR
// covers it), lost (it happened before IMA was initialised), duplicate, or
// not measured by the policy. That makes seed 003's debate measurable.
package imakernel
