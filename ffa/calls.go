package ffa

// Typed request and response values for the calls this model serves, with
// Encode (to a register frame) and Decode (from one). Decoders check the
// function ID (ErrNotSupported when it is not the call's) and the
// must-be-zero bits the call defines (ErrInvalidParameters); semantic checks
// (is the receiver known, is the version high enough ...) are the callee's.
// For SMC32 calls only the low 32 bits of x1..x7 are read, as the SMC
// Calling Convention requires of a callee.

func wantFunc(f Frame, ids ...FuncID) error {
	fn := f.Func()
	for _, id := range ids {
		if fn == id {
			return nil
		}
	}
	return ErrNotSupported
}

// VersionReq is FFA_VERSION: w1 = the caller's version.
type VersionReq struct{ Version Version }

// Encode builds the call frame.
func (r VersionReq) Encode() Frame { return Frame{uint64(FuncVersion), uint64(r.Version)} }

// DecodeVersionReq reads an FFA_VERSION call.
func DecodeVersionReq(f Frame) (VersionReq, error) {
	if err := wantFunc(f, FuncVersion); err != nil {
		return VersionReq{}, err
	}
	return VersionReq{Version(f.W(1))}, nil
}

// VersionResp is the FFA_VERSION result: the callee's version in w0, or
// NOT_SUPPORTED (0xFFFFFFFF).
type VersionResp struct {
	Version      Version
	NotSupported bool
}

// Encode builds the result frame.
func (r VersionResp) Encode() Frame {
	if r.NotSupported {
		return Frame{uint64(VersionNotSupported)}
	}
	return Frame{uint64(r.Version)}
}

// DecodeVersionResp reads an FFA_VERSION result. A w0 with bit 31 set other
// than NOT_SUPPORTED is invalid.
func DecodeVersionResp(f Frame) (VersionResp, error) {
	w := f.W(0)
	if w == VersionNotSupported {
		return VersionResp{NotSupported: true}, nil
	}
	if !Version(w).Valid() {
		return VersionResp{}, ErrInvalidParameters
	}
	return VersionResp{Version: Version(w)}, nil
}

// FeaturesReq is FFA_FEATURES: w1 = function ID or feature ID, w2 = input
// properties.
type FeaturesReq struct {
	ID         uint32
	InputProps uint32
}

// Feature IDs for FFA_FEATURES (w1 bit 31 clear).
const (
	FeatureNPI uint32 = 1 // notification pending interrupt
	FeatureSRI uint32 = 2 // schedule receiver interrupt
	FeatureMEI uint32 = 3 // managed exit interrupt
)

// IsFunc reports whether the request asks about a function ID (bit 31 set).
func (r FeaturesReq) IsFunc() bool { return r.ID&(1<<31) != 0 }

// Encode builds the call frame.
func (r FeaturesReq) Encode() Frame {
	return Frame{uint64(FuncFeatures), uint64(r.ID), uint64(r.InputProps)}
}

// DecodeFeaturesReq reads an FFA_FEATURES call.
func DecodeFeaturesReq(f Frame) (FeaturesReq, error) {
	if err := wantFunc(f, FuncFeatures); err != nil {
		return FeaturesReq{}, err
	}
	return FeaturesReq{ID: f.W(1), InputProps: f.W(2)}, nil
}

// FeaturesResp is FFA_SUCCESS with interface properties in w2 and w3.
type FeaturesResp struct{ Props [2]uint32 }

// RXTX_MAP feature properties (FFA_FEATURES(FFA_RXTX_MAP) w2).
const (
	RxTxMinBuf4K  uint32 = 0
	RxTxMinBuf64K uint32 = 1
	RxTxMinBuf16K uint32 = 2
)

// Encode builds the result frame.
func (r FeaturesResp) Encode() Frame {
	return Frame{uint64(FuncSuccess32), 0, uint64(r.Props[0]), uint64(r.Props[1])}
}

// DecodeFeaturesResp reads the result of FFA_FEATURES; FFA_ERROR yields its
// status.
func DecodeFeaturesResp(f Frame) (FeaturesResp, error) {
	if err := f.Err(); err != nil {
		return FeaturesResp{}, err
	}
	if f.Func() != FuncSuccess32 {
		return FeaturesResp{}, ErrNotSupported
	}
	return FeaturesResp{Props: [2]uint32{f.W(2), f.W(3)}}, nil
}

// IDResp is FFA_SUCCESS with an endpoint ID in w2 (FFA_ID_GET,
// FFA_SPM_ID_GET).
type IDResp struct{ ID ID }

// Encode builds the result frame.
func (r IDResp) Encode() Frame { return Frame{uint64(FuncSuccess32), 0, uint64(r.ID)} }

// DecodeIDResp reads an ID_GET/SPM_ID_GET result. w2 bits 31:16 are MBZ.
func DecodeIDResp(f Frame) (IDResp, error) {
	if err := f.Err(); err != nil {
		return IDResp{}, err
	}
	if f.Func() != FuncSuccess32 {
		return IDResp{}, ErrNotSupported
	}
	if f.W(2)>>16 != 0 {
		return IDResp{}, ErrInvalidParameters
	}
	return IDResp{ID(f.W(2))}, nil
}

// SuccessFrame is FFA_SUCCESS_32 with no results.
func SuccessFrame() Frame { return Frame{uint64(FuncSuccess32)} }

// CheckSuccess returns nil for FFA_SUCCESS, the status of FFA_ERROR, and
// ErrNotSupported for anything else.
func CheckSuccess(f Frame) error {
	if err := f.Err(); err != nil {
		return err
	}
	if !f.IsSuccess() {
		return ErrNotSupported
	}
	return nil
}

// RxTxMapReq is FFA_RXTX_MAP: x1 TX address, x2 RX address, w3[5:0] page
// count (4 KiB pages), w3[31:6] MBZ.
type RxTxMapReq struct {
	SMC32     bool // use the 32-bit form
	TX, RX    uint64
	PageCount uint32
}

// Encode builds the call frame.
func (r RxTxMapReq) Encode() Frame {
	if r.SMC32 {
		return Frame{uint64(FuncRxTxMap32), uint64(uint32(r.TX)), uint64(uint32(r.RX)), uint64(r.PageCount)}
	}
	return Frame{uint64(FuncRxTxMap64), r.TX, r.RX, uint64(r.PageCount)}
}

// DecodeRxTxMapReq reads an FFA_RXTX_MAP call (either form).
func DecodeRxTxMapReq(f Frame) (RxTxMapReq, error) {
	if err := wantFunc(f, FuncRxTxMap32, FuncRxTxMap64); err != nil {
		return RxTxMapReq{}, err
	}
	r := RxTxMapReq{SMC32: f.Func() == FuncRxTxMap32, TX: f[1], RX: f[2], PageCount: f.W(3) & 0x3f}
	if r.SMC32 {
		r.TX, r.RX = uint64(f.W(1)), uint64(f.W(2))
	}
	if f.W(3)>>6 != 0 {
		return r, ErrInvalidParameters
	}
	return r, nil
}

// RxTxUnmapReq is FFA_RXTX_UNMAP: w1[31:16] the endpoint ID, w1[15:0] MBZ.
type RxTxUnmapReq struct{ ID ID }

// Encode builds the call frame.
func (r RxTxUnmapReq) Encode() Frame {
	return Frame{uint64(FuncRxTxUnmap), uint64(PackIDs(r.ID, 0))}
}

// DecodeRxTxUnmapReq reads an FFA_RXTX_UNMAP call.
func DecodeRxTxUnmapReq(f Frame) (RxTxUnmapReq, error) {
	if err := wantFunc(f, FuncRxTxUnmap); err != nil {
		return RxTxUnmapReq{}, err
	}
	id, low := UnpackIDs(f.W(1))
	if low != 0 {
		return RxTxUnmapReq{ID: id}, ErrInvalidParameters
	}
	return RxTxUnmapReq{ID: id}, nil
}

// RxReleaseReq is FFA_RX_RELEASE: w1[15:0] the receiver ID when a
// hypervisor calls on behalf of a VM, else 0; w1[31:16] MBZ.
type RxReleaseReq struct{ ID ID }

// Encode builds the call frame.
func (r RxReleaseReq) Encode() Frame { return Frame{uint64(FuncRxRelease), uint64(r.ID)} }

// DecodeRxReleaseReq reads an FFA_RX_RELEASE call.
func DecodeRxReleaseReq(f Frame) (RxReleaseReq, error) {
	if err := wantFunc(f, FuncRxRelease); err != nil {
		return RxReleaseReq{}, err
	}
	if f.W(1)>>16 != 0 {
		return RxReleaseReq{ID: ID(f.W(1))}, ErrInvalidParameters
	}
	return RxReleaseReq{ID: ID(f.W(1))}, nil
}

// PartitionInfoGetFlagCountOnly is bit 0 of w5: return the count only.
const PartitionInfoGetFlagCountOnly uint32 = 1

// PartitionInfoGetReq is FFA_PARTITION_INFO_GET: UUID in w1..w4 (packed as
// UUID.Regs), flags in w5.
type PartitionInfoGetReq struct {
	UUID  UUID
	Flags uint32
}

// CountOnly reports whether flag bit 0 is set.
func (r PartitionInfoGetReq) CountOnly() bool { return r.Flags&PartitionInfoGetFlagCountOnly != 0 }

// Encode builds the call frame.
func (r PartitionInfoGetReq) Encode() Frame {
	w := r.UUID.Regs()
	return Frame{uint64(FuncPartitionInfoGet), uint64(w[0]), uint64(w[1]), uint64(w[2]), uint64(w[3]), uint64(r.Flags)}
}

// DecodePartitionInfoGetReq reads an FFA_PARTITION_INFO_GET call. Flag bits
// other than bit 0 are MBZ.
func DecodePartitionInfoGetReq(f Frame) (PartitionInfoGetReq, error) {
	if err := wantFunc(f, FuncPartitionInfoGet); err != nil {
		return PartitionInfoGetReq{}, err
	}
	r := PartitionInfoGetReq{UUID: UUIDFromRegs([4]uint32{f.W(1), f.W(2), f.W(3), f.W(4)}), Flags: f.W(5)}
	if r.Flags&^PartitionInfoGetFlagCountOnly != 0 {
		return r, ErrInvalidParameters
	}
	return r, nil
}

// PartitionInfoGetResp is FFA_SUCCESS with the count in w2 and the
// descriptor size in w3 (v1.1+; 0 with the count-only flag and for v1.0).
type PartitionInfoGetResp struct {
	Count    uint32
	DescSize uint32
}

// Encode builds the result frame.
func (r PartitionInfoGetResp) Encode() Frame {
	return Frame{uint64(FuncSuccess32), 0, uint64(r.Count), uint64(r.DescSize)}
}

// DecodePartitionInfoGetResp reads the result of FFA_PARTITION_INFO_GET.
func DecodePartitionInfoGetResp(f Frame) (PartitionInfoGetResp, error) {
	if err := f.Err(); err != nil {
		return PartitionInfoGetResp{}, err
	}
	if f.Func() != FuncSuccess32 {
		return PartitionInfoGetResp{}, ErrNotSupported
	}
	return PartitionInfoGetResp{Count: f.W(2), DescSize: f.W(3)}, nil
}

// PartitionInfoGetRegsReq is FFA_PARTITION_INFO_GET_REGS: UUID in x1/x2
// (UUID.Regs64), x3[15:0] start index, x3[31:16] UUID info tag, x3[63:32]
// MBZ.
type PartitionInfoGetRegsReq struct {
	UUID       UUID
	StartIndex uint16
	Tag        uint16
}

// Encode builds the call frame.
func (r PartitionInfoGetRegsReq) Encode() Frame {
	u := r.UUID.Regs64()
	return Frame{uint64(FuncPartitionInfoGetRegs), u[0], u[1], uint64(r.StartIndex) | uint64(r.Tag)<<16}
}

// DecodePartitionInfoGetRegsReq reads an FFA_PARTITION_INFO_GET_REGS call.
func DecodePartitionInfoGetRegsReq(f Frame) (PartitionInfoGetRegsReq, error) {
	if err := wantFunc(f, FuncPartitionInfoGetRegs); err != nil {
		return PartitionInfoGetRegsReq{}, err
	}
	r := PartitionInfoGetRegsReq{UUID: UUIDFromRegs64(f[1], f[2]), StartIndex: uint16(f[3]), Tag: uint16(f[3] >> 16)}
	if f[3]>>32 != 0 {
		return r, ErrInvalidParameters
	}
	return r, nil
}

// PartitionInfoRegsMax is how many descriptors fit in one
// FFA_PARTITION_INFO_GET_REGS result (x3..x17, three registers each).
const PartitionInfoRegsMax = 5

// PartitionInfoGetRegsResp is FFA_SUCCESS_64: x2 = last index [15:0],
// current index [31:16], tag [47:32], descriptor size [63:48]; x3.. three
// registers per descriptor for indices start..current.
type PartitionInfoGetRegsResp struct {
	LastIndex    uint16
	CurrentIndex uint16
	Tag          uint16
	DescSize     uint16
	N            int // descriptors in Infos (current - start + 1)
	Infos        [PartitionInfoRegsMax]PartitionInfo
}

// Encode builds the result frame.
func (r PartitionInfoGetRegsResp) Encode() Frame {
	f := Frame{uint64(FuncSuccess64), 0,
		uint64(r.LastIndex) | uint64(r.CurrentIndex)<<16 | uint64(r.Tag)<<32 | uint64(r.DescSize)<<48}
	for i := 0; i < r.N && i < PartitionInfoRegsMax; i++ {
		regs := r.Infos[i].Regs()
		copy(f[3+3*i:], regs[:])
	}
	return f
}

// DecodePartitionInfoGetRegsResp reads the result; start is the start
// index of the request (the number of descriptors is current-start+1).
func DecodePartitionInfoGetRegsResp(f Frame, start uint16) (PartitionInfoGetRegsResp, error) {
	if err := f.Err(); err != nil {
		return PartitionInfoGetRegsResp{}, err
	}
	if f.Func() != FuncSuccess64 {
		return PartitionInfoGetRegsResp{}, ErrNotSupported
	}
	r := PartitionInfoGetRegsResp{
		LastIndex: uint16(f[2]), CurrentIndex: uint16(f[2] >> 16), Tag: uint16(f[2] >> 32), DescSize: uint16(f[2] >> 48),
	}
	if r.CurrentIndex < start || r.CurrentIndex > r.LastIndex || int(r.CurrentIndex-start) >= PartitionInfoRegsMax {
		return r, ErrInvalidParameters
	}
	r.N = int(r.CurrentIndex-start) + 1
	for i := 0; i < r.N; i++ {
		r.Infos[i] = PartitionInfoFromRegs([3]uint64{f[3+3*i], f[4+3*i], f[5+3*i]})
	}
	return r, nil
}

// Direct message flags (w2).
const (
	DirectFlagFramework uint32 = 1 << 31 // framework message (bits 7:0 its type)
)

// DirectReq is FFA_MSG_SEND_DIRECT_REQ (32- or 64-bit): w1 sender<<16 |
// receiver, w2 flags, x3..x7 payload.
type DirectReq struct {
	Is64     bool
	Src, Dst ID
	Flags    uint32
	Args     [5]uint64
}

// Encode builds the call frame. For the 32-bit form the payload is
// truncated to 32 bits per register.
func (r DirectReq) Encode() Frame {
	return encodeDirect(r.Is64, FuncMsgSendDirectReq, FuncMsgSendDirectReq64, r.Src, r.Dst, r.Flags, &r.Args)
}

// DecodeDirectReq reads a direct request of either width.
func DecodeDirectReq(f Frame) (DirectReq, error) {
	if err := wantFunc(f, FuncMsgSendDirectReq, FuncMsgSendDirectReq64); err != nil {
		return DirectReq{}, err
	}
	var r DirectReq
	r.Is64, r.Src, r.Dst, r.Flags = decodeDirect(f, &r.Args)
	return r, nil
}

// DirectResp is FFA_MSG_SEND_DIRECT_RESP (32- or 64-bit), with IDs swapped
// relative to the request.
type DirectResp struct {
	Is64     bool
	Src, Dst ID
	Flags    uint32
	Args     [5]uint64
}

// Encode builds the response frame.
func (r DirectResp) Encode() Frame {
	return encodeDirect(r.Is64, FuncMsgSendDirectResp, FuncMsgSendDirectResp64, r.Src, r.Dst, r.Flags, &r.Args)
}

// DecodeDirectResp reads a direct response of either width; FFA_ERROR
// yields its status.
func DecodeDirectResp(f Frame) (DirectResp, error) {
	if err := f.Err(); err != nil {
		return DirectResp{}, err
	}
	if err := wantFunc(f, FuncMsgSendDirectResp, FuncMsgSendDirectResp64); err != nil {
		return DirectResp{}, err
	}
	var r DirectResp
	r.Is64, r.Src, r.Dst, r.Flags = decodeDirect(f, &r.Args)
	return r, nil
}

func encodeDirect(is64 bool, f32, f64 FuncID, src, dst ID, flags uint32, args *[5]uint64) Frame {
	f := Frame{uint64(f32), uint64(PackIDs(src, dst)), uint64(flags)}
	if is64 {
		f[0] = uint64(f64)
		copy(f[3:8], args[:])
		return f
	}
	for i, a := range args {
		f[3+i] = uint64(uint32(a))
	}
	return f
}

func decodeDirect(f Frame, args *[5]uint64) (is64 bool, src, dst ID, flags uint32) {
	is64 = f.Func().Is64()
	src, dst = UnpackIDs(f.W(1))
	flags = f.W(2)
	for i := range args {
		if is64 {
			args[i] = f[3+i]
		} else {
			args[i] = uint64(f.W(3 + i))
		}
	}
	return
}

// DirectReq2 is FFA_MSG_SEND_DIRECT_REQ2 (v1.2, SMC64): w1 sender<<16 |
// receiver, x2/x3 the service UUID (UUID.Regs64), x4..x17 payload.
type DirectReq2 struct {
	Src, Dst ID
	UUID     UUID
	Args     [14]uint64
}

// Encode builds the call frame.
func (r DirectReq2) Encode() Frame {
	u := r.UUID.Regs64()
	f := Frame{uint64(FuncMsgSendDirectReq2), uint64(PackIDs(r.Src, r.Dst)), u[0], u[1]}
	copy(f[4:], r.Args[:])
	return f
}

// DecodeDirectReq2 reads a REQ2 call; x1[63:32] are MBZ.
func DecodeDirectReq2(f Frame) (DirectReq2, error) {
	if err := wantFunc(f, FuncMsgSendDirectReq2); err != nil {
		return DirectReq2{}, err
	}
	var r DirectReq2
	r.Src, r.Dst = UnpackIDs(f.W(1))
	r.UUID = UUIDFromRegs64(f[2], f[3])
	copy(r.Args[:], f[4:])
	if f[1]>>32 != 0 {
		return r, ErrInvalidParameters
	}
	return r, nil
}

// DirectResp2 is FFA_MSG_SEND_DIRECT_RESP2: w1 sender<<16 | receiver,
// x2/x3 MBZ, x4..x17 payload.
type DirectResp2 struct {
	Src, Dst ID
	Args     [14]uint64
}

// Encode builds the response frame.
func (r DirectResp2) Encode() Frame {
	f := Frame{uint64(FuncMsgSendDirectResp2), uint64(PackIDs(r.Src, r.Dst))}
	copy(f[4:], r.Args[:])
	return f
}

// DecodeDirectResp2 reads a RESP2 frame; FFA_ERROR yields its status.
func DecodeDirectResp2(f Frame) (DirectResp2, error) {
	if err := f.Err(); err != nil {
		return DirectResp2{}, err
	}
	if err := wantFunc(f, FuncMsgSendDirectResp2); err != nil {
		return DirectResp2{}, err
	}
	var r DirectResp2
	r.Src, r.Dst = UnpackIDs(f.W(1))
	copy(r.Args[:], f[4:])
	if f[1]>>32 != 0 || f[2] != 0 || f[3] != 0 {
		return r, ErrInvalidParameters
	}
	return r, nil
}
