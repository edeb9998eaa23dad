package ima

import (
	"fmt"

	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// RootOfTrust is what IMA extends measurements into and reads the boot
// aggregate from (seed 004's "IMA RoT framework"). A TPM is one; a
// confidential-computing measurement register bank is another.
type RootOfTrust interface {
	// Name identifies the kind of root of trust ("tpm", "rtmr"); the
	// measurement list records it.
	Name() string
	// Banks lists the allocated banks in the order the device reports them.
	Banks() []hashalg.Alg
	// DefaultIndex is the register IMA extends by default (PCR 10 for a TPM).
	DefaultIndex() int
	// Extend extends register index in every bank with that bank's digest,
	// in one operation. digests must hold one entry per bank.
	Extend(index int, digests []hashalg.Digest) error
	// Read returns register index of bank alg.
	Read(index int, alg hashalg.Alg) ([]byte, error)
	// BootAggregateIndices lists, in order, the registers boot_aggregate
	// hashes for bank alg.
	BootAggregateIndices(alg hashalg.Alg) []int
}

// BootAggregate computes Linux's boot_aggregate for bank alg of rot: the
// bank's hash over the concatenated registers rot.BootAggregateIndices(alg)
// (for a TPM: PCR0..7 for SHA-1, PCR0..9 for other banks; see
// ima_calc_boot_aggregate in security/integrity/ima/ima_crypto.c).
func BootAggregate(rot RootOfTrust, alg hashalg.Alg) ([]byte, error) {
	if !alg.Available() {
		return nil, fmt.Errorf("ima: boot_aggregate: bank %v cannot be hashed here", alg)
	}
	h := alg.New()
	for _, i := range rot.BootAggregateIndices(alg) {
		v, err := rot.Read(i, alg)
		if err != nil {
			return nil, fmt.Errorf("ima: boot_aggregate: read %s register %d bank %v: %w", rot.Name(), i, alg, err)
		}
		h.Write(v)
	}
	return h.Sum(nil), nil
}

// BootAggregateBank chooses the bank Linux computes boot_aggregate with:
// the bank of want (IMA's hash algorithm) when allocated, otherwise the
// last SHA-256 bank, otherwise the first SHA-1 bank (ima_calc_boot_aggregate).
// ok is false when no bank fits ("No suitable TPM algorithm for boot aggregate").
func BootAggregateBank(banks []hashalg.Alg, want hashalg.Alg) (hashalg.Alg, bool) {
	idx := -1
	for i, b := range banks {
		if b == want {
			return b, true
		}
		if b == hashalg.SHA256 {
			idx = i
		}
		if idx == -1 && b == hashalg.SHA1 {
			idx = i
		}
	}
	if idx < 0 {
		return 0, false
	}
	return banks[idx], true
}

// TPMBootAggregateIndices is the TPM rule: PCR0..7 for SHA-1, PCR0..9 for
// every other bank (registers 8-9 hold the kernel command line and image in
// a typical allocation; Linux leaves them out of SHA-1 to stay compatible).
func TPMBootAggregateIndices(alg hashalg.Alg) []int {
	if alg == hashalg.SHA1 {
		return []int{0, 1, 2, 3, 4, 5, 6, 7}
	}
	return []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
}
