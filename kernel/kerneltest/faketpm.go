package kerneltest

import (
	"encoding/binary"
	"slices"
	"sync"
)

// FakeTPM is a small TPM 2.0 engine (a go-tpm transport.TPM) that answers
// the commands the kernel's TPM core and IMA send at boot from raw bytes,
// without the simulator: SelfTest (TPM_RC_INITIALIZE until Startup, as a
// TPM that firmware did not start), Startup, GetCapability for the command
// count, command attributes and PCR allocation (SHA-1 and SHA-256 banks),
// PCR_Extend and PCR_Read (as a real TPM would, with zeroed PCRs and no
// hashing: the digests it keeps are XORs, enough for a boot model).
// Anything else gets TPM_RC_COMMAND_CODE. It is safe for concurrent use.
type FakeTPM struct {
	mu      sync.Mutex
	started bool
	// StartedByFirmware makes SelfTest succeed from the start.
	StartedByFirmware bool
	// Banks are the TPM_ALG_IDs of the allocated banks (default SHA-1, SHA-256).
	Banks []uint16
	// FailSelfTest makes every SelfTest return TPM_RC_FAILURE.
	FailSelfTest bool
	// Commands counts the commands by code.
	Commands map[uint32]int
	pcrs     map[uint16]*[24][64]byte
	updates  uint32 // pcrUpdateCounter: PCR_Extends since Reset
}

const (
	rcSuccess     = 0x000
	rcInitialize  = 0x100
	rcFailure     = 0x101
	rcCommandCode = 0x143
)

func rsp(rc uint32, body ...byte) []byte {
	b := make([]byte, 10, 64)
	binary.BigEndian.PutUint16(b, 0x8001)
	binary.BigEndian.PutUint32(b[2:], uint32(10+len(body)))
	binary.BigEndian.PutUint32(b[6:], rc)
	return append(b, body...)
}

func digestSize(alg uint16) int {
	switch alg {
	case 0x0004:
		return 20
	case 0x000C:
		return 48
	case 0x000D:
		return 64
	}
	return 32
}

// Send implements transport.TPM.
func (f *FakeTPM) Send(cmd []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(cmd) < 10 {
		return rsp(0x095), nil // TPM_RC_COMMAND_SIZE-ish: too short
	}
	cc := binary.BigEndian.Uint32(cmd[6:])
	if f.Commands == nil {
		f.Commands = map[uint32]int{}
	}
	f.Commands[cc]++
	banks := f.Banks
	if banks == nil {
		banks = []uint16{0x0004, 0x000B}
	}
	switch cc {
	case 0x143: // SelfTest
		switch {
		case f.FailSelfTest:
			return rsp(rcFailure), nil
		case !f.started && !f.StartedByFirmware:
			return rsp(rcInitialize), nil
		}
		return rsp(rcSuccess), nil
	case 0x144: // Startup
		if f.started {
			return rsp(rcInitialize), nil
		}
		f.started = true
		return rsp(rcSuccess), nil
	case 0x17A: // GetCapability
		if len(cmd) < 22 {
			return rsp(0x095), nil
		}
		capa := binary.BigEndian.Uint32(cmd[10:])
		prop := binary.BigEndian.Uint32(cmd[14:])
		count := binary.BigEndian.Uint32(cmd[18:])
		body := make([]byte, 1, 48)
		body = binary.BigEndian.AppendUint32(body, capa)
		switch capa {
		case 6: // TPM_PROPERTIES
			body = binary.BigEndian.AppendUint32(body, 1)
			body = binary.BigEndian.AppendUint32(body, prop)
			body = binary.BigEndian.AppendUint32(body, 4)
		case 2: // COMMANDS
			if count > 4 {
				count = 4
			}
			body = binary.BigEndian.AppendUint32(body, count)
			for i := uint32(0); i < count; i++ {
				body = binary.BigEndian.AppendUint32(body, 0x143+i)
			}
		case 5: // PCRS
			body = binary.BigEndian.AppendUint32(body, uint32(len(banks)))
			for _, a := range banks {
				body = binary.BigEndian.AppendUint16(body, a)
				body = append(body, 3, 0xff, 0xff, 0xff)
			}
		default:
			return rsp(0x2C4), nil // TPM_RC_VALUE for parameter 1
		}
		return rsp(rcSuccess, body...), nil
	case 0x182: // PCR_Extend: handle, auth area, TPML_DIGEST_VALUES
		if !f.started && !f.StartedByFirmware {
			return rsp(rcInitialize), nil
		}
		if len(cmd) < 18 {
			return rsp(0x095), nil
		}
		idx := binary.BigEndian.Uint32(cmd[10:])
		authSize := int(binary.BigEndian.Uint32(cmd[14:]))
		off := 18 + authSize
		if idx > 23 || off+4 > len(cmd) {
			return rsp(0x1C4), nil
		}
		n := int(binary.BigEndian.Uint32(cmd[off:]))
		off += 4
		for i := 0; i < n; i++ {
			if off+2 > len(cmd) {
				return rsp(0x095), nil
			}
			alg := binary.BigEndian.Uint16(cmd[off:])
			sz := digestSize(alg)
			off += 2
			if off+sz > len(cmd) {
				return rsp(0x095), nil
			}
			p := f.pcr(alg)
			for j := 0; j < sz; j++ {
				p[idx][j] ^= cmd[off+j]
			}
			off += sz
		}
		f.updates++
		return rsp(rcSuccess, 0, 0, 0, 0, 0, 0, 1, 0, 0), nil
	case 0x17E: // PCR_Read: TPML_PCR_SELECTION
		if !f.started && !f.StartedByFirmware {
			return rsp(rcInitialize), nil
		}
		return f.pcrRead(cmd[10:], banks), nil
	}
	return rsp(rcCommandCode), nil
}

// pcrRead answers TPM2_PCR_Read (TPM 2.0 Part 3, 22.4) for the selection
// in p: the pcrUpdateCounter, the selection of the PCRs returned and their
// digests, in selection order, at most 8, as the reference TPM does; bits
// for PCRs not returned (past the 8th, or in a bank that is not allocated)
// are cleared in the selection out.
func (f *FakeTPM) pcrRead(p []byte, banks []uint16) []byte {
	if len(p) < 4 {
		return rsp(0x095)
	}
	n := binary.BigEndian.Uint32(p)
	if n > 16 {
		return rsp(0x095)
	}
	off := 4
	sel := binary.BigEndian.AppendUint32(nil, n)
	var digests []byte
	count := 0
	for i := uint32(0); i < n; i++ {
		if off+3 > len(p) {
			return rsp(0x095)
		}
		alg, size := binary.BigEndian.Uint16(p[off:]), int(p[off+2])
		off += 3
		if size > 4 || off+size > len(p) {
			return rsp(0x095)
		}
		bits := append([]byte(nil), p[off:off+size]...)
		off += size
		allocated := slices.Contains(banks, alg)
		for pcr := 0; pcr < 8*size; pcr++ {
			if bits[pcr/8]&(1<<(pcr%8)) == 0 {
				continue
			}
			if !allocated || pcr > 23 || count == 8 {
				bits[pcr/8] &^= 1 << (pcr % 8)
				continue
			}
			sz := digestSize(alg)
			digests = binary.BigEndian.AppendUint16(digests, uint16(sz))
			digests = append(digests, f.pcr(alg)[pcr][:sz]...)
			count++
		}
		sel = binary.BigEndian.AppendUint16(sel, alg)
		sel = append(sel, byte(size))
		sel = append(sel, bits...)
	}
	body := binary.BigEndian.AppendUint32(nil, f.updates)
	body = append(body, sel...)
	body = binary.BigEndian.AppendUint32(body, uint32(count))
	return rsp(rcSuccess, append(body, digests...)...)
}

// Reset power-cycles the fake: not started, PCRs zero, counts kept.
func (f *FakeTPM) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = false
	f.updates = 0
	for _, p := range f.pcrs {
		*p = [24][64]byte{}
	}
}

func (f *FakeTPM) pcr(alg uint16) *[24][64]byte {
	if f.pcrs == nil {
		f.pcrs = map[uint16]*[24][64]byte{}
	}
	p := f.pcrs[alg]
	if p == nil {
		p = new([24][64]byte)
		f.pcrs[alg] = p
	}
	return p
}
