// Package hashalg names the hash algorithms that TPM PCR banks, TCG event
// logs and Linux IMA share, by their TCG algorithm identifiers (TCG
// Algorithm Registry, TPM_ALG_ID) and by the names Linux gives them in
// crypto/hash_info.c (hash_algo_name[]), which IMA prints in "sha256:" digest
// prefixes and in per-bank file names (binary_runtime_measurements_sha256).
package hashalg
