package main

import (
	"encoding/binary"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// pcrReadMax is how many digests one TPM2_PCR_Read answers at most
// (TPML_DIGEST holds up to 8: TPM 2.0 Part 2, 10.9.2), so a selection of
// at most 8 registers is answered whole.
const pcrReadMax = 8

// batchedAggregate computes boot_aggregate over alg's registers on a TPM
// root of trust with one TPM2_PCR_Read per 8 registers instead of one per
// register. It reports ok=false, having hashed nothing, whenever the answer
// is not exactly the registers asked for (an error code, a short or
// rearranged selection, a wrong count or size); the caller then reads the
// registers one by one as before, so the result never differs from
// ima.BootAggregate's.
func batchedAggregate(rot *ima.TPM, alg hashalg.Alg) ([]byte, bool) {
	if !alg.Available() {
		return nil, false
	}
	idx := rot.BootAggregateIndices(alg)
	h := alg.New()
	for len(idx) > 0 {
		n := min(len(idx), pcrReadMax)
		got, ok := readPCRs(rot, alg, idx[:n])
		if !ok {
			return nil, false
		}
		// Hashed before the next command: the values alias its response.
		for _, v := range got {
			h.Write(v)
		}
		idx = idx[n:]
	}
	return h.Sum(nil), true
}

// readPCRs sends one TPM2_PCR_Read selecting idx (ascending, all in 0..23)
// in bank alg and returns the values in idx's order, or ok=false.
func readPCRs(rot *ima.TPM, alg hashalg.Alg, idx []int) ([][]byte, bool) {
	var sel [3]byte
	prev := -1
	for _, i := range idx {
		if i <= prev || i >= ima.TPMPCRs {
			return nil, false
		}
		sel[i/8] |= 1 << (i % 8)
		prev = i
	}
	var cmd [20]byte
	binary.BigEndian.PutUint16(cmd[0:], 0x8001) // TPM_ST_NO_SESSIONS
	binary.BigEndian.PutUint32(cmd[2:], 20)     // commandSize
	binary.BigEndian.PutUint32(cmd[6:], 0x17E)  // TPM_CC_PCR_Read
	binary.BigEndian.PutUint32(cmd[10:], 1)     // pcrSelectionIn.count
	binary.BigEndian.PutUint16(cmd[14:], uint16(alg))
	cmd[16] = 3 // sizeofSelect
	copy(cmd[17:], sel[:])
	rsp, err := rot.Transport().Send(cmd[:])
	if err != nil || len(rsp) < 10 || binary.BigEndian.Uint32(rsp[6:10]) != 0 {
		return nil, false
	}
	p := rsp[10:]
	// pcrUpdateCounter, then pcrSelectionOut: exactly the selection sent.
	if len(p) < 4+4+2+1+3 || binary.BigEndian.Uint32(p[4:8]) != 1 ||
		binary.BigEndian.Uint16(p[8:10]) != uint16(alg) || p[10] != 3 || [3]byte(p[11:14]) != sel {
		return nil, false
	}
	p = p[14:]
	if len(p) < 4 || binary.BigEndian.Uint32(p) != uint32(len(idx)) {
		return nil, false
	}
	p = p[4:]
	out := make([][]byte, len(idx))
	for k := range out {
		if len(p) < 2 {
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(p))
		if n != alg.Size() || len(p) < 2+n {
			return nil, false
		}
		out[k] = p[2 : 2+n]
		p = p[2+n:]
	}
	return out, true
}
