package ima

import (
	"fmt"
	"sync"

	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// RTMR is a root of trust modelled on a confidential-computing runtime
// measurement register bank (Intel TDX RTMR0..3: SHA-384, extend-only,
// reset only with the guest). Following the TDX convention of mapping TCG
// PCRs onto RTMRs (PCR 1,7 -> RTMR0; PCR 2-6 -> RTMR1; PCR 8-15 -> RTMR2),
// IMA's default register is RTMR2 and boot_aggregate covers RTMR0 and RTMR1,
// the registers firmware and boot loader extend before the kernel.
type RTMR struct {
	mu   sync.Mutex
	regs [RTMRCount][48]byte
	// Extends counts extend operations (a test hook and a cost figure).
	extends int
}

// RTMRCount is the number of runtime measurement registers.
const RTMRCount = 4

// RTMRDefaultIndex is IMA's register on an RTMR root of trust.
const RTMRDefaultIndex = 2

// NewRTMR returns a register bank with every register zero.
func NewRTMR() *RTMR { return &RTMR{} }

// Name implements RootOfTrust.
func (r *RTMR) Name() string { return "rtmr" }

// Registers is the number of registers per bank.
func (r *RTMR) Registers() int { return RTMRCount }

// Banks implements RootOfTrust: a single SHA-384 bank.
func (r *RTMR) Banks() []hashalg.Alg { return []hashalg.Alg{hashalg.SHA384} }

// DefaultIndex implements RootOfTrust.
func (r *RTMR) DefaultIndex() int { return RTMRDefaultIndex }

// BootAggregateIndices implements RootOfTrust: RTMR0 and RTMR1.
func (r *RTMR) BootAggregateIndices(hashalg.Alg) []int { return []int{0, 1} }

// Extend implements RootOfTrust: RTMR[i] = SHA-384(RTMR[i] || digest).
func (r *RTMR) Extend(index int, digests []hashalg.Digest) error {
	if index < 0 || index >= RTMRCount {
		return fmt.Errorf("ima: RTMR index %d out of range 0..%d", index, RTMRCount-1)
	}
	d, ok := hashalg.Find(digests, hashalg.SHA384)
	if !ok || len(d) != 48 {
		return fmt.Errorf("ima: extend RTMR%d: want one 48-byte sha384 digest", index)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	copy(r.regs[index][:], hashalg.SHA384.Extend(r.regs[index][:], d))
	r.extends++
	return nil
}

// Read implements RootOfTrust.
func (r *RTMR) Read(index int, alg hashalg.Alg) ([]byte, error) {
	if index < 0 || index >= RTMRCount {
		return nil, fmt.Errorf("ima: RTMR index %d out of range 0..%d", index, RTMRCount-1)
	}
	if alg != hashalg.SHA384 {
		return nil, fmt.Errorf("ima: RTMR has no %v bank", alg)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.regs[index][:]...), nil
}

// Extends returns how many extend operations the bank has performed.
func (r *RTMR) Extends() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.extends
}

// PCRToRTMR maps a TCG PCR index onto the RTMR that holds its
// measurements in the TDX convention: PCR 1 and 7 -> RTMR0, PCR 2..6 ->
// RTMR1, PCR 8..15 -> RTMR2. PCR 0 maps to MRTD, which the TDX module
// measures when the guest is built; ok is false for it and for PCR 16+.
func PCRToRTMR(pcr int) (rtmr int, ok bool) {
	switch {
	case pcr == 1 || pcr == 7:
		return 0, true
	case pcr >= 2 && pcr <= 6:
		return 1, true
	case pcr >= 8 && pcr <= 15:
		return 2, true
	}
	return 0, false
}

// FirmwareExtender lets the firmware model (eventlog.Measure) measure into
// the RTMR bank with TCG PCR numbers, as a confidential guest's firmware
// does: each PCR is mapped by PCRToRTMR; PCR 0 events are skipped (MRTD).
type FirmwareExtender struct{ R *RTMR }

// Banks implements eventlog.Extender.
func (f FirmwareExtender) Banks() []hashalg.Alg { return f.R.Banks() }

// Extend implements eventlog.Extender.
func (f FirmwareExtender) Extend(pcr int, digests []hashalg.Digest) error {
	if pcr == 0 {
		return nil
	}
	i, ok := PCRToRTMR(pcr)
	if !ok {
		return fmt.Errorf("ima: PCR %d has no RTMR", pcr)
	}
	return f.R.Extend(i, digests)
}
