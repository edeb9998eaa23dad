package ffa

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// PartitionProperties is the 32-bit properties field of a partition
// information descriptor (DEN0077 v1.2 table "Partition properties").
type PartitionProperties uint32

// Partition property bits.
const (
	PropDirectReqRecv  PartitionProperties = 1 << 0 // receives FFA_MSG_SEND_DIRECT_REQ
	PropDirectReqSend  PartitionProperties = 1 << 1 // sends FFA_MSG_SEND_DIRECT_REQ
	PropIndirectMsg    PartitionProperties = 1 << 2 // indirect messages
	PropNotifications  PartitionProperties = 1 << 3 // receives notifications
	PropIDTypeMask     PartitionProperties = 3 << 4 // bits 5:4 partition ID type
	PropVMCreated      PartitionProperties = 1 << 6 // informed of VM creation (v1.1)
	PropVMDestroyed    PartitionProperties = 1 << 7 // informed of VM destruction (v1.1)
	PropAArch64        PartitionProperties = 1 << 8 // AArch64 execution state
	PropDirectReq2Recv PartitionProperties = 1 << 9 // receives FFA_MSG_SEND_DIRECT_REQ2 (v1.2)
	PropDirectReq2Send PartitionProperties = 1 << 10
)

// Partition ID types in bits 5:4.
const (
	IDTypePE         PartitionProperties = 0 << 4 // PE endpoint
	IDTypeSEPIDIndep PartitionProperties = 1 << 4 // SEPID of an independent peripheral device
	IDTypeSEPIDDep   PartitionProperties = 2 << 4 // SEPID of a dependent peripheral device
	IDTypeAux        PartitionProperties = 3 << 4 // auxiliary ID
)

// Has reports whether every bit of m is set.
func (p PartitionProperties) Has(m PartitionProperties) bool { return p&m == m }

// String lists the set bits by name.
func (p PartitionProperties) String() string {
	names := []struct {
		bit  PartitionProperties
		name string
	}{
		{PropDirectReqRecv, "direct-req-recv"}, {PropDirectReqSend, "direct-req-send"},
		{PropIndirectMsg, "indirect-msg"}, {PropNotifications, "notifications"},
		{PropVMCreated, "vm-created"}, {PropVMDestroyed, "vm-destroyed"},
		{PropAArch64, "aarch64"}, {PropDirectReq2Recv, "direct-req2-recv"},
		{PropDirectReq2Send, "direct-req2-send"},
	}
	var parts []string
	rest := p
	for _, n := range names {
		if p&n.bit != 0 {
			parts = append(parts, n.name)
			rest &^= n.bit
		}
	}
	if t := p & PropIDTypeMask; t != 0 {
		parts = append(parts, fmt.Sprintf("id-type=%d", t>>4))
		rest &^= PropIDTypeMask
	}
	if rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(rest)))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// Partition information descriptor sizes.
const (
	PartitionInfoSizeV1_0 = 8  // u16 ID, u16 exec contexts, u32 properties
	PartitionInfoSizeV1_1 = 24 // + 16-byte UUID
)

// PartitionInfoSize returns the descriptor size a caller at version v gets.
func PartitionInfoSize(v Version) int {
	if v.AtLeast(Version1_1) {
		return PartitionInfoSizeV1_1
	}
	return PartitionInfoSizeV1_0
}

// PartitionInfo is one partition information descriptor.
type PartitionInfo struct {
	ID           ID
	ExecContexts uint16
	Properties   PartitionProperties
	UUID         UUID // v1.1+ only; zero in v1.0 descriptors
}

// AppendBinary appends the descriptor in the given size (8 or 24 bytes).
func (pi PartitionInfo) AppendBinary(b []byte, size int) ([]byte, error) {
	if size != PartitionInfoSizeV1_0 && size != PartitionInfoSizeV1_1 {
		return b, fmt.Errorf("ffa: partition info descriptor size %d: want 8 or 24", size)
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(pi.ID))
	b = binary.LittleEndian.AppendUint16(b, pi.ExecContexts)
	b = binary.LittleEndian.AppendUint32(b, uint32(pi.Properties))
	if size == PartitionInfoSizeV1_1 {
		b = append(b, pi.UUID[:]...)
	}
	return b, nil
}

// PutBinary writes the descriptor into b, which must hold size bytes
// (8 or 24). It does not allocate.
func (pi PartitionInfo) PutBinary(b []byte, size int) error {
	if (size != PartitionInfoSizeV1_0 && size != PartitionInfoSizeV1_1) || len(b) < size {
		return fmt.Errorf("ffa: partition info descriptor size %d into %d bytes", size, len(b))
	}
	binary.LittleEndian.PutUint16(b[0:], uint16(pi.ID))
	binary.LittleEndian.PutUint16(b[2:], pi.ExecContexts)
	binary.LittleEndian.PutUint32(b[4:], uint32(pi.Properties))
	if size == PartitionInfoSizeV1_1 {
		copy(b[8:24], pi.UUID[:])
	}
	return nil
}

// ParsePartitionInfo decodes count descriptors of descSize bytes each from
// b, as Linux's __ffa_partition_info_get reads an RX buffer. descSize must be
// 8 or at least 24 (larger descriptors from newer versions are read by
// their first 24 bytes).
func ParsePartitionInfo(b []byte, count, descSize int) ([]PartitionInfo, error) {
	if descSize != PartitionInfoSizeV1_0 && descSize < PartitionInfoSizeV1_1 {
		return nil, fmt.Errorf("ffa: partition info descriptor size %d: want 8 or >= 24", descSize)
	}
	if count < 0 || descSize > 1<<16 {
		return nil, fmt.Errorf("ffa: partition info: bad count %d or size %d", count, descSize)
	}
	if count > len(b)/descSize {
		return nil, fmt.Errorf("ffa: partition info: %d descriptors of %d bytes do not fit in %d bytes", count, descSize, len(b))
	}
	out := make([]PartitionInfo, count)
	for i := range out {
		d := b[i*descSize:]
		out[i] = PartitionInfo{
			ID:           ID(binary.LittleEndian.Uint16(d[0:])),
			ExecContexts: binary.LittleEndian.Uint16(d[2:]),
			Properties:   PartitionProperties(binary.LittleEndian.Uint32(d[4:])),
		}
		if descSize >= PartitionInfoSizeV1_1 {
			copy(out[i].UUID[:], d[8:24])
		}
	}
	return out, nil
}

// Regs packs the descriptor into the three registers
// FFA_PARTITION_INFO_GET_REGS returns per partition:
// [id | exec<<16 | props<<32], UUID low, UUID high.
func (pi PartitionInfo) Regs() [3]uint64 {
	u := pi.UUID.Regs64()
	return [3]uint64{uint64(pi.ID) | uint64(pi.ExecContexts)<<16 | uint64(pi.Properties)<<32, u[0], u[1]}
}

// PartitionInfoFromRegs is the inverse of Regs.
func PartitionInfoFromRegs(r [3]uint64) PartitionInfo {
	return PartitionInfo{
		ID:           ID(r[0]),
		ExecContexts: uint16(r[0] >> 16),
		Properties:   PartitionProperties(r[0] >> 32),
		UUID:         UUIDFromRegs64(r[1], r[2]),
	}
}
