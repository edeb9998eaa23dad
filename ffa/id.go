package ffa

import "fmt"

// ID is a 16-bit FF-A endpoint or partition ID (DEN0077 "Partition identification").
// Secure endpoints have bit 15 set.
type ID uint16

// Well-known IDs.
const (
	// IDNormalWorld is the ID of the normal-world endpoint when no
	// hypervisor is present (or of the hypervisor itself).
	IDNormalWorld ID = 0
	// IDSPMCDefault is the SPMC ID used by Hafnium and TF-A reference builds.
	IDSPMCDefault ID = 0x8000
	// IDSPMD is the SPMD's ID in TF-A.
	IDSPMD ID = 0xFFFF
	// SecureBit marks a secure-world ID.
	SecureBit ID = 0x8000
)

// Secure reports whether bit 15 is set.
func (id ID) Secure() bool { return id&SecureBit != 0 }

// String renders "0x8001".
func (id ID) String() string { return fmt.Sprintf("%#04x", uint16(id)) }

// PackIDs builds the w1 word of a message ABI: sender in bits 31:16,
// receiver in bits 15:0.
func PackIDs(sender, receiver ID) uint32 { return uint32(sender)<<16 | uint32(receiver) }

// UnpackIDs splits a w1 word built by PackIDs.
func UnpackIDs(w uint32) (sender, receiver ID) { return ID(w >> 16), ID(w) }
