package ffa

import "fmt"

// FuncID is an FF-A function identifier (w0). SMC32 IDs are
// 0x84000000|n, SMC64 IDs 0xC4000000|n (SMCCC fast calls, standard secure
// service range).
type FuncID uint32

// Calling-convention bits of a function ID.
const (
	fidFast  FuncID = 1 << 31
	fidSMC64 FuncID = 1 << 30
	smc32    FuncID = 0x8400_0000
	smc64    FuncID = 0xC400_0000
)

// Function IDs of FF-A v1.0 .. v1.2 (DEN0077 v1.2 "Function IDs" table).
const (
	FuncError                     = smc32 | 0x60
	FuncSuccess32                 = smc32 | 0x61
	FuncSuccess64                 = smc64 | 0x61
	FuncInterrupt                 = smc32 | 0x62
	FuncVersion                   = smc32 | 0x63
	FuncFeatures                  = smc32 | 0x64
	FuncRxRelease                 = smc32 | 0x65
	FuncRxTxMap32                 = smc32 | 0x66
	FuncRxTxMap64                 = smc64 | 0x66
	FuncRxTxUnmap                 = smc32 | 0x67
	FuncPartitionInfoGet          = smc32 | 0x68
	FuncIDGet                     = smc32 | 0x69
	FuncMsgPoll                   = smc32 | 0x6A
	FuncMsgWait                   = smc32 | 0x6B
	FuncYield                     = smc32 | 0x6C
	FuncRun                       = smc32 | 0x6D
	FuncMsgSend                   = smc32 | 0x6E
	FuncMsgSendDirectReq          = smc32 | 0x6F
	FuncMsgSendDirectReq64        = smc64 | 0x6F
	FuncMsgSendDirectResp         = smc32 | 0x70
	FuncMsgSendDirectResp64       = smc64 | 0x70
	FuncMemDonate32               = smc32 | 0x71
	FuncMemDonate64               = smc64 | 0x71
	FuncMemLend32                 = smc32 | 0x72
	FuncMemLend64                 = smc64 | 0x72
	FuncMemShare32                = smc32 | 0x73
	FuncMemShare64                = smc64 | 0x73
	FuncMemRetrieveReq32          = smc32 | 0x74
	FuncMemRetrieveReq64          = smc64 | 0x74
	FuncMemRetrieveResp           = smc32 | 0x75
	FuncMemRelinquish             = smc32 | 0x76
	FuncMemReclaim                = smc32 | 0x77
	FuncMemOpPause                = smc32 | 0x78
	FuncMemOpResume               = smc32 | 0x79
	FuncMemFragRx                 = smc32 | 0x7A
	FuncMemFragTx                 = smc32 | 0x7B
	FuncNormalWorldResume         = smc32 | 0x7C
	FuncNotificationBitmapCreate  = smc32 | 0x7D
	FuncNotificationBitmapDestroy = smc32 | 0x7E
	FuncNotificationBind          = smc32 | 0x7F
	FuncNotificationUnbind        = smc32 | 0x80
	FuncNotificationSet           = smc32 | 0x81
	FuncNotificationGet           = smc32 | 0x82
	FuncNotificationInfoGet32     = smc32 | 0x83
	FuncNotificationInfoGet64     = smc64 | 0x83
	FuncRxAcquire                 = smc32 | 0x84
	FuncSpmIDGet                  = smc32 | 0x85
	FuncMsgSend2                  = smc32 | 0x86
	FuncSecondaryEPRegister32     = smc32 | 0x87
	FuncSecondaryEPRegister       = smc64 | 0x87
	FuncMemPermGet32              = smc32 | 0x88
	FuncMemPermGet64              = smc64 | 0x88
	FuncMemPermSet32              = smc32 | 0x89
	FuncMemPermSet64              = smc64 | 0x89
	FuncConsoleLog32              = smc32 | 0x8A
	FuncConsoleLog64              = smc64 | 0x8A
	FuncPartitionInfoGetRegs      = smc64 | 0x8B
	FuncEL3IntrHandle             = smc32 | 0x8C
	FuncMsgSendDirectReq2         = smc64 | 0x8D
	FuncMsgSendDirectResp2        = smc64 | 0x8E
)

// Is64 reports whether the ID uses the SMC64 convention.
func (f FuncID) Is64() bool { return f&fidSMC64 != 0 }

// Num returns the function number (bits 15:0).
func (f FuncID) Num() uint16 { return uint16(f) }

// String returns the spec name with a _32/_64 suffix where both forms exist,
// e.g. "FFA_MSG_SEND_DIRECT_REQ_64", or "FuncID(0x...)" for unknown IDs.
func (f FuncID) String() string {
	if fi, ok := LookupFunc(f); ok {
		return fi.FullName()
	}
	return fmt.Sprintf("FuncID(%#08x)", uint32(f))
}

// Conv is the SMC calling convention of a function ID.
type Conv uint8

// Calling conventions.
const (
	SMC32 Conv = 32
	SMC64 Conv = 64
)

// String returns "SMC32" or "SMC64".
func (c Conv) String() string { return fmt.Sprintf("SMC%d", uint8(c)) }

// Role says how an ABI is used at the normal-world instance of the SPMC.
type Role uint8

// Roles.
const (
	// RoleCall: the normal world invokes it and the SPMC answers.
	RoleCall Role = iota + 1
	// RoleReturn: it only ever comes back from the SPMC or is sent by a
	// partition (FFA_ERROR, FFA_SUCCESS, direct responses, FFA_INTERRUPT).
	RoleReturn
)

// String names the role.
func (r Role) String() string {
	switch r {
	case RoleCall:
		return "call"
	case RoleReturn:
		return "return"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// FuncInfo is one row of the support table.
type FuncInfo struct {
	ID      FuncID
	Name    string  // spec name without the _32/_64 suffix
	Since   Version // version that introduced the function ID
	Removed Version // first version without it (0 = still defined in v1.2)
	Role    Role
	// Supported: the SPMC of this model serves (RoleCall) or produces
	// (RoleReturn) this ABI at its normal-world instance; FFA_FEATURES
	// answers SUCCESS exactly for these.
	Supported bool
	Note      string
}

// Conv returns the calling convention.
func (fi FuncInfo) Conv() Conv {
	if fi.ID.Is64() {
		return SMC64
	}
	return SMC32
}

// FullName returns Name with _32 or _64 appended when both forms of the
// function number exist.
func (fi FuncInfo) FullName() string {
	other := fi.ID ^ fidSMC64
	if _, ok := LookupFunc(other); ok {
		if fi.ID.Is64() {
			return fi.Name + "_64"
		}
		return fi.Name + "_32"
	}
	return fi.Name
}

// funcTable is the support table. It is read-only: never modify it.
// Keep it sorted by function number, then SMC32 before SMC64.
var funcTable = [...]FuncInfo{
	{FuncError, "FFA_ERROR", Version1_0, 0, RoleReturn, true, "returned with a status code in w2"},
	{FuncSuccess32, "FFA_SUCCESS", Version1_0, 0, RoleReturn, true, ""},
	{FuncSuccess64, "FFA_SUCCESS", Version1_0, 0, RoleReturn, true, "returned by PARTITION_INFO_GET_REGS"},
	{FuncInterrupt, "FFA_INTERRUPT", Version1_0, 0, RoleReturn, false, "no interrupts are modelled"},
	{FuncVersion, "FFA_VERSION", Version1_0, 0, RoleCall, true, "Hafnium-like by default; EL3-like selectable"},
	{FuncFeatures, "FFA_FEATURES", Version1_0, 0, RoleCall, true, "answers from this table; feature IDs NPI/SRI/MEI not supported"},
	{FuncRxRelease, "FFA_RX_RELEASE", Version1_0, 0, RoleCall, true, ""},
	{FuncRxTxMap32, "FFA_RXTX_MAP", Version1_0, 0, RoleCall, false, "AArch32 callers only; not served at the 64-bit normal-world instance"},
	{FuncRxTxMap64, "FFA_RXTX_MAP", Version1_0, 0, RoleCall, true, "buffers checked against the phys memory map"},
	{FuncRxTxUnmap, "FFA_RXTX_UNMAP", Version1_0, 0, RoleCall, true, ""},
	{FuncPartitionInfoGet, "FFA_PARTITION_INFO_GET", Version1_0, 0, RoleCall, true, "v1.0 (8 B) or v1.1+ (24 B) descriptors by negotiated version; count-only flag"},
	{FuncIDGet, "FFA_ID_GET", Version1_0, 0, RoleCall, true, ""},
	{FuncMsgPoll, "FFA_MSG_POLL", Version1_0, Version1_1, RoleCall, false, "legacy v1.0 indirect messaging"},
	{FuncMsgWait, "FFA_MSG_WAIT", Version1_0, 0, RoleCall, false, "partition-side ABI; partitions are Go handlers here"},
	{FuncYield, "FFA_YIELD", Version1_0, 0, RoleCall, false, "partition-side ABI"},
	{FuncRun, "FFA_RUN", Version1_0, 0, RoleCall, false, "partitions never return INTERRUPT/YIELD here"},
	{FuncMsgSend, "FFA_MSG_SEND", Version1_0, Version1_1, RoleCall, false, "legacy v1.0 indirect messaging"},
	{FuncMsgSendDirectReq, "FFA_MSG_SEND_DIRECT_REQ", Version1_0, 0, RoleCall, true, "w3..w7 payload"},
	{FuncMsgSendDirectReq64, "FFA_MSG_SEND_DIRECT_REQ", Version1_0, 0, RoleCall, true, "x3..x7 payload"},
	{FuncMsgSendDirectResp, "FFA_MSG_SEND_DIRECT_RESP", Version1_0, 0, RoleReturn, true, "sent by partitions; INVALID_PARAMETERS from the normal world"},
	{FuncMsgSendDirectResp64, "FFA_MSG_SEND_DIRECT_RESP", Version1_0, 0, RoleReturn, true, "sent by partitions; INVALID_PARAMETERS from the normal world"},
	{FuncMemDonate32, "FFA_MEM_DONATE", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemDonate64, "FFA_MEM_DONATE", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemLend32, "FFA_MEM_LEND", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemLend64, "FFA_MEM_LEND", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemShare32, "FFA_MEM_SHARE", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemShare64, "FFA_MEM_SHARE", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemRetrieveReq32, "FFA_MEM_RETRIEVE_REQ", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemRetrieveReq64, "FFA_MEM_RETRIEVE_REQ", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemRetrieveResp, "FFA_MEM_RETRIEVE_RESP", Version1_0, 0, RoleReturn, false, "memory management not modelled"},
	{FuncMemRelinquish, "FFA_MEM_RELINQUISH", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemReclaim, "FFA_MEM_RECLAIM", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemOpPause, "FFA_MEM_OP_PAUSE", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemOpResume, "FFA_MEM_OP_RESUME", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemFragRx, "FFA_MEM_FRAG_RX", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncMemFragTx, "FFA_MEM_FRAG_TX", Version1_0, 0, RoleCall, false, "memory management not modelled"},
	{FuncNormalWorldResume, "FFA_NORMAL_WORLD_RESUME", Version1_1, 0, RoleCall, false, "partition-side ABI"},
	{FuncNotificationBitmapCreate, "FFA_NOTIFICATION_BITMAP_CREATE", Version1_1, 0, RoleCall, false, "notifications not modelled (Linux logs that setup failed, not fatal)"},
	{FuncNotificationBitmapDestroy, "FFA_NOTIFICATION_BITMAP_DESTROY", Version1_1, 0, RoleCall, false, "notifications not modelled"},
	{FuncNotificationBind, "FFA_NOTIFICATION_BIND", Version1_1, 0, RoleCall, false, "notifications not modelled"},
	{FuncNotificationUnbind, "FFA_NOTIFICATION_UNBIND", Version1_1, 0, RoleCall, false, "notifications not modelled"},
	{FuncNotificationSet, "FFA_NOTIFICATION_SET", Version1_1, 0, RoleCall, false, "notifications not modelled"},
	{FuncNotificationGet, "FFA_NOTIFICATION_GET", Version1_1, 0, RoleCall, false, "notifications not modelled"},
	{FuncNotificationInfoGet32, "FFA_NOTIFICATION_INFO_GET", Version1_1, 0, RoleCall, false, "notifications not modelled"},
	{FuncNotificationInfoGet64, "FFA_NOTIFICATION_INFO_GET", Version1_1, 0, RoleCall, false, "notifications not modelled"},
	{FuncRxAcquire, "FFA_RX_ACQUIRE", Version1_1, 0, RoleCall, false, "hypervisor-to-SPMC ABI; no hypervisor is modelled"},
	{FuncSpmIDGet, "FFA_SPM_ID_GET", Version1_1, 0, RoleCall, true, ""},
	{FuncMsgSend2, "FFA_MSG_SEND2", Version1_1, 0, RoleCall, false, "indirect messaging not modelled"},
	{FuncSecondaryEPRegister32, "FFA_SECONDARY_EP_REGISTER", Version1_1, 0, RoleCall, false, "partition-side ABI"},
	{FuncSecondaryEPRegister, "FFA_SECONDARY_EP_REGISTER", Version1_1, 0, RoleCall, false, "partition-side ABI"},
	{FuncMemPermGet32, "FFA_MEM_PERM_GET", Version1_1, 0, RoleCall, false, "partition-side ABI"},
	{FuncMemPermGet64, "FFA_MEM_PERM_GET", Version1_1, 0, RoleCall, false, "partition-side ABI"},
	{FuncMemPermSet32, "FFA_MEM_PERM_SET", Version1_1, 0, RoleCall, false, "partition-side ABI"},
	{FuncMemPermSet64, "FFA_MEM_PERM_SET", Version1_1, 0, RoleCall, false, "partition-side ABI"},
	{FuncConsoleLog32, "FFA_CONSOLE_LOG", Version1_2, 0, RoleCall, false, "partition-side ABI"},
	{FuncConsoleLog64, "FFA_CONSOLE_LOG", Version1_2, 0, RoleCall, false, "partition-side ABI"},
	{FuncPartitionInfoGetRegs, "FFA_PARTITION_INFO_GET_REGS", Version1_2, 0, RoleCall, true, "no tags: a nonzero tag gets RETRY"},
	{FuncEL3IntrHandle, "FFA_EL3_INTR_HANDLE", Version1_2, 0, RoleCall, false, "SPMC-to-SPMD ABI"},
	{FuncMsgSendDirectReq2, "FFA_MSG_SEND_DIRECT_REQ2", Version1_2, 0, RoleCall, true, "x4..x17 payload, service UUID in x2/x3"},
	{FuncMsgSendDirectResp2, "FFA_MSG_SEND_DIRECT_RESP2", Version1_2, 0, RoleReturn, true, "sent by partitions; INVALID_PARAMETERS from the normal world"},
}

// Funcs returns a fresh copy of the support table: every function ID of
// FF-A v1.0 .. v1.2, sorted by function number (SMC32 first).
func Funcs() []FuncInfo {
	out := make([]FuncInfo, len(funcTable))
	copy(out, funcTable[:])
	return out
}

// funcIndex maps (function number - 0x60, SMC64) to 1 + the row in
// funcTable (0 = no such function). It is computed once from funcTable and
// never modified.
var funcIndex = func() (ix [0x8F - 0x60][2]uint8) {
	for i, fi := range funcTable {
		w := 0
		if fi.ID.Is64() {
			w = 1
		}
		ix[fi.ID.Num()-0x60][w] = uint8(i + 1)
	}
	return ix
}()

// LookupFunc finds the support-table row of id. It does not allocate.
func LookupFunc(id FuncID) (FuncInfo, bool) {
	w := 0
	switch id & 0xFFFF_FF00 {
	case smc32:
	case smc64:
		w = 1
	default:
		return FuncInfo{}, false
	}
	n := int(id.Num()) - 0x60
	if n < 0 || n >= len(funcIndex) {
		return FuncInfo{}, false
	}
	if i := funcIndex[n][w]; i != 0 {
		return funcTable[i-1], true
	}
	return FuncInfo{}, false
}

// DefinedIn reports whether the function ID exists at version v.
func (fi FuncInfo) DefinedIn(v Version) bool {
	if !v.AtLeast(fi.Since) {
		return false
	}
	return fi.Removed == 0 || !v.AtLeast(fi.Removed)
}
