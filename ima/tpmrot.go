package ima

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// TPMPCRs is the number of PCRs of a PC Client TPM.
const TPMPCRs = 24

// DefaultPCR is CONFIG_IMA_MEASURE_PCR_IDX's default.
const DefaultPCR = 10

// TPM is the TPM root of trust over any go-tpm transport (the simulator
// directly, or the whole FF-A -> CRB chain through the kernel's chip).
// Banks are discovered with TPM2_GetCapability(TPM_CAP_PCRS); Extend sends
// one TPM2_PCR_Extend carrying a digest for every allocated bank, as
// tpm2_pcr_extend in drivers/char/tpm/tpm2-cmd.c does.
type TPM struct {
	t        transport.TPM
	banks    []hashalg.Alg
	prebuilt bool

	mu  sync.Mutex
	cmd []byte // prebuilt PCR_Extend command, rewritten in place
	off []int  // offset of each bank's digest in cmd
}

// TPMOption configures NewTPM.
type TPMOption func(*TPM)

// WithBanks skips bank discovery and uses banks, as IMA uses the banks the
// TPM core already read into chip->allocated_banks.
func WithBanks(banks []hashalg.Alg) TPMOption {
	return func(t *TPM) { t.banks = append([]hashalg.Alg(nil), banks...) }
}

// WithPrebuiltExtend chooses how Extend builds TPM2_PCR_Extend: true (the
// default) reuses one prebuilt command buffer, patching the handle and the
// digests in place, as Linux's tpm2_pcr_extend fills a tpm_buf; false
// marshals through go-tpm each time. Both send the same bytes
// (TestPrebuiltExtendMatchesGoTPM); the prebuilt one is several times
// cheaper (BenchmarkRawPCRExtend). Read follows the same choice for
// TPM2_PCR_Read (TestPrebuiltReadMatchesGoTPM).
func WithPrebuiltExtend(on bool) TPMOption { return func(t *TPM) { t.prebuilt = on } }

// NewTPM reads the PCR bank allocation from t. Banks whose algorithm this
// package does not know are ignored for extend (Linux extends them with a
// padded SHA-1 digest; see Extend).
func NewTPM(t transport.TPM, opts ...TPMOption) (*TPM, error) {
	r := &TPM{t: t, prebuilt: true}
	for _, o := range opts {
		o(r)
	}
	if r.banks == nil {
		banks, err := TPMBanks(t)
		if err != nil {
			return nil, err
		}
		r.banks = banks
	}
	if len(r.banks) == 0 {
		return nil, errors.New("ima: TPM reports no allocated PCR bank")
	}
	for _, b := range r.banks {
		if !b.Valid() {
			return nil, fmt.Errorf("ima: unknown PCR bank algorithm %v", b)
		}
	}
	r.buildExtend()
	return r, nil
}

// TPMBanks returns the allocated PCR banks (any PCR selected) in the order
// the TPM reports them.
func TPMBanks(t transport.TPM) ([]hashalg.Alg, error) {
	rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapPCRs, PropertyCount: 1}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("ima: TPM2_GetCapability(TPM_CAP_PCRS): %w", err)
	}
	sel, err := rsp.CapabilityData.Data.AssignedPCR()
	if err != nil {
		return nil, fmt.Errorf("ima: TPM2_GetCapability(TPM_CAP_PCRS): %w", err)
	}
	var banks []hashalg.Alg
	for _, s := range sel.PCRSelections {
		any := false
		for _, b := range s.PCRSelect {
			any = any || b != 0
		}
		a := hashalg.Alg(s.Hash)
		if any && a.Valid() {
			banks = append(banks, a)
		}
	}
	return banks, nil
}

// Name implements RootOfTrust.
func (r *TPM) Name() string { return "tpm" }

// Registers is the number of PCRs per bank.
func (r *TPM) Registers() int { return TPMPCRs }

// Banks implements RootOfTrust.
func (r *TPM) Banks() []hashalg.Alg { return append([]hashalg.Alg(nil), r.banks...) }

// DefaultIndex implements RootOfTrust: PCR 10.
func (r *TPM) DefaultIndex() int { return DefaultPCR }

// BootAggregateIndices implements RootOfTrust.
func (r *TPM) BootAggregateIndices(alg hashalg.Alg) []int { return TPMBootAggregateIndices(alg) }

// Transport returns the transport the root of trust talks through.
func (r *TPM) Transport() transport.TPM { return r.t }

func (r *TPM) checkDigests(index int, digests []hashalg.Digest) ([][]byte, error) {
	if index < 0 || index >= TPMPCRs {
		return nil, fmt.Errorf("ima: PCR index %d out of range 0..%d", index, TPMPCRs-1)
	}
	out := make([][]byte, len(r.banks))
	for i, b := range r.banks {
		d, ok := hashalg.Find(digests, b)
		if !ok {
			return nil, fmt.Errorf("ima: extend PCR %d: no digest for bank %v", index, b)
		}
		if len(d) != b.Size() {
			return nil, fmt.Errorf("ima: extend PCR %d: %v digest is %d bytes, want %d", index, b, len(d), b.Size())
		}
		out[i] = d
	}
	return out, nil
}

// Extend implements RootOfTrust with one TPM2_PCR_Extend for all banks.
func (r *TPM) Extend(index int, digests []hashalg.Digest) error {
	ds, err := r.checkDigests(index, digests)
	if err != nil {
		return err
	}
	if r.prebuilt {
		return r.extendPrebuilt(index, ds)
	}
	vals := tpm2.TPMLDigestValues{Digests: make([]tpm2.TPMTHA, len(r.banks))}
	for i, b := range r.banks {
		vals.Digests[i] = tpm2.TPMTHA{HashAlg: tpm2.TPMIAlgHash(b), Digest: ds[i]}
	}
	_, err = tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(index), Auth: tpm2.PasswordAuth(nil)},
		Digests:   vals,
	}.Execute(r.t)
	if err != nil {
		return fmt.Errorf("ima: TPM2_PCR_Extend(PCR %d): %w", index, err)
	}
	return nil
}

// TPM 2.0 Part 2/3 constants for the prebuilt command.
const (
	tpmSTSessions  = 0x8002
	tpmCCPCRExtend = 0x00000182
	tpmRSPW        = 0x40000009
	tpmHeaderSize  = 10
)

func (r *TPM) buildExtend() {
	// header | pcrHandle | authSize | TPMS_AUTH_COMMAND(pw, empty) | TPML_DIGEST_VALUES
	b := make([]byte, 0, 128)
	b = binary.BigEndian.AppendUint16(b, tpmSTSessions)
	b = binary.BigEndian.AppendUint32(b, 0) // size, patched below
	b = binary.BigEndian.AppendUint32(b, tpmCCPCRExtend)
	b = binary.BigEndian.AppendUint32(b, 0) // PCR handle, patched per call
	b = binary.BigEndian.AppendUint32(b, 9) // authorizationSize
	b = binary.BigEndian.AppendUint32(b, tpmRSPW)
	b = binary.BigEndian.AppendUint16(b, 0) // nonce
	b = append(b, 0)                        // session attributes
	b = binary.BigEndian.AppendUint16(b, 0) // hmac (empty password)
	b = binary.BigEndian.AppendUint32(b, uint32(len(r.banks)))
	r.off = make([]int, len(r.banks))
	for i, a := range r.banks {
		b = binary.BigEndian.AppendUint16(b, uint16(a))
		r.off[i] = len(b)
		b = append(b, make([]byte, a.Size())...)
	}
	binary.BigEndian.PutUint32(b[2:], uint32(len(b)))
	r.cmd = b
}

func (r *TPM) extendPrebuilt(index int, ds [][]byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	binary.BigEndian.PutUint32(r.cmd[tpmHeaderSize:], uint32(index))
	for i, d := range ds {
		copy(r.cmd[r.off[i]:], d)
	}
	rsp, err := r.t.Send(r.cmd)
	if err != nil {
		return fmt.Errorf("ima: TPM2_PCR_Extend(PCR %d): %w", index, err)
	}
	if len(rsp) < tpmHeaderSize {
		return fmt.Errorf("ima: TPM2_PCR_Extend(PCR %d): short response (%d bytes)", index, len(rsp))
	}
	if rc := binary.BigEndian.Uint32(rsp[6:10]); rc != 0 {
		return fmt.Errorf("ima: TPM2_PCR_Extend(PCR %d): %w", index, tpm2.TPMRC(rc))
	}
	return nil
}

// Read implements RootOfTrust with TPM2_PCR_Read of one PCR.
func (r *TPM) Read(index int, alg hashalg.Alg) ([]byte, error) {
	if index < 0 || index >= TPMPCRs {
		return nil, fmt.Errorf("ima: PCR index %d out of range 0..%d", index, TPMPCRs-1)
	}
	if r.prebuilt {
		return r.readPrebuilt(index, alg)
	}
	sel := make([]byte, 3)
	sel[index/8] = 1 << (index % 8)
	rsp, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMIAlgHash(alg), PCRSelect: sel},
	}}}.Execute(r.t)
	if err != nil {
		return nil, fmt.Errorf("ima: TPM2_PCR_Read(%v PCR %d): %w", alg, index, err)
	}
	if len(rsp.PCRValues.Digests) != 1 {
		return nil, fmt.Errorf("ima: TPM2_PCR_Read(%v PCR %d): bank not allocated (%d values returned)", alg, index, len(rsp.PCRValues.Digests))
	}
	return rsp.PCRValues.Digests[0].Buffer, nil
}

// readPrebuilt is Read with TPM2_PCR_Read built and parsed here (the same
// command bytes go-tpm marshals, TestPrebuiltReadMatchesGoTPM): go-tpm's
// reflection costs several times the TPM's own work, and boot_aggregate
// reads 8 to 10 PCRs per boot.
func (r *TPM) readPrebuilt(index int, alg hashalg.Alg) ([]byte, error) {
	var cmd [20]byte
	binary.BigEndian.PutUint16(cmd[0:], uint16(tpm2.TPMSTNoSessions))
	binary.BigEndian.PutUint32(cmd[2:], uint32(len(cmd)))
	binary.BigEndian.PutUint32(cmd[6:], uint32(tpm2.TPMCCPCRRead))
	binary.BigEndian.PutUint32(cmd[10:], 1) // one TPMS_PCR_SELECTION
	binary.BigEndian.PutUint16(cmd[14:], uint16(alg))
	cmd[16] = 3 // sizeofSelect: PCR 0..23
	cmd[17+index/8] = 1 << (index % 8)
	rsp, err := r.t.Send(cmd[:])
	if err != nil {
		return nil, fmt.Errorf("ima: TPM2_PCR_Read(%v PCR %d): %w", alg, index, err)
	}
	bad := func(what string) error {
		return fmt.Errorf("ima: TPM2_PCR_Read(%v PCR %d): malformed response (%d bytes): %s", alg, index, len(rsp), what)
	}
	if len(rsp) < tpmHeaderSize {
		return nil, bad("short header")
	}
	if rc := binary.BigEndian.Uint32(rsp[6:10]); rc != 0 {
		return nil, fmt.Errorf("ima: TPM2_PCR_Read(%v PCR %d): %w", alg, index, tpm2.TPMRC(rc))
	}
	p := rsp[tpmHeaderSize:]
	if len(p) < 8 { // pcrUpdateCounter, pcrSelectionOut.count
		return nil, bad("no PCR selection")
	}
	nsel := binary.BigEndian.Uint32(p[4:8])
	p = p[8:]
	for i := uint32(0); i < nsel; i++ {
		if len(p) < 3 || len(p) < 3+int(p[2]) {
			return nil, bad("truncated PCR selection")
		}
		p = p[3+int(p[2]):]
	}
	if len(p) < 4 {
		return nil, bad("no digest list")
	}
	if n := binary.BigEndian.Uint32(p); n != 1 {
		return nil, fmt.Errorf("ima: TPM2_PCR_Read(%v PCR %d): bank not allocated (%d values returned)", alg, index, n)
	}
	p = p[4:]
	if len(p) < 2 || len(p) < 2+int(binary.BigEndian.Uint16(p)) {
		return nil, bad("truncated digest")
	}
	n := int(binary.BigEndian.Uint16(p))
	return append([]byte(nil), p[2:2+n]...), nil
}

// ReadAll reads PCR 0..23 of every bank.
func ReadAll(rot RootOfTrust, n int) (map[hashalg.Alg][][]byte, error) {
	out := map[hashalg.Alg][][]byte{}
	for _, b := range rot.Banks() {
		vals := make([][]byte, n)
		for i := 0; i < n; i++ {
			v, err := rot.Read(i, b)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		out[b] = vals
	}
	return out, nil
}
