package spmc

import (
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
)

// ffaVersion implements FFA_VERSION (DEN0077 v1.2, FFA_VERSION).
//   - w1 bit 31 set, or a major version other than ours -> NOT_SUPPORTED.
//   - a newer minor than ours: NOT_SUPPORTED (VersionHafnium) or our
//     version (VersionEL3, the caller downgrades).
//   - after the endpoint used another ABI the version is locked: asking for
//     a different one is NOT_SUPPORTED (Hafnium) or answered with the
//     locked version (EL3).
//
// Otherwise the negotiated version is min(caller, ours) and the answer is
// our version.
func (s *SPMC) ffaVersion(e *endpoint, in ffa.Frame) ffa.Frame {
	req, _ := ffa.DecodeVersionReq(in)
	want := req.Version
	notSupp := ffa.VersionResp{NotSupported: true}.Encode()
	if !want.Valid() || want.Major() != s.version.Major() {
		return notSupp
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.locked {
		cur := e.effectiveVersion()
		if s.policy == VersionEL3 {
			return ffa.VersionResp{Version: cur}.Encode()
		}
		if want != cur {
			return notSupp
		}
		return ffa.VersionResp{Version: s.version}.Encode()
	}
	if want.Minor() > s.version.Minor() {
		if s.policy == VersionHafnium {
			return notSupp
		}
		want = s.version
	}
	e.version = want
	return ffa.VersionResp{Version: s.version}.Encode()
}

// ffaFeatures implements FFA_FEATURES (DEN0077 v1.2, FFA_FEATURES): SUCCESS exactly for
// the function IDs the support table marks supported and that exist at the
// caller's version; feature IDs (NPI, SRI, MEI) are not supported since no
// interrupts or notifications are modelled. FEATURES(FFA_RXTX_MAP_64)
// reports the minimum buffer size (4 KiB) in w2[1:0] and the maximum page
// count in w2[31:16].
func (s *SPMC) ffaFeatures(e *endpoint, in ffa.Frame, v ffa.Version) ffa.Frame {
	req, _ := ffa.DecodeFeaturesReq(in)
	if !req.IsFunc() {
		return ffa.ErrorFrame(ffa.ErrNotSupported)
	}
	fi, ok := ffa.LookupFunc(ffa.FuncID(req.ID))
	if !ok || !fi.Supported || !fi.DefinedIn(v) {
		return ffa.ErrorFrame(ffa.ErrNotSupported)
	}
	var resp ffa.FeaturesResp
	if fi.ID == ffa.FuncRxTxMap64 {
		resp.Props[0] = ffa.RxTxMinBuf4K | s.maxPgs<<16
	}
	return resp.Encode()
}

// ffaIDGet implements FFA_ID_GET: the caller's own ID in w2.
func (s *SPMC) ffaIDGet(e *endpoint, _ ffa.Frame, _ ffa.Version) ffa.Frame {
	return ffa.IDResp{ID: e.id}.Encode()
}

// ffaSpmIDGet implements FFA_SPM_ID_GET (v1.1+): the SPMC ID in w2.
func (s *SPMC) ffaSpmIDGet(_ *endpoint, _ ffa.Frame, _ ffa.Version) ffa.Frame {
	return ffa.IDResp{ID: s.id}.Encode()
}

// ffaRxTxMap implements FFA_RXTX_MAP_64 (DEN0077 v1.2, FFA_RXTX_MAP).
//   - w3[31:6] nonzero, page count 0 or above the maximum, TX or RX not 4 KiB
//     aligned, TX equal to or overlapping RX, a range that wraps, or a
//     buffer in device (MMIO) memory -> INVALID_PARAMETERS.
//   - a buffer in secure memory, in unmapped memory, in RAM of another
//     owner, or overlapping another endpoint's buffers -> DENIED.
//   - buffers already mapped -> DENIED.
func (s *SPMC) ffaRxTxMap(e *endpoint, in ffa.Frame, _ ffa.Version) ffa.Frame {
	req, err := ffa.DecodeRxTxMapReq(in)
	if err != nil {
		return errFrame(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := RxNext(e.rxState, RxEvMap)
	if tr.Status != 0 {
		return ffa.ErrorFrame(tr.Status)
	}
	if req.PageCount == 0 || req.PageCount > s.maxPgs {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	if req.TX%phys.PageSize != 0 || req.RX%phys.PageSize != 0 {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	size := uint64(req.PageCount) * phys.PageSize
	if req.TX+size < req.TX || req.RX+size < req.RX {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	if overlaps(req.TX, size, req.RX, size) {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	for _, addr := range [2]uint64{req.TX, req.RX} {
		if st := s.checkBuffer(e, addr, size); st != 0 {
			return ffa.ErrorFrame(st)
		}
	}
	e.rxState, e.tx, e.rx, e.pages = tr.To, req.TX, req.RX, req.PageCount
	return ffa.SuccessFrame()
}

func overlaps(a, asz, b, bsz uint64) bool { return a < b+bsz && b < a+asz }

// checkBuffer decides whether endpoint e may use [addr, addr+size) as an
// RX or TX buffer. Caller holds s.mu.
func (s *SPMC) checkBuffer(e *endpoint, addr, size uint64) ffa.Status {
	if s.bus == nil {
		return ffa.ErrDenied
	}
	regions := s.bus.Overlapping(addr, size)
	var covered uint64
	for _, r := range regions {
		if r.Security == phys.Secure {
			return ffa.ErrDenied
		}
	}
	for _, r := range regions {
		if r.Kind != phys.RAM {
			return ffa.ErrInvalidParameters
		}
		if e.owner != "" && r.Owner != e.owner {
			return ffa.ErrDenied
		}
		lo, hi := max(r.Base, addr), min(r.End(), addr+size)
		covered += hi - lo
	}
	if covered != size {
		return ffa.ErrDenied // part of the range is not memory at all
	}
	for _, o := range s.eps {
		if o == e || o.rxState == RxUnmapped {
			continue
		}
		osz := uint64(o.pages) * phys.PageSize
		if overlaps(addr, size, o.tx, osz) || overlaps(addr, size, o.rx, osz) {
			return ffa.ErrDenied
		}
	}
	return 0
}

// ffaRxTxUnmap implements FFA_RXTX_UNMAP (DEN0077 v1.2, FFA_RXTX_UNMAP): w1[31:16] must be
// the caller's ID (w1[15:0] MBZ); with nothing mapped -> INVALID_PARAMETERS.
func (s *SPMC) ffaRxTxUnmap(e *endpoint, in ffa.Frame, _ ffa.Version) ffa.Frame {
	req, err := ffa.DecodeRxTxUnmapReq(in)
	if err != nil {
		return errFrame(err)
	}
	if req.ID != e.id {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := RxNext(e.rxState, RxEvUnmap)
	if tr.Status != 0 {
		return ffa.ErrorFrame(tr.Status)
	}
	e.rxState, e.tx, e.rx, e.pages = tr.To, 0, 0, 0
	return ffa.SuccessFrame()
}

// ffaRxRelease implements FFA_RX_RELEASE (DEN0077 v1.2, FFA_RX_RELEASE): w1 is 0 or the
// caller's own ID; releasing a buffer the caller does not own -> DENIED.
func (s *SPMC) ffaRxRelease(e *endpoint, in ffa.Frame, _ ffa.Version) ffa.Frame {
	req, err := ffa.DecodeRxReleaseReq(in)
	if err != nil {
		return errFrame(err)
	}
	if req.ID != 0 && req.ID != e.id {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tr := RxNext(e.rxState, RxEvRelease)
	if tr.Status != 0 {
		return ffa.ErrorFrame(tr.Status)
	}
	e.rxState = tr.To
	return ffa.SuccessFrame()
}

// descriptors lists what PARTITION_INFO_GET(_REGS) reports for u at
// version v: v1.1+ one descriptor per (partition, UUID), v1.0 one per
// partition. ok is false when u is not the Nil UUID and nothing matches.
// Caller holds s.mu.
func (s *SPMC) descriptors(u ffa.UUID, v ffa.Version, dst []ffa.PartitionInfo) ([]ffa.PartitionInfo, bool) {
	perUUID := v.AtLeast(ffa.Version1_1)
	for _, p := range s.parts {
		switch {
		case u.IsNil() && perUUID && len(p.UUIDs) > 0:
			for _, pu := range p.UUIDs {
				dst = append(dst, p.infoAt(pu, v))
			}
		case u.IsNil():
			var first ffa.UUID
			if len(p.UUIDs) > 0 {
				first = p.UUIDs[0]
			}
			dst = append(dst, p.infoAt(first, v))
		case p.hasUUID(u):
			dst = append(dst, p.infoAt(u, v))
		}
	}
	return dst, u.IsNil() || len(dst) > 0
}

// ffaPartitionInfoGet implements FFA_PARTITION_INFO_GET (DEN0077 v1.2).
//   - flags other than bit 0 (and any flag from a v1.0 caller) ->
//     INVALID_PARAMETERS; an unknown UUID -> INVALID_PARAMETERS.
//   - count only: SUCCESS with the count in w2, w3 = 0; no RX buffer needed.
//   - otherwise no RX buffer, or an RX buffer the caller still owns -> BUSY;
//     descriptors that do not fit -> NO_MEMORY. Descriptors are written in
//     the size of the caller's version (8 or 24 bytes), the rest of RX is
//     zeroed, and the caller owns RX until FFA_RX_RELEASE.
func (s *SPMC) ffaPartitionInfoGet(e *endpoint, in ffa.Frame, v ffa.Version) ffa.Frame {
	req, err := ffa.DecodePartitionInfoGetReq(in)
	if err != nil {
		return errFrame(err)
	}
	if !v.AtLeast(ffa.Version1_1) && req.Flags != 0 {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	descs, ok := s.descriptors(req.UUID, v, nil)
	if !ok {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	if req.CountOnly() {
		return ffa.PartitionInfoGetResp{Count: uint32(len(descs))}.Encode()
	}
	tr := RxNext(e.rxState, RxEvFill)
	if tr.Status != 0 {
		return ffa.ErrorFrame(tr.Status)
	}
	size := ffa.PartitionInfoSize(v)
	rxSize := int(e.pages) * phys.PageSize
	if len(descs)*size > rxSize {
		return ffa.ErrorFrame(ffa.ErrNoMemory)
	}
	if cap(e.rxScratch) < rxSize {
		e.rxScratch = make([]byte, rxSize)
	}
	buf := e.rxScratch[:rxSize]
	clear(buf)
	for i, d := range descs {
		_ = d.PutBinary(buf[i*size:], size)
	}
	if err := s.sec.WriteBytes(e.rx, buf); err != nil {
		// The buffer was checked at map time; the memory map changed
		// under us. Report it as the memory fault it is.
		return ffa.ErrorFrame(ffa.ErrAborted)
	}
	e.rxState = tr.To
	resp := ffa.PartitionInfoGetResp{Count: uint32(len(descs))}
	if v.AtLeast(ffa.Version1_1) {
		resp.DescSize = uint32(size)
	}
	return resp.Encode()
}

// ffaPartitionInfoGetRegs implements FFA_PARTITION_INFO_GET_REGS (v1.2,
// DEN0077 v1.2): a nonzero UUID info tag -> RETRY (this SPMC keeps no
// tags); an unknown UUID or a start index past the last descriptor ->
// INVALID_PARAMETERS; at most five descriptors per call.
func (s *SPMC) ffaPartitionInfoGetRegs(e *endpoint, in ffa.Frame, v ffa.Version) ffa.Frame {
	req, err := ffa.DecodePartitionInfoGetRegsReq(in)
	if err != nil {
		return errFrame(err)
	}
	if req.Tag != 0 {
		return ffa.ErrorFrame(ffa.ErrRetry)
	}
	s.mu.Lock()
	var arr [16]ffa.PartitionInfo
	descs, ok := s.descriptors(req.UUID, v, arr[:0])
	s.mu.Unlock()
	if !ok || int(req.StartIndex) >= len(descs) {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	last := len(descs) - 1
	cur := min(int(req.StartIndex)+ffa.PartitionInfoRegsMax-1, last)
	resp := ffa.PartitionInfoGetRegsResp{
		LastIndex: uint16(last), CurrentIndex: uint16(cur), DescSize: ffa.PartitionInfoSizeV1_1,
		N: cur - int(req.StartIndex) + 1,
	}
	copy(resp.Infos[:], descs[req.StartIndex:cur+1])
	return resp.Encode()
}

// findPartition returns the partition with ID id. Caller holds s.mu.
func (s *SPMC) findPartition(id ffa.ID) *partState {
	for _, p := range s.parts {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// ffaDirectReq implements FFA_MSG_SEND_DIRECT_REQ_32/64 from the normal
// world (DEN0077 v1.2, direct messaging):
//   - a sender ID other than the caller's own (a spoofed secure partition
//     or another VM) -> INVALID_PARAMETERS;
//   - receiver equal to the sender, a normal-world ID, the SPMC or SPMD ID,
//     or an unknown ID -> INVALID_PARAMETERS;
//   - flags nonzero (framework messages are not for the normal world; the
//     other bits are MBZ) -> INVALID_PARAMETERS;
//   - a partition that does not receive direct requests -> DENIED;
//   - a partition with every execution context busy -> BUSY.
func (s *SPMC) ffaDirectReq(e *endpoint, in ffa.Frame, _ ffa.Version) ffa.Frame {
	req, _ := ffa.DecodeDirectReq(in)
	if req.Flags != 0 {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	if req.Is64 && in[1]>>32 != 0 {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	if req.Src != e.id || req.Dst == req.Src {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	return s.deliverReq(Call{s: s, caller: e.id}, req)
}

// ffaDirectReq2 implements FFA_MSG_SEND_DIRECT_REQ2 (DEN0077 v1.2):
// the checks of ffaDirectReq, plus: a caller that negotiated a version
// below v1.2 -> DENIED; a partition that does not advertise REQ2 receipt ->
// DENIED; a UUID that is neither Nil nor one of the receiver's ->
// INVALID_PARAMETERS.
func (s *SPMC) ffaDirectReq2(e *endpoint, in ffa.Frame, v ffa.Version) ffa.Frame {
	if !v.AtLeast(ffa.Version1_2) {
		return ffa.ErrorFrame(ffa.ErrDenied)
	}
	req, err := ffa.DecodeDirectReq2(in)
	if err != nil {
		return errFrame(err)
	}
	if req.Src != e.id || req.Dst == req.Src {
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	return s.deliverReq2(Call{s: s, caller: e.id}, req)
}

// MaxCallDepth bounds a chain of direct requests between partitions.
const MaxCallDepth = 8

// Call is the context of one direct request as its handler sees it: who
// sent it and the chain of partitions it went through. A handler may send
// direct requests of its own through it.
type Call struct {
	s      *SPMC
	caller ffa.ID // the endpoint or partition that sent the request
	self   ffa.ID // the receiving partition
	chain  [MaxCallDepth]ffa.ID
	depth  int
}

// Caller returns the sender of the request.
func (c Call) Caller() ffa.ID { return c.caller }

// Self returns the ID of the partition handling the request.
func (c Call) Self() ffa.ID { return c.self }

// Depth returns how many partitions are in the call chain, this one
// included.
func (c Call) Depth() int { return c.depth }

// DirectReq sends a direct request from the handling partition to another
// partition (which must not already be in the call chain: BUSY). The
// sending partition needs the direct-request-send property (else DENIED).
func (c Call) DirectReq(dst ffa.ID, is64 bool, args [5]uint64) (ffa.DirectResp, error) {
	if c.s == nil {
		return ffa.DirectResp{}, ffa.ErrDenied
	}
	c.s.mu.Lock()
	me := c.s.findPartition(c.self)
	canSend := me != nil && me.Properties.Has(ffa.PropDirectReqSend)
	c.s.mu.Unlock()
	if !canSend {
		return ffa.DirectResp{}, ffa.ErrDenied
	}
	if dst == c.self {
		return ffa.DirectResp{}, ffa.ErrInvalidParameters
	}
	next := Call{s: c.s, caller: c.self, chain: c.chain, depth: c.depth}
	out := c.s.deliverReq(next, ffa.DirectReq{Is64: is64, Src: c.self, Dst: dst, Args: args})
	return ffa.DecodeDirectResp(out)
}

func (c *Call) inChain(id ffa.ID) bool {
	for i := 0; i < c.depth; i++ {
		if c.chain[i] == id {
			return true
		}
	}
	return false
}

// enter validates the receiver and claims an execution context.
func (s *SPMC) enter(c *Call, dst ffa.ID, need ffa.PartitionProperties) (*partState, ffa.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.findPartition(dst)
	if p == nil {
		return nil, ffa.ErrInvalidParameters
	}
	if !p.Properties.Has(need) {
		return nil, ffa.ErrDenied
	}
	if c.inChain(dst) || c.depth >= MaxCallDepth || p.inflight >= p.execContexts() {
		return nil, ffa.ErrBusy
	}
	p.inflight++
	c.self = dst
	c.chain[c.depth] = dst
	c.depth++
	return p, 0
}

func (s *SPMC) leave(p *partState) {
	s.mu.Lock()
	p.inflight--
	s.mu.Unlock()
}

func (s *SPMC) deliverReq(c Call, req ffa.DirectReq) ffa.Frame {
	p, st := s.enter(&c, req.Dst, ffa.PropDirectReqRecv)
	if st != 0 {
		return ffa.ErrorFrame(st)
	}
	if p.FrameHandler != nil {
		out := runFrames(p, c, req.Encode(), req.Src)
		s.leave(p)
		return out
	}
	resp, err := runReq(p, c, req)
	s.leave(p)
	if err != nil {
		return errFrame(err)
	}
	resp.Is64, resp.Src, resp.Dst, resp.Flags = req.Is64, req.Dst, req.Src, 0
	return resp.Encode()
}

func (s *SPMC) deliverReq2(c Call, req ffa.DirectReq2) ffa.Frame {
	p, st := s.enter(&c, req.Dst, ffa.PropDirectReq2Recv)
	if st != 0 {
		return ffa.ErrorFrame(st)
	}
	if !req.UUID.IsNil() && !p.hasUUID(req.UUID) {
		s.leave(p)
		return ffa.ErrorFrame(ffa.ErrInvalidParameters)
	}
	if p.FrameHandler != nil {
		out := runFrames(p, c, req.Encode(), req.Src)
		s.leave(p)
		return out
	}
	resp, err := runReq2(p, c, req)
	s.leave(p)
	if err != nil {
		return errFrame(err)
	}
	resp.Src, resp.Dst = req.Dst, req.Src
	return resp.Encode()
}

// runReq calls the handler; a panic is a partition abort.
func runReq(p *partState, c Call, req ffa.DirectReq) (resp ffa.DirectResp, err error) {
	defer func() {
		if recover() != nil {
			err = ffa.ErrAborted
		}
	}()
	return p.Handler.DirectReq(c, req)
}

func runReq2(p *partState, c Call, req ffa.DirectReq2) (resp ffa.DirectResp2, err error) {
	defer func() {
		if recover() != nil {
			err = ffa.ErrAborted
		}
	}()
	return p.Handler.DirectReq2(c, req)
}

// runFrames drives a FrameHandler for one request and returns what the
// requester receives.
func runFrames(p *partState, c Call, req ffa.Frame, requester ffa.ID) ffa.Frame {
	in := req
	for range MaxResponseAttempts {
		out, ok := callFrame(p, c, in)
		if !ok {
			return ffa.ErrorFrame(ffa.ErrAborted)
		}
		st := checkResponse(req, out, p.ID, requester)
		if st == 0 {
			// re-encode: only the registers the response defines go back
			if out.Func() == ffa.FuncMsgSendDirectResp2 {
				r, _ := ffa.DecodeDirectResp2(out)
				return r.Encode()
			}
			r, _ := ffa.DecodeDirectResp(out)
			return r.Encode()
		}
		if st == errPassThrough {
			return ffa.ErrorFrame(ffa.Status(int32(out.W(2))))
		}
		in = ffa.ErrorFrame(st)
	}
	return ffa.ErrorFrame(ffa.ErrAborted)
}

func callFrame(p *partState, c Call, in ffa.Frame) (out ffa.Frame, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return p.FrameHandler.DirectFrame(c, in), true
}

// errPassThrough marks an FFA_ERROR from the partition that goes to the
// requester unchanged.
const errPassThrough ffa.Status = 1

// checkResponse validates the ABI a partition invoked in answer to req.
func checkResponse(req, out ffa.Frame, self, requester ffa.ID) ffa.Status {
	var want ffa.FuncID
	switch req.Func() {
	case ffa.FuncMsgSendDirectReq:
		want = ffa.FuncMsgSendDirectResp
	case ffa.FuncMsgSendDirectReq64:
		want = ffa.FuncMsgSendDirectResp64
	default:
		want = ffa.FuncMsgSendDirectResp2
	}
	switch out.Func() {
	case ffa.FuncError:
		if ffa.Status(int32(out.W(2))).Known() {
			return errPassThrough
		}
		return ffa.ErrInvalidParameters
	case ffa.FuncMsgSendDirectResp, ffa.FuncMsgSendDirectResp64, ffa.FuncMsgSendDirectResp2:
	default:
		return ffa.ErrNotSupported
	}
	if out.Func() != want {
		return ffa.ErrDenied
	}
	src, dst := ffa.UnpackIDs(out.W(1))
	if src != self || dst != requester {
		return ffa.ErrInvalidParameters
	}
	if want == ffa.FuncMsgSendDirectResp2 {
		if out[1]>>32 != 0 || out[2] != 0 || out[3] != 0 {
			return ffa.ErrInvalidParameters
		}
	} else if out.W(2) != 0 {
		return ffa.ErrInvalidParameters
	}
	return 0
}
