// Package tpm2acpi builds and parses the ACPI "TPM2" table (TCG ACPI
// Specification, "TPM2 ACPI Table", revision 4) for a TPM 2.0 reached through
// the Command Response Buffer with Arm FF-A start method (start method 15,
// ACPI_TPM2_CRB_WITH_ARM_FFA in Linux include/acpi/actbl3.h).
//
// Layout (little-endian): the 36-byte ACPI header (ACPI spec "System
// Description Table Header"), platform class u16 at 36, reserved u16 at 38,
// control area address u64 at 40, start method u32 at 48, start-method
// specific parameters at 52 (12 bytes for FF-A: flags u8, attributes u8,
// partition ID u16, 8 reserved bytes), then optionally the log area minimum
// length u32 and log area start address u64. Linux's tpm_crb reads the FF-A
// parameters as struct tpm2_crb_ffa in drivers/char/tpm/tpm_crb.c.
//
// Firmware (the platform model) builds the table; the kernel model parses
// it. Parse errors name the field and its offset.
package tpm2acpi
