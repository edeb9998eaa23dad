package crb

import (
	"fmt"
	"strings"
)

// Geometry of the CRB register space (TCG PC Client PTP, "CRB Interface").
const (
	// NumLocalities is the number of localities (0..4) the interface serves.
	NumLocalities = 5
	// LocalityStride is the distance between two localities' register blocks.
	LocalityStride = 0x1000
	// WindowSize is the size of the whole MMIO window: five 4 KiB blocks.
	WindowSize = NumLocalities * LocalityStride
	// DataBufferOffset is where TPM_CRB_DATA_BUFFER_x starts in each block.
	DataBufferOffset = 0x80
	// DataBufferSize is the size of each locality's data buffer (0x80..0xFFF).
	DataBufferSize = LocalityStride - DataBufferOffset
	// ControlAreaOffset is the offset of TPM_CRB_CTRL_REQ_0, the "control
	// area" whose physical address the ACPI TPM2 table publishes. Linux
	// expects the locality registers to sit just below it.
	ControlAreaOffset = uint64(RegCtrlReq)
)

// Reg is a register offset inside one locality's 4 KiB block.
type Reg uint16

// Register offsets, named after the PTP's TPM_CRB_* registers.
const (
	RegLocState   Reg = 0x00 // TPM_LOC_STATE_x, 32-bit, read-only
	RegLocCtrl    Reg = 0x08 // TPM_LOC_CTRL_x, 32-bit, write-only
	RegLocSts     Reg = 0x0C // TPM_LOC_STS_x, 32-bit, read-only
	RegIntfID     Reg = 0x30 // TPM_CRB_INTF_ID_x, 64-bit, read-only
	RegCtrlExt    Reg = 0x38 // TPM_CRB_CTRL_EXT_x, 64-bit, reserved
	RegCtrlReq    Reg = 0x40 // TPM_CRB_CTRL_REQ_x, 32-bit, read/write
	RegCtrlSts    Reg = 0x44 // TPM_CRB_CTRL_STS_x, 32-bit, read-only
	RegCtrlCancel Reg = 0x48 // TPM_CRB_CTRL_CANCEL_x, 32-bit, read/write
	RegCtrlStart  Reg = 0x4C // TPM_CRB_CTRL_START_x, 32-bit, read/write-1
	RegIntEnable  Reg = 0x50 // TPM_CRB_INT_ENABLE_x, 32-bit, read/write
	RegIntSts     Reg = 0x54 // TPM_CRB_INT_STS_x, 32-bit, write-1-to-clear
	RegCmdSize    Reg = 0x58 // TPM_CRB_CTRL_CMD_SIZE_x, 32-bit, read/write
	RegCmdLAddr   Reg = 0x5C // TPM_CRB_CTRL_CMD_LADDR_x, 32-bit, read/write
	RegCmdHAddr   Reg = 0x60 // TPM_CRB_CTRL_CMD_HADDR_x, 32-bit, read/write
	RegRspSize    Reg = 0x64 // TPM_CRB_CTRL_RSP_SIZE_x, 32-bit, read/write
	RegRspAddr    Reg = 0x68 // TPM_CRB_CTRL_RSP_ADDR_x, 64-bit, read/write
	RegDataBuffer Reg = 0x80 // TPM_CRB_DATA_BUFFER_x, to 0xFFF
)

// Access is how software may use a register.
type Access uint8

// Register access kinds.
const (
	AccessReserved Access = iota // reads 0, writes ignored
	AccessRO                     // writes ignored
	AccessWO                     // reads 0
	AccessRW                     // read/write
	AccessRW1C                   // write 1 to clear
	AccessRW1S                   // write 1 to set, 0 ignored; the TPM clears
	AccessBuffer                 // byte-addressable data buffer
)

func (a Access) String() string {
	switch a {
	case AccessReserved:
		return "reserved"
	case AccessRO:
		return "RO"
	case AccessWO:
		return "WO"
	case AccessRW:
		return "RW"
	case AccessRW1C:
		return "RW1C"
	case AccessRW1S:
		return "RW1S"
	case AccessBuffer:
		return "buffer"
	}
	return fmt.Sprintf("Access(%d)", uint8(a))
}

// RegInfo describes one register: its spec name, width, access and the bits
// the PTP defines (bits outside Mask are reserved: read 0, writes ignored).
type RegInfo struct {
	Reg    Reg
	Name   string
	Width  int // bytes
	Access Access
	Mask   uint64
	Bits   []Bit
}

// Bit names one field of a register.
type Bit struct {
	Name  string
	Shift uint
	Width uint
}

// Registers returns the register map, sorted by offset. The data buffer is
// the last entry. It is a fresh slice on every call.
func Registers() []RegInfo {
	return []RegInfo{
		{RegLocState, "TPM_LOC_STATE", 4, AccessRO, 0x9F, []Bit{
			{"tpmEstablished", 0, 1}, {"locAssigned", 1, 1}, {"activeLocality", 2, 3}, {"tpmRegValidSts", 7, 1}}},
		{RegLocCtrl, "TPM_LOC_CTRL", 4, AccessWO, 0xF, []Bit{
			{"requestAccess", 0, 1}, {"relinquish", 1, 1}, {"seize", 2, 1}, {"resetEstablishmentBit", 3, 1}}},
		{RegLocSts, "TPM_LOC_STS", 4, AccessRO, 0x3, []Bit{
			{"Granted", 0, 1}, {"beenSeized", 1, 1}}},
		{RegIntfID, "TPM_CRB_INTF_ID", 8, AccessRO, ^uint64(0), []Bit{
			{"InterfaceType", 0, 4}, {"InterfaceVersion", 4, 4}, {"CapLocality", 8, 1},
			{"CapCRBIdleBypass", 9, 1}, {"CapDataXferSizeSupport", 11, 2}, {"CapFIFO", 13, 1},
			{"CapCRB", 14, 1}, {"InterfaceSelector", 17, 2}, {"IntfSelLock", 19, 1},
			{"RID", 24, 8}, {"VID", 32, 16}, {"DID", 48, 16}}},
		{RegCtrlExt, "TPM_CRB_CTRL_EXT", 8, AccessReserved, 0, nil},
		{RegCtrlReq, "TPM_CRB_CTRL_REQ", 4, AccessRW1S, 0x3, []Bit{
			{"cmdReady", 0, 1}, {"goIdle", 1, 1}}},
		{RegCtrlSts, "TPM_CRB_CTRL_STS", 4, AccessRO, 0x3, []Bit{
			{"tpmSts", 0, 1}, {"tpmIdle", 1, 1}}},
		{RegCtrlCancel, "TPM_CRB_CTRL_CANCEL", 4, AccessRW, 0x1, []Bit{{"Cancel", 0, 1}}},
		{RegCtrlStart, "TPM_CRB_CTRL_START", 4, AccessRW1S, 0x1, []Bit{{"Start", 0, 1}}},
		{RegIntEnable, "TPM_CRB_INT_ENABLE", 4, AccessRW, 0x8000000F, []Bit{
			{"startIntEnable", 0, 1}, {"cmdReadyIntEnable", 1, 1}, {"establishmentClearIntEnable", 2, 1},
			{"localityChangeIntEnable", 3, 1}, {"globalInterruptEnable", 31, 1}}},
		{RegIntSts, "TPM_CRB_INT_STS", 4, AccessRW1C, 0xF, []Bit{
			{"startInt", 0, 1}, {"cmdReadyInt", 1, 1}, {"establishmentClearInt", 2, 1}, {"localityChangeInt", 3, 1}}},
		{RegCmdSize, "TPM_CRB_CTRL_CMD_SIZE", 4, AccessRW, 0xFFFFFFFF, nil},
		{RegCmdLAddr, "TPM_CRB_CTRL_CMD_LADDR", 4, AccessRW, 0xFFFFFFFF, nil},
		{RegCmdHAddr, "TPM_CRB_CTRL_CMD_HADDR", 4, AccessRW, 0xFFFFFFFF, nil},
		{RegRspSize, "TPM_CRB_CTRL_RSP_SIZE", 4, AccessRW, 0xFFFFFFFF, nil},
		{RegRspAddr, "TPM_CRB_CTRL_RSP_ADDR", 8, AccessRW, ^uint64(0), nil},
		{RegDataBuffer, "TPM_CRB_DATA_BUFFER", DataBufferSize, AccessBuffer, 0, nil},
	}
}

// String returns the register's spec name, or the offset for an offset that
// names no register (a reserved hole) and "+n" inside a register.
func (r Reg) String() string {
	if r >= RegDataBuffer && r < LocalityStride {
		if r == RegDataBuffer {
			return "TPM_CRB_DATA_BUFFER"
		}
		return fmt.Sprintf("TPM_CRB_DATA_BUFFER+%#x", uint16(r-RegDataBuffer))
	}
	for _, ri := range Registers() {
		if r == ri.Reg {
			return ri.Name
		}
		if r > ri.Reg && int(r) < int(ri.Reg)+ri.Width {
			return fmt.Sprintf("%s+%d", ri.Name, r-ri.Reg)
		}
	}
	return fmt.Sprintf("reserved(%#x)", uint16(r))
}

// Bit masks, named after the PTP fields.
const (
	LocStateTPMEstablished uint32 = 1 << 0
	LocStateLocAssigned    uint32 = 1 << 1
	LocStateActiveShift           = 2
	LocStateActiveMask     uint32 = 7 << LocStateActiveShift
	LocStateRegValidSts    uint32 = 1 << 7

	LocCtrlRequestAccess      uint32 = 1 << 0
	LocCtrlRelinquish         uint32 = 1 << 1
	LocCtrlSeize              uint32 = 1 << 2
	LocCtrlResetEstablishment uint32 = 1 << 3

	LocStsGranted    uint32 = 1 << 0
	LocStsBeenSeized uint32 = 1 << 1

	CtrlReqCmdReady uint32 = 1 << 0
	CtrlReqGoIdle   uint32 = 1 << 1

	CtrlStsTPMSts  uint32 = 1 << 0 // fatal error
	CtrlStsTPMIdle uint32 = 1 << 1

	CtrlCancelInvoke uint32 = 1 << 0
	CtrlStartInvoke  uint32 = 1 << 0

	IntStart              uint32 = 1 << 0
	IntCmdReady           uint32 = 1 << 1
	IntEstablishmentClear uint32 = 1 << 2
	IntLocalityChange     uint32 = 1 << 3
	IntGlobalEnable       uint32 = 1 << 31
)

// INTF_ID fields.
const (
	IntfTypeCRB          uint64 = 1      // InterfaceType = CRB active
	IntfVersionCRB       uint64 = 1 << 4 // InterfaceVersion = CRB
	IntfCapLocality      uint64 = 1 << 8 // five localities
	IntfCapCRBIdleBypass uint64 = 1 << 9 // Start accepted in Idle
	IntfCapXfer64        uint64 = 3 << 11
	IntfCapCRB           uint64 = 1 << 14
	IntfSelectorCRB      uint64 = 1 << 17
	IntfSelLock          uint64 = 1 << 19
)

// DescribeBits renders v with the field names of register r, e.g.
// "cmdReady|goIdle" or "activeLocality=2|locAssigned".
func DescribeBits(r Reg, v uint64) string {
	for _, ri := range Registers() {
		if ri.Reg != r {
			continue
		}
		if len(ri.Bits) == 0 {
			return fmt.Sprintf("%#x", v)
		}
		var parts []string
		var known uint64
		for _, b := range ri.Bits {
			m := (uint64(1)<<b.Width - 1) << b.Shift
			known |= m
			f := (v & m) >> b.Shift
			if b.Width == 1 {
				if f != 0 {
					parts = append(parts, b.Name)
				}
			} else if f != 0 {
				parts = append(parts, fmt.Sprintf("%s=%#x", b.Name, f))
			}
		}
		if rest := v &^ known; rest != 0 {
			parts = append(parts, fmt.Sprintf("reserved=%#x", rest))
		}
		if len(parts) == 0 {
			return "0"
		}
		return strings.Join(parts, "|")
	}
	return fmt.Sprintf("%#x", v)
}
