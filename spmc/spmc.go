package spmc

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
)

// Handler serves direct requests sent to a partition. The SPMC fills the
// response's function ID, width and endpoint IDs (receiver and sender
// swapped); the handler supplies the payload. Returning an ffa.Status makes
// the SPMC answer FFA_ERROR with that status (how a fault-injecting fake
// models BUSY, RETRY, INTERRUPTED or ABORTED); any other error, or a panic,
// is a partition abort and the caller gets ABORTED.
type Handler interface {
	DirectReq(c Call, req ffa.DirectReq) (ffa.DirectResp, error)
	DirectReq2(c Call, req ffa.DirectReq2) (ffa.DirectResp2, error)
}

// HandlerFuncs adapts functions to Handler; a nil function answers
// NOT_SUPPORTED.
type HandlerFuncs struct {
	Req  func(c Call, req ffa.DirectReq) (ffa.DirectResp, error)
	Req2 func(c Call, req ffa.DirectReq2) (ffa.DirectResp2, error)
}

// DirectReq calls h.Req.
func (h HandlerFuncs) DirectReq(c Call, req ffa.DirectReq) (ffa.DirectResp, error) {
	if h.Req == nil {
		return ffa.DirectResp{}, ffa.ErrNotSupported
	}
	return h.Req(c, req)
}

// DirectReq2 calls h.Req2.
func (h HandlerFuncs) DirectReq2(c Call, req ffa.DirectReq2) (ffa.DirectResp2, error) {
	if h.Req2 == nil {
		return ffa.DirectResp2{}, ffa.ErrNotSupported
	}
	return h.Req2(c, req)
}

// Partition is a secure partition registered with the SPMC.
type Partition struct {
	Name         string
	ID           ffa.ID // bit 15 set
	UUIDs        []ffa.UUID
	Properties   ffa.PartitionProperties
	ExecContexts uint16 // requests in flight at once; more get BUSY (0 means 1)
	Handler      Handler
	// FrameHandler, when set, is used instead of Handler: the partition
	// answers with the raw frame of the ABI it invokes, and the SPMC checks
	// it as it checks a real partition's FFA_MSG_SEND_DIRECT_RESP(2) (see
	// FrameHandler).
	FrameHandler FrameHandler
}

// FrameHandler is a partition modelled at the register level. For each
// direct request it receives the request frame and returns the frame of
// the ABI it invokes next, normally the matching direct response. When that
// invocation is invalid the SPMC does not deliver it: it calls the handler
// again with the FFA_ERROR the partition's SVC would return, as a real
// partition resumes after a failed call, up to MaxResponseAttempts times;
// after that the requester gets ABORTED. The rules (DEN0077 direct
// messaging):
//   - answering REQ with RESP2, REQ2 with RESP, or a 32-bit request with a
//     64-bit response (or the reverse) -> DENIED;
//   - a response whose sender is not the partition or whose receiver is not
//     the requester, nonzero flags, or nonzero x2/x3 in RESP2 ->
//     INVALID_PARAMETERS;
//   - any other ABI during a request -> NOT_SUPPORTED;
//   - FFA_ERROR with a defined status is passed to the requester.
type FrameHandler interface {
	DirectFrame(c Call, in ffa.Frame) ffa.Frame
}

// MaxResponseAttempts bounds how often a FrameHandler may answer a request
// invalidly before the SPMC aborts the request.
const MaxResponseAttempts = 4

// Info returns the partition's descriptors as PARTITION_INFO_GET reports
// them to a v1.1+ caller: one per UUID (one with the Nil UUID if it has
// none).
func (p Partition) Info() []ffa.PartitionInfo {
	if len(p.UUIDs) == 0 {
		return []ffa.PartitionInfo{p.info(ffa.NilUUID)}
	}
	out := make([]ffa.PartitionInfo, len(p.UUIDs))
	for i, u := range p.UUIDs {
		out[i] = p.info(u)
	}
	return out
}

func (p *Partition) info(u ffa.UUID) ffa.PartitionInfo {
	return ffa.PartitionInfo{ID: p.ID, ExecContexts: p.execContexts(), Properties: p.Properties, UUID: u}
}

// infoAt is info as a caller that negotiated version v sees it: property
// bits that v does not define are reserved (must be zero) at that version,
// so a v1.0/v1.1 caller never sees the v1.2 DIRECT_REQ2 bits (DEN0077 v1.2,
// FFA_PARTITION_INFO_GET, partition properties bits 9 and 10).
func (p *Partition) infoAt(u ffa.UUID, v ffa.Version) ffa.PartitionInfo {
	in := p.info(u)
	if !v.AtLeast(ffa.Version1_2) {
		in.Properties &^= ffa.PropDirectReq2Recv | ffa.PropDirectReq2Send
	}
	return in
}

func (p *Partition) execContexts() uint16 {
	if p.ExecContexts == 0 {
		return 1
	}
	return p.ExecContexts
}

func (p *Partition) hasUUID(u ffa.UUID) bool { return slices.Contains(p.UUIDs, u) }

// VersionPolicy selects how FFA_VERSION behaves where SPMC implementations
// differ (see the project's conformance notes).
type VersionPolicy uint8

// Version policies.
const (
	// VersionHafnium (default), like an S-EL2 SPMC: a request for a newer
	// minor version than the SPMC's gets NOT_SUPPORTED, and once the
	// endpoint has used another ABI, asking for a different version gets
	// NOT_SUPPORTED.
	VersionHafnium VersionPolicy = iota
	// VersionEL3, like an EL3 SPMC: a newer minor is answered with the
	// SPMC's version (the caller downgrades), and after other ABIs were
	// used every FFA_VERSION answers with the locked version.
	VersionEL3
)

// String names the policy.
func (p VersionPolicy) String() string {
	switch p {
	case VersionHafnium:
		return "hafnium"
	case VersionEL3:
		return "el3"
	}
	return fmt.Sprintf("VersionPolicy(%d)", uint8(p))
}

// Endpoint is a normal-world endpoint (the kernel, or a VM under a
// hypervisor) that calls the SPMC.
type Endpoint struct {
	ID ffa.ID // bit 15 clear
	// Owner, when set, is the phys region owner whose RAM this endpoint may
	// map as RX/TX buffers; empty means any non-secure RAM.
	Owner string
}

// Config describes an SPMC.
type Config struct {
	ID            ffa.ID      // SPMC ID; default ffa.IDSPMCDefault (0x8000)
	Version       ffa.Version // default ffa.Version1_2
	VersionPolicy VersionPolicy
	// Bus is the physical address space RX/TX buffers live in; without it
	// every FFA_RXTX_MAP is DENIED.
	Bus *phys.Bus
	// Endpoints calling from the normal world; default one endpoint with
	// ID 0.
	Endpoints []Endpoint
	// MaxRxTxPages is the largest RX/TX buffer in 4 KiB pages (reported by
	// FFA_FEATURES(FFA_RXTX_MAP_64) w2[31:16]); default 16, at most 63.
	MaxRxTxPages uint32
	Partitions   []Partition
}

// SPMC is the model. Create it with New.
type SPMC struct {
	id      ffa.ID
	version ffa.Version
	policy  VersionPolicy
	bus     *phys.Bus
	sec     phys.Accessor
	maxPgs  uint32

	mu    sync.Mutex
	eps   []*endpoint
	parts []*partState
}

type partState struct {
	Partition
	inflight uint16 // guarded by SPMC.mu
}

type endpoint struct {
	s     *SPMC
	id    ffa.ID
	owner string

	// guarded by s.mu
	version   ffa.Version // negotiated; 0 until FFA_VERSION
	locked    bool        // another ABI was used: version fixed
	rxState   RxState     // RX/TX state machine (rxstate.go)
	tx, rx    uint64
	pages     uint32
	rxScratch []byte
}

// New builds an SPMC. Configuration mistakes are Go errors.
func New(cfg Config) (*SPMC, error) {
	s := &SPMC{id: cfg.ID, version: cfg.Version, policy: cfg.VersionPolicy, bus: cfg.Bus, maxPgs: cfg.MaxRxTxPages}
	if s.id == 0 {
		s.id = ffa.IDSPMCDefault
	}
	if !s.id.Secure() {
		return nil, fmt.Errorf("spmc: SPMC ID %v must have bit 15 set", s.id)
	}
	if s.version == 0 {
		s.version = ffa.Version1_2
	}
	if !s.version.Valid() || s.version.Major() != 1 || s.version.Minor() > 2 {
		return nil, fmt.Errorf("spmc: version %v not modelled (1.0 .. 1.2)", s.version)
	}
	if s.policy > VersionEL3 {
		return nil, fmt.Errorf("spmc: unknown version policy %v", s.policy)
	}
	if s.maxPgs == 0 {
		s.maxPgs = 16
	}
	if s.maxPgs > 63 {
		return nil, fmt.Errorf("spmc: MaxRxTxPages %d above the 6-bit page count of FFA_RXTX_MAP", s.maxPgs)
	}
	if s.bus != nil {
		s.sec = s.bus.Accessor(phys.Secure)
	}
	eps := cfg.Endpoints
	if len(eps) == 0 {
		eps = []Endpoint{{ID: ffa.IDNormalWorld}}
	}
	for _, e := range eps {
		if e.ID.Secure() {
			return nil, fmt.Errorf("spmc: normal-world endpoint ID %v has bit 15 set", e.ID)
		}
		for _, o := range s.eps {
			if o.id == e.ID {
				return nil, fmt.Errorf("spmc: endpoint ID %v listed twice", e.ID)
			}
		}
		s.eps = append(s.eps, &endpoint{s: s, id: e.ID, owner: e.Owner})
	}
	for _, p := range cfg.Partitions {
		if err := s.AddPartition(p); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// AddPartition registers a partition.
func (s *SPMC) AddPartition(p Partition) error {
	if !p.ID.Secure() {
		return fmt.Errorf("spmc: partition %q ID %v must have bit 15 set", p.Name, p.ID)
	}
	if p.ID == s.id || p.ID == ffa.IDSPMD {
		return fmt.Errorf("spmc: partition %q ID %v is reserved for the SPMC/SPMD", p.Name, p.ID)
	}
	if p.Properties.Has(ffa.PropDirectReqRecv) || p.Properties.Has(ffa.PropDirectReq2Recv) {
		if p.Handler == nil && p.FrameHandler == nil {
			return fmt.Errorf("spmc: partition %q receives direct requests but has no Handler", p.Name)
		}
	}
	for i, u := range p.UUIDs {
		if u.IsNil() {
			return fmt.Errorf("spmc: partition %q: UUID %d is the Nil UUID", p.Name, i)
		}
		if slices.Contains(p.UUIDs[:i], u) {
			return fmt.Errorf("spmc: partition %q lists UUID %v twice", p.Name, u)
		}
	}
	p.UUIDs = slices.Clone(p.UUIDs)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.parts {
		if o.ID == p.ID {
			return fmt.Errorf("spmc: partition %q ID %v already used by %q", p.Name, p.ID, o.Name)
		}
	}
	s.parts = append(s.parts, &partState{Partition: p})
	return nil
}

// ID returns the SPMC's endpoint ID.
func (s *SPMC) ID() ffa.ID { return s.id }

// Version returns the SPMC's FF-A version.
func (s *SPMC) Version() ffa.Version { return s.version }

// Partitions returns the registered partitions.
func (s *SPMC) Partitions() []Partition {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Partition, len(s.parts))
	for i, p := range s.parts {
		out[i] = p.Partition
		out[i].UUIDs = slices.Clone(p.UUIDs)
	}
	return out
}

// Conduit returns the FF-A conduit of normal-world endpoint vm.
func (s *SPMC) Conduit(vm ffa.ID) (ffa.Conduit, error) {
	for _, e := range s.eps {
		if e.id == vm {
			return e, nil
		}
	}
	return nil, fmt.Errorf("spmc: no normal-world endpoint with ID %v", vm)
}

// NormalWorld returns the conduit of the first normal-world endpoint.
func (s *SPMC) NormalWorld() ffa.Conduit { return s.eps[0] }

// Call dispatches one FF-A call from this endpoint.
func (e *endpoint) Call(in ffa.Frame) ffa.Frame {
	out := e.s.dispatch(e, &in)
	// SMCCC v1.2: registers the result does not use are preserved.
	if !usesHighRegs(in, out) {
		copy(out[8:], in[8:])
	}
	return out
}

func usesHighRegs(in, out ffa.Frame) bool {
	switch out.Func() {
	case ffa.FuncMsgSendDirectResp2:
		return true
	case ffa.FuncSuccess64:
		return in.Func() == ffa.FuncPartitionInfoGetRegs
	}
	return false
}

func errFrame(err error) ffa.Frame {
	if st, ok := err.(ffa.Status); ok && st.Known() {
		return ffa.ErrorFrame(st)
	}
	var st ffa.Status
	if errors.As(err, &st) && st.Known() {
		return ffa.ErrorFrame(st)
	}
	return ffa.ErrorFrame(ffa.ErrAborted)
}

// dispatch consults the support table first: unknown or unsupported IDs
// never reach a handler.
func (s *SPMC) dispatch(e *endpoint, in *ffa.Frame) ffa.Frame {
	fid := in.Func()
	fi, ok := ffa.LookupFunc(fid)
	if !ok || !fi.Supported {
		return ffa.ErrorFrame(ffa.ErrNotSupported)
	}
	if fi.Role == ffa.RoleReturn {
		switch fid {
		case ffa.FuncMsgSendDirectResp, ffa.FuncMsgSendDirectResp64, ffa.FuncMsgSendDirectResp2:
			// DEN0077 direct messaging: only a partition that received a
			// request may respond; from the normal world it is invalid.
			return ffa.ErrorFrame(ffa.ErrInvalidParameters)
		}
		return ffa.ErrorFrame(ffa.ErrNotSupported)
	}
	if fid == ffa.FuncVersion {
		return s.ffaVersion(e, *in)
	}
	s.mu.Lock()
	e.locked = true
	v := e.effectiveVersion()
	s.mu.Unlock()
	if !fi.DefinedIn(v) && fid != ffa.FuncMsgSendDirectReq2 {
		return ffa.ErrorFrame(ffa.ErrNotSupported)
	}
	h := route(fid)
	if h == nil {
		// A supported RoleCall entry without a handler is a bug in this
		// package; TestSupportTableDrivesDispatch keeps them in step.
		return ffa.ErrorFrame(ffa.ErrNotSupported)
	}
	return h(s, e, *in, v)
}

type callHandler func(s *SPMC, e *endpoint, in ffa.Frame, v ffa.Version) ffa.Frame

// route maps the supported RoleCall rows of the ffa support table to their
// implementation (method expressions: no allocation per call).
func route(fid ffa.FuncID) callHandler {
	var h callHandler
	switch fid {
	case ffa.FuncFeatures:
		h = (*SPMC).ffaFeatures
	case ffa.FuncIDGet:
		h = (*SPMC).ffaIDGet
	case ffa.FuncSpmIDGet:
		h = (*SPMC).ffaSpmIDGet
	case ffa.FuncRxTxMap64:
		h = (*SPMC).ffaRxTxMap
	case ffa.FuncRxTxUnmap:
		h = (*SPMC).ffaRxTxUnmap
	case ffa.FuncRxRelease:
		h = (*SPMC).ffaRxRelease
	case ffa.FuncPartitionInfoGet:
		h = (*SPMC).ffaPartitionInfoGet
	case ffa.FuncPartitionInfoGetRegs:
		h = (*SPMC).ffaPartitionInfoGetRegs
	case ffa.FuncMsgSendDirectReq, ffa.FuncMsgSendDirectReq64:
		h = (*SPMC).ffaDirectReq
	case ffa.FuncMsgSendDirectReq2:
		h = (*SPMC).ffaDirectReq2
	}
	return h
}

// HandledFuncs lists the function IDs this SPMC has an implementation for
// (tests compare it with the support table).
func HandledFuncs() []ffa.FuncID {
	var out []ffa.FuncID
	for _, fi := range ffa.Funcs() {
		if route(fi.ID) != nil {
			out = append(out, fi.ID)
		}
	}
	return out
}

// effectiveVersion is the negotiated version, or v1.0 for an endpoint that
// never called FFA_VERSION (it gets v1.0 behaviour, e.g. 8-byte partition
// descriptors and no v1.1+ ABIs). Caller holds s.mu.
func (e *endpoint) effectiveVersion() ffa.Version {
	if e.version == 0 {
		return ffa.Version1_0
	}
	return e.version
}

// Bus returns the physical address space the SPMC checks buffers against
// (nil if none was configured).
func (s *SPMC) Bus() *phys.Bus { return s.bus }
