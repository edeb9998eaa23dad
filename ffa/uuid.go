package ffa

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// UUID is an RFC 4122 UUID in its canonical byte order (the order of the
// hex digits in its string form), as Linux stores a uuid_t.
type UUID [16]byte

// NilUUID asks PARTITION_INFO_GET for every partition.
var NilUUID UUID

// ParseUUID parses the canonical 8-4-4-4-12 form.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("ffa: UUID %q: want the 8-4-4-4-12 hex form", s)
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return UUID{}, fmt.Errorf("ffa: UUID %q: %v", s, err)
	}
	return u, nil
}

// MustParseUUID is ParseUUID for constants; it panics on a malformed string.
func MustParseUUID(s string) UUID {
	u, err := ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return u
}

// String renders the canonical lower-case form.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

// IsNil reports whether u is the Nil UUID.
func (u UUID) IsNil() bool { return u == NilUUID }

// Regs packs u into four 32-bit words the way Linux does for
// FFA_PARTITION_INFO_GET w1..w4: each word is four consecutive bytes read
// little-endian. 17b862a4-1806-4faf-86b3-089a58353861 packs as
// 0xa462b817, 0xaf4f0618, 0x9a08b386, 0x61383558.
func (u UUID) Regs() [4]uint32 {
	return [4]uint32{
		binary.LittleEndian.Uint32(u[0:4]),
		binary.LittleEndian.Uint32(u[4:8]),
		binary.LittleEndian.Uint32(u[8:12]),
		binary.LittleEndian.Uint32(u[12:16]),
	}
}

// UUIDFromRegs is the inverse of Regs.
func UUIDFromRegs(w [4]uint32) UUID {
	var u UUID
	for i, v := range w {
		binary.LittleEndian.PutUint32(u[4*i:], v)
	}
	return u
}

// Regs64 packs u into two 64-bit registers (little-endian halves), as Linux
// does for FFA_MSG_SEND_DIRECT_REQ2 x2/x3 and FFA_PARTITION_INFO_GET_REGS
// x1/x2.
func (u UUID) Regs64() [2]uint64 {
	return [2]uint64{binary.LittleEndian.Uint64(u[0:8]), binary.LittleEndian.Uint64(u[8:16])}
}

// UUIDFromRegs64 is the inverse of Regs64.
func UUIDFromRegs64(lo, hi uint64) UUID {
	var u UUID
	binary.LittleEndian.PutUint64(u[0:8], lo)
	binary.LittleEndian.PutUint64(u[8:16], hi)
	return u
}
