// Package tpmsp is the TPM service secure partition of Arm DEN0138 ("TPM
// Service Command Response Buffer Interface over FF-A", v1.0): a
// spmc.Handler that answers the six DEN0138 functions over
// FFA_MSG_SEND_DIRECT_REQ (32 and 64-bit; w3 MBZ, function in w4, arguments
// from w5, status in w4 of the response) and FFA_MSG_SEND_DIRECT_REQ2 (the
// same values from x4), with the service UUID
// 17b862a4-1806-4faf-86b3-089a58353861.
//
// START(qualifier 1) makes the TPM act on TPM_LOC_CTRL_n; START(qualifier 0)
// makes it act on locality n's control area: a cmdReady or goIdle request,
// or, when TPM_CRB_CTRL_START is set, the command in the data buffer, which
// runs on the engine (any go-tpm transport.TPM); the response goes back into
// the buffer and CTRL_START is cleared, as firmware does. The CRB rules
// live in package crb (Device); this package adds the DEN0138 ABI: argument
// checks (MBZ registers, qualifier, locality), function dispatch from
// crb.FuncTable, notifications, and endpoint isolation.
//
// It serves both normal-world clients seen in the field: Linux
// (drivers/char/tpm/tpm_crb_ffa.c: REQ2 when the partition advertises it,
// else REQ; no cmdReady/goIdle in mainline) and EDK2 (REQ2 always, three
// START(command) calls per command: after cmdReady, after Start, after
// goIdle).
//
// Isolation rules beyond DEN0138 (our policy, each refused with DENIED):
// a locality requested or granted to one FF-A endpoint cannot be commanded,
// relinquished or seized by another endpoint.
package tpmsp
