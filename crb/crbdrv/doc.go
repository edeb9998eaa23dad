// Package crbdrv is the normal-world side of the TPM over FF-A: a model of
// Linux's drivers/char/tpm/tpm_crb_ffa.c (FFA: GET_INTERFACE_VERSION at
// probe, accepting only major version 1; START with BUSY retried for
// busy_timeout_ms; DEN0138 status to errno as tpm_crb_ffa_to_linux_errno)
// and of drivers/char/tpm/tpm_crb.c with the FF-A start method (Chip:
// locality request through LOC_CTRL + START(locality), command written
// into the CRB data buffer, CTRL_START set, START(command), completion
// polled on CTRL_START, response read, locality relinquished), plus the
// TPM core's transmit loop (drivers/char/tpm/tpm-interface.c
// tpm_try_transmit). Chip implements go-tpm's transport.TPM, so go-tpm code
// runs unchanged over ffa -> spmc -> TPM partition -> crb -> engine.
//
// The chip reaches the CRB only through MMIO reads and writes of 1, 2, 4 or 8
// bytes (a phys.Accessor of the non-secure world) and the TPM service only
// through FF-A direct requests (a Messenger, which *ffa.Client implements).
// Time comes from an injected Clock; every poll loop is bounded.
//
// Mainline Linux does not send cmdReady/goIdle with the FF-A start method
// (tpm_crb_has_idle returns false for it); ChipConfig.Idle models the later
// patch that sends them, each followed by START(command).
//
// Errors are *Error values carrying the negative errno Linux returns and the
// underlying cause: a crb.Status from the TPM service, an ffa.Status from
// the SPMC, or an access error from the bus.
package crbdrv
