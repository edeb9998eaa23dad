package tpm2acpi

import (
	"encoding/binary"
	"fmt"
)

// Signature is the table signature.
const Signature = "TPM2"

// Revision is the table revision this package builds.
const Revision = 4

// StartMethod is the TPM2 table's start method field.
type StartMethod uint32

// Start methods (TCG ACPI specification; Linux actbl3.h names).
const (
	StartMethodACPI          StartMethod = 2  // ACPI_TPM2_START_METHOD
	StartMethodMemoryMapped  StartMethod = 6  // ACPI_TPM2_MEMORY_MAPPED (TIS/FIFO)
	StartMethodCRB           StartMethod = 7  // ACPI_TPM2_COMMAND_BUFFER
	StartMethodCRBACPI       StartMethod = 8  // ACPI_TPM2_COMMAND_BUFFER_WITH_START_METHOD
	StartMethodCRBArmSMC     StartMethod = 11 // ACPI_TPM2_COMMAND_BUFFER_WITH_ARM_SMC
	StartMethodCRBPluton     StartMethod = 13 // ACPI_TPM2_COMMAND_BUFFER_WITH_PLUTON
	StartMethodCRBWithArmFFA StartMethod = 15 // ACPI_TPM2_CRB_WITH_ARM_FFA
)

func (m StartMethod) String() string {
	switch m {
	case StartMethodACPI:
		return "ACPI start"
	case StartMethodMemoryMapped:
		return "memory mapped (FIFO)"
	case StartMethodCRB:
		return "command response buffer"
	case StartMethodCRBACPI:
		return "CRB with ACPI start"
	case StartMethodCRBArmSMC:
		return "CRB with Arm SMC"
	case StartMethodCRBPluton:
		return "CRB with Pluton"
	case StartMethodCRBWithArmFFA:
		return "CRB with Arm FF-A"
	}
	return fmt.Sprintf("StartMethod(%d)", uint32(m))
}

// paramSize returns the size of the start-method specific parameters.
func (m StartMethod) paramSize() int {
	switch m {
	case StartMethodCRBWithArmFFA, StartMethodCRBArmSMC:
		return 12
	case StartMethodCRBPluton:
		return 16
	}
	return 4
}

// FFA flags (byte 0 of the FF-A start-method parameters).
const (
	FFAFlagNotifications uint8 = 1 << 0 // the TPM service supports notifications
)

// FFAParams are the start-method parameters of start method 15.
type FFAParams struct {
	Flags       uint8
	Attributes  uint8
	PartitionID uint16
}

// Header is the common ACPI table header.
type Header struct {
	Signature       [4]byte
	Length          uint32
	Revision        uint8
	Checksum        uint8
	OEMID           [6]byte
	OEMTableID      [8]byte
	OEMRevision     uint32
	CreatorID       [4]byte
	CreatorRevision uint32
}

// HeaderSize is the size of the ACPI header.
const HeaderSize = 36

// Table is a TPM2 table.
type Table struct {
	Header        Header // Signature, Length, Checksum are filled in by Build
	PlatformClass uint16 // 0 client, 1 server
	ControlArea   uint64 // physical address of TPM_CRB_CTRL_REQ_0
	StartMethod   StartMethod
	FFA           FFAParams // used when StartMethod is 15
	Params        []byte    // raw parameters for other start methods
	HasLog        bool      // include LAML and LASA
	LogMinLength  uint32
	LogStart      uint64
}

// Default OEM fields used by Build when the header leaves them empty.
const (
	DefaultOEMID      = "FFATPM"
	DefaultOEMTableID = "FFATPM2 "
	DefaultCreatorID  = "FFAT"
)

// New returns a revision 4 table for a CRB at controlArea served by the
// FF-A partition partitionID.
func New(controlArea uint64, partitionID uint16, flags uint8) Table {
	return Table{
		Header:      Header{Revision: Revision},
		ControlArea: controlArea,
		StartMethod: StartMethodCRBWithArmFFA,
		FFA:         FFAParams{Flags: flags, PartitionID: partitionID},
	}
}

// Build serialises the table with the signature, length and checksum set.
func Build(t Table) ([]byte, error) {
	ps := t.StartMethod.paramSize()
	var params []byte
	if t.StartMethod == StartMethodCRBWithArmFFA {
		params = make([]byte, ps)
		params[0] = t.FFA.Flags
		params[1] = t.FFA.Attributes
		binary.LittleEndian.PutUint16(params[2:], t.FFA.PartitionID)
	} else {
		if t.Params != nil && len(t.Params) != ps {
			return nil, fmt.Errorf("tpm2acpi: start method %d takes %d parameter bytes, got %d", t.StartMethod, ps, len(t.Params))
		}
		params = make([]byte, ps)
		copy(params, t.Params)
	}
	n := HeaderSize + 16 + ps
	if t.HasLog {
		n += 12
	}
	b := make([]byte, n)
	h := t.Header
	copy(b[0:4], Signature)
	binary.LittleEndian.PutUint32(b[4:], uint32(n))
	if h.Revision == 0 {
		h.Revision = Revision
	}
	b[8] = h.Revision
	if h.OEMID == ([6]byte{}) {
		copy(h.OEMID[:], DefaultOEMID)
	}
	if h.OEMTableID == ([8]byte{}) {
		copy(h.OEMTableID[:], DefaultOEMTableID)
	}
	if h.CreatorID == ([4]byte{}) {
		copy(h.CreatorID[:], DefaultCreatorID)
	}
	copy(b[10:16], h.OEMID[:])
	copy(b[16:24], h.OEMTableID[:])
	binary.LittleEndian.PutUint32(b[24:], h.OEMRevision)
	copy(b[28:32], h.CreatorID[:])
	binary.LittleEndian.PutUint32(b[32:], h.CreatorRevision)
	binary.LittleEndian.PutUint16(b[36:], t.PlatformClass)
	binary.LittleEndian.PutUint64(b[40:], t.ControlArea)
	binary.LittleEndian.PutUint32(b[48:], uint32(t.StartMethod))
	copy(b[52:], params)
	if t.HasLog {
		o := 52 + ps
		binary.LittleEndian.PutUint32(b[o:], t.LogMinLength)
		binary.LittleEndian.PutUint64(b[o+4:], t.LogStart)
	}
	b[9] = checksum(b)
	return b, nil
}

// checksum returns the byte that makes the sum of b (with b[9] = 0) zero.
func checksum(b []byte) uint8 {
	var s uint8
	for i, c := range b {
		if i != 9 {
			s += c
		}
	}
	return -s
}

// ParseError names the field that made a table invalid.
type ParseError struct {
	Field  string
	Offset int
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("tpm2acpi: %s at offset %d: %s", e.Field, e.Offset, e.Reason)
}

// Parse reads a TPM2 table, checking signature, length, checksum, revision
// and the start-method parameter size.
func Parse(b []byte) (Table, error) {
	var t Table
	fail := func(field string, off int, format string, a ...any) (Table, error) {
		return Table{}, &ParseError{Field: field, Offset: off, Reason: fmt.Sprintf(format, a...)}
	}
	if len(b) < HeaderSize {
		return fail("header", 0, "table is %d bytes, shorter than the %d-byte ACPI header", len(b), HeaderSize)
	}
	if string(b[0:4]) != Signature {
		return fail("Signature", 0, "got %q, want %q", b[0:4], Signature)
	}
	length := binary.LittleEndian.Uint32(b[4:])
	if uint64(length) != uint64(len(b)) {
		return fail("Length", 4, "header says %d bytes, buffer holds %d", length, len(b))
	}
	if length < HeaderSize+16 {
		return fail("Length", 4, "%d bytes is too short for a TPM2 table (minimum %d)", length, HeaderSize+16)
	}
	var sum uint8
	for _, c := range b {
		sum += c
	}
	if sum != 0 {
		return fail("Checksum", 9, "bytes sum to %#x, not 0", sum)
	}
	h := &t.Header
	copy(h.Signature[:], b[0:4])
	h.Length = length
	h.Revision = b[8]
	h.Checksum = b[9]
	copy(h.OEMID[:], b[10:16])
	copy(h.OEMTableID[:], b[16:24])
	h.OEMRevision = binary.LittleEndian.Uint32(b[24:])
	copy(h.CreatorID[:], b[28:32])
	h.CreatorRevision = binary.LittleEndian.Uint32(b[32:])
	if h.Revision < 3 {
		return fail("Revision", 8, "revision %d predates the TPM 2.0 CRB table (want 3 or 4)", h.Revision)
	}
	t.PlatformClass = binary.LittleEndian.Uint16(b[36:])
	if t.PlatformClass > 1 {
		return fail("PlatformClass", 36, "%d is neither client (0) nor server (1)", t.PlatformClass)
	}
	if r := binary.LittleEndian.Uint16(b[38:]); r != 0 {
		return fail("Reserved", 38, "must be zero, got %#x", r)
	}
	t.ControlArea = binary.LittleEndian.Uint64(b[40:])
	t.StartMethod = StartMethod(binary.LittleEndian.Uint32(b[48:]))
	ps := t.StartMethod.paramSize()
	rest := int(length) - 52
	switch rest {
	case ps:
	case ps + 12:
		t.HasLog = true
	default:
		return fail("StartMethodParameters", 52, "%d bytes follow the start method; start method %d needs %d (or %d with the log area fields)",
			rest, uint32(t.StartMethod), ps, ps+12)
	}
	p := b[52 : 52+ps]
	if t.StartMethod == StartMethodCRBWithArmFFA {
		t.FFA = FFAParams{Flags: p[0], Attributes: p[1], PartitionID: binary.LittleEndian.Uint16(p[2:])}
		for i, c := range p[4:] {
			if c != 0 {
				return fail("StartMethodParameters.Reserved", 56+i, "must be zero, got %#x", c)
			}
		}
		if t.FFA.Flags&^FFAFlagNotifications != 0 {
			return fail("StartMethodParameters.Flags", 52, "reserved flag bits set: %#x", t.FFA.Flags)
		}
	} else {
		t.Params = append([]byte(nil), p...)
	}
	if t.HasLog {
		o := 52 + ps
		t.LogMinLength = binary.LittleEndian.Uint32(b[o:])
		t.LogStart = binary.LittleEndian.Uint64(b[o+4:])
	}
	return t, nil
}
