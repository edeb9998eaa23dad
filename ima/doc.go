// Package ima models Linux's Integrity Measurement Architecture as far as
// boot and attestation need it, byte-compatible with what a real kernel
// writes and with the tools that read it (evmctl, keylime-style verifiers).
//
// What it models, and from where (security/integrity/ima/ in the Linux tree):
//
//   - ima_init.c: ima_add_boot_aggregate; the first entry is
//     "boot_aggregate" (or "boot_aggregate_late", seed 001 and the merged
//     CONFIG_IMA_INIT_LATE_SYNC); in TPM-bypass its digest is all zeros and
//     nothing is extended (Init).
//   - ima_crypto.c: ima_calc_boot_aggregate: the bank matching ima_hash,
//     else SHA-256, else SHA-1; PCR0..7 for SHA-1, PCR0..9 for other banks
//     (BootAggregate, BootAggregateBank); template digests per allocated
//     bank, SHA-1 zero-padded for banks the kernel cannot hash
//     (TemplateDigest); ima_algo_array = banks + SHA-1 + ima_hash (AlgoArray).
//   - ima_template.c / ima_template_lib.c: templates ima (d|n), ima-ng
//     (d-ng|n-ng) and ima-sig (d-ng|n-ng|sig), field encodings ("<algo>:"
//     NUL digest, names with spaces as '_' and a NUL, 255-byte limit of n).
//   - ima_queue.c / ima_api.c: the append-only list with its duplicate
//     check (List), violations recorded with a zero template digest and
//     extended as ff..ff (IMA.Violation), one extend of every bank.
//   - ima_fs.c: binary_runtime_measurements and ascii_runtime_measurements,
//     un-suffixed (SHA-1) and per algorithm (_sha256, ...), in the exact
//     formats of ima_measurements_show / ima_ascii_measurements_show
//     (List.WriteBinary, WriteASCII, ParseBinary, ParseASCII).
//   - evmctl's PCR file form "PCR-NN: <hex>" (WritePCRFile, ParsePCRFile).
//   - seed 004's pluggable root of trust: RootOfTrust, with a TPM over any
//     go-tpm transport (TPM: TPM2_GetCapability for banks, one
//     TPM2_PCR_Extend for all banks, TPM2_PCR_Read) and an RTMR-like
//     confidential-computing register bank (RTMR, default register 2).
//   - the attestation side: Verify replays a list against PCR values per
//     bank, recomputes boot_aggregate from PCRs or from a replayed firmware
//     event log (package eventlog), says when the list was made in
//     TPM-bypass, and reports every check with what differed.
//
// Subpackages: hashalg (TCG algorithm IDs and Linux names), eventlog (TCG PC
// Client crypto-agile event log and the firmware model), policy (the IMA
// policy language and the tcb policy), imakernel (init_ima plugged into the
// kernel model), imatest (fakes and peer-tool helpers).
package ima
