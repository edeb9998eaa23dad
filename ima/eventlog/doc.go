// Package eventlog reads, writes and replays the TCG PC Client firmware
// event log in its crypto-agile form (TCG PC Client Platform Firmware
// Profile, section 10: TCG_PCClientPCREvent header carrying the
// TCG_EfiSpecIdEvent "Spec ID Event03", then TCG_PCR_EVENT2 records with a
// TPML_DIGEST_VALUES each), the format Linux exposes as
// /sys/kernel/security/tpm0/binary_bios_measurements and tpm2_eventlog reads.
// The legacy SHA-1-only format ("Spec ID Event00" or no Spec ID) is parsed
// too.
//
// Replay extends every event except EV_NO_ACTION into its PCR, starting
// PCR0 from the locality in a StartupLocality EV_NO_ACTION event.
//
// Firmware is a model of the platform's boot stages (Arm TF-A style:
// S-CRTM version, BL2, BL31, the SPMC and the TPM secure partition, the
// hardware configuration, the normal-world loader, separators for PCR0..7)
// that measures each component through a PCR extender and writes the log.
package eventlog
