// Package crb models the TPM Command Response Buffer interface of the TCG PC
// Client Platform TPM Profile (PTP) specification, section "CRB Interface",
// as a TPM service partition reached over Arm FF-A exposes it (Arm DEN0138,
// "TPM Service Command Response Buffer Interface over FF-A").
//
// What it holds:
//   - the register map of one locality block (TPM_LOC_STATE .. TPM_CRB_DATA_BUFFER)
//     with the PTP field names, Registers and DescribeBits;
//   - the command state machine (Idle, Ready, Executing, Complete, Error) and the
//     locality state machine (request, relinquish, seize, pending, active) as
//     explicit tables, Transitions and LocTransitions, that tests walk pair by
//     pair and docs/crb.md prints;
//   - Device, the register file of five localities at Base + n*0x1000 as a
//     phys MMIO device, with the TPM-side operations the DEN0138 partition
//     calls on START (ProcessLocality, ServeCommand);
//   - the DEN0138 ABI vocabulary: function IDs, status codes (Status implements
//     error), the START qualifier, the interface version, and LinuxErrno, the
//     status-to-errno mapping of drivers/char/tpm/tpm_crb_ffa.c.
//
// The TPM engine behind the CRB is any go-tpm transport.TPM.
//
// Sub-packages: crb/tpmsp (the DEN0138 partition), crb/crbdrv (the normal-world
// tpm_crb + tpm_crb_ffa driver model), crb/engine (TPM engines), crb/platform
// (a ready machine), crb/tpm2acpi (the ACPI TPM2 table), crb/crbtest
// (conformance suite and fault-injecting fakes).
package crb

//go:generate go run ./internal/gendoc -o ../docs/crb.md
