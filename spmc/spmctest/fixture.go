package spmctest

import (
	"fmt"
	"sync"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
	"github.com/ffatpm/ffatpm/spmc"
)

// Ref names a partition of the fixture.
type Ref struct {
	ID   ffa.ID
	UUID ffa.UUID
}

// Fixture is one fresh SPMC under test and the facts the suite needs about
// it. Every case gets its own Fixture.
type Fixture struct {
	NW   ffa.Conduit // the normal-world endpoint under test
	NWID ffa.ID
	// OtherVM is a second normal-world endpoint (nil: cases needing it are
	// skipped).
	OtherVM   ffa.Conduit
	OtherVMID ffa.ID

	SPMCID  ffa.ID
	Version ffa.Version // the SPMC's FF-A version (1.2 for the full suite)
	// EL3Version: FFA_VERSION behaves like an EL3 SPMC (newer minor answered
	// with the SPMC's version; a locked version is re-announced) instead of
	// Hafnium's NOT_SUPPORTED.
	EL3Version bool

	Mem       ffa.Memory // the normal world's view of physical memory
	RAM       uint64     // 32 free 4 KiB pages of non-secure RAM the NW endpoint owns
	OtherRAM  uint64     // 32 free pages owned by OtherVM (0: none)
	SecureRAM uint64     // 32 pages of secure RAM
	DeviceMem uint64     // a device (MMIO) window of at least one page
	MaxPages  uint32     // FEATURES(RXTX_MAP_64) maximum page count

	Echo     Ref // receives REQ and REQ2, answers with the request payload
	NoReq2   Ref // receives REQ (echo) but does not advertise REQ2
	NoDirect Ref // receives no direct requests
	RelayA   Ref // relay partitions (RelayHandler): receive REQ, send REQ
	RelayB   Ref
	// Responder (ResponderHandler) answers REQ invalidly on purpose to
	// check the SPMC's rules for partition responses; zero ID: skipped.
	Responder Ref
	// Blocker has one execution context; a REQ with args[0] = 1 makes it
	// signal Blocked and wait until Unblock is called (then echo). Other
	// requests echo at once. Zero ID: skipped.
	Blocker Ref
	Blocked <-chan struct{}
	Unblock func()
	// Partitions is the number of descriptors PARTITION_INFO_GET returns
	// for the Nil UUID to a v1.2 caller.
	Partitions int
}

// Factory builds a fresh Fixture.
type Factory func() (*Fixture, error)

// EchoHandler answers every direct request with its payload.
type EchoHandler struct{}

// DirectReq echoes.
func (EchoHandler) DirectReq(_ spmc.Call, r ffa.DirectReq) (ffa.DirectResp, error) {
	return ffa.DirectResp{Args: r.Args}, nil
}

// DirectReq2 echoes.
func (EchoHandler) DirectReq2(_ spmc.Call, r ffa.DirectReq2) (ffa.DirectResp2, error) {
	return ffa.DirectResp2{Args: r.Args}, nil
}

// RelayFailed marks a relay response whose inner request failed: args[0] =
// RelayFailed, args[1] = the FF-A status as a 32-bit word.
const RelayFailed = 0xFFFF_FFFF

// RelayHandler implements the relay behaviour: a request whose args[0] is
// zero is echoed; otherwise the partition sends a direct request to
// partition args[0] with the remaining arguments shifted down, and answers
// with the inner response, or with [RelayFailed, status] when the inner
// request failed.
type RelayHandler struct{}

// DirectReq relays.
func (RelayHandler) DirectReq(c spmc.Call, r ffa.DirectReq) (ffa.DirectResp, error) {
	if uint32(r.Args[0]) == 0 {
		return ffa.DirectResp{Args: r.Args}, nil
	}
	next := [5]uint64{r.Args[1], r.Args[2], r.Args[3], r.Args[4]}
	resp, err := c.DirectReq(ffa.ID(r.Args[0]), r.Is64, next)
	if err != nil {
		st, _ := err.(ffa.Status)
		return ffa.DirectResp{Args: [5]uint64{RelayFailed, uint64(uint32(int32(st)))}}, nil
	}
	return ffa.DirectResp{Args: resp.Args}, nil
}

// DirectReq2 is not served by relays.
func (RelayHandler) DirectReq2(spmc.Call, ffa.DirectReq2) (ffa.DirectResp2, error) {
	return ffa.DirectResp2{}, ffa.ErrNotSupported
}

// Responder modes (args[0] of a 32-bit REQ to the Responder partition).
// In every mode but ResponderOK the partition first answers invalidly as
// described, then answers correctly with args[0] = the status word its
// invalid answer got back (0 if none) and args[1] = the mode.
const (
	ResponderOK          = 0 // answer correctly at once
	ResponderWrongFamily = 1 // answer REQ with RESP2
	ResponderSpoofSender = 2 // response sender is another partition
	ResponderWrongDest   = 3 // response receiver is not the requester
	ResponderFlags       = 4 // response with nonzero w2 flags
	ResponderWrongWidth  = 5 // answer REQ_32 with RESP_64
	ResponderNeverValid  = 6 // never answers validly
)

// ResponderHandler implements the Responder behaviour as a
// spmc.FrameHandler.
type ResponderHandler struct{ ID ffa.ID }

// DirectFrame answers per mode; an FFA_ERROR input is the status the
// previous, invalid answer got.
func (h ResponderHandler) DirectFrame(c spmc.Call, in ffa.Frame) ffa.Frame {
	if in.Func() == ffa.FuncError {
		return ffa.DirectResp{Src: h.ID, Dst: c.Caller(), Args: [5]uint64{uint64(in.W(2)), 0xE}}.Encode()
	}
	req, _ := ffa.DecodeDirectReq(in)
	mode := req.Args[0]
	good := ffa.DirectResp{Is64: req.Is64, Src: h.ID, Dst: req.Src, Args: [5]uint64{0, mode}}
	switch mode {
	case ResponderWrongFamily:
		return ffa.DirectResp2{Src: h.ID, Dst: req.Src}.Encode()
	case ResponderSpoofSender:
		bad := good
		bad.Src = h.ID ^ 0x40
		return bad.Encode()
	case ResponderWrongDest:
		bad := good
		bad.Dst = req.Src ^ 0x7
		return bad.Encode()
	case ResponderFlags:
		bad := good
		bad.Flags = 1
		return bad.Encode()
	case ResponderWrongWidth:
		bad := good
		bad.Is64 = !req.Is64
		return bad.Encode()
	case ResponderNeverValid:
		return ffa.DirectResp2{Src: h.ID, Dst: req.Src}.Encode()
	}
	return good.Encode()
}

// BlockingHandler implements the Blocker behaviour (see Fixture).
type BlockingHandler struct {
	Entered chan<- struct{}
	Release <-chan struct{}
}

// DirectReq blocks on args[0] == 1, else echoes.
func (h BlockingHandler) DirectReq(_ spmc.Call, r ffa.DirectReq) (ffa.DirectResp, error) {
	if r.Args[0] == 1 {
		select {
		case h.Entered <- struct{}{}:
		default:
		}
		<-h.Release
	}
	return ffa.DirectResp{Args: r.Args}, nil
}

// DirectReq2 echoes.
func (h BlockingHandler) DirectReq2(_ spmc.Call, r ffa.DirectReq2) (ffa.DirectResp2, error) {
	return ffa.DirectResp2{Args: r.Args}, nil
}

// Standard layout of the fixture built by NewFixture.
const (
	FixtureRAM       = 0x8000_0000
	FixtureOtherRAM  = 0x9000_0000
	FixtureSecureRAM = 0x0e00_0000
	FixtureDevice    = 0x6000_0000
)

// UUIDs of the fixture partitions.
var (
	UUIDEcho      = ffa.MustParseUUID("5e1fc0de-0001-4a11-8e55-ec4000000001")
	UUIDNoReq2    = ffa.MustParseUUID("5e1fc0de-0002-4a11-8e55-ec4000000002")
	UUIDNoDirect  = ffa.MustParseUUID("5e1fc0de-0003-4a11-8e55-ec4000000003")
	UUIDRelayA    = ffa.MustParseUUID("5e1fc0de-0004-4a11-8e55-ec4000000004")
	UUIDRelayB    = ffa.MustParseUUID("5e1fc0de-0005-4a11-8e55-ec4000000005")
	UUIDResponder = ffa.MustParseUUID("5e1fc0de-0006-4a11-8e55-ec4000000006")
	UUIDBlocker   = ffa.MustParseUUID("5e1fc0de-0007-4a11-8e55-ec4000000007")
)

type nullDevice struct{}

func (nullDevice) ReadMMIO(uint64, int) (uint64, error) { return 0, nil }
func (nullDevice) WriteMMIO(uint64, int, uint64) error  { return nil }

// NewFixture builds this module's SPMC with the standard fixture
// partitions; mod may adjust the configuration (e.g. the version policy).
func NewFixture(mod func(*spmc.Config)) (*Fixture, error) {
	bus := phys.NewBus()
	for _, r := range []struct {
		name, owner string
		base        uint64
		sec         phys.World
	}{
		{"ns-ram-vm0", "vm0", FixtureRAM, phys.NonSecure},
		{"ns-ram-vm1", "vm1", FixtureOtherRAM, phys.NonSecure},
		{"s-ram", "spmc", FixtureSecureRAM, phys.Secure},
	} {
		if err := bus.AddRAM(r.name, r.owner, r.base, 32*phys.PageSize, r.sec); err != nil {
			return nil, err
		}
	}
	if err := bus.AddMMIO("dev", "device", FixtureDevice, 0x5000, phys.NonSecure, nullDevice{}); err != nil {
		return nil, err
	}
	direct := ffa.PropDirectReqRecv | ffa.PropAArch64
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var once sync.Once
	cfg := spmc.Config{
		Bus:       bus,
		Endpoints: []spmc.Endpoint{{ID: 0, Owner: "vm0"}, {ID: 1, Owner: "vm1"}},
		Partitions: []spmc.Partition{
			{Name: "echo", ID: 0x8001, UUIDs: []ffa.UUID{UUIDEcho}, ExecContexts: 1, Handler: EchoHandler{},
				Properties: direct | ffa.PropDirectReq2Recv},
			{Name: "no-req2", ID: 0x8002, UUIDs: []ffa.UUID{UUIDNoReq2}, ExecContexts: 1, Handler: EchoHandler{},
				Properties: direct},
			{Name: "no-direct", ID: 0x8003, UUIDs: []ffa.UUID{UUIDNoDirect}, ExecContexts: 1,
				Properties: ffa.PropAArch64},
			{Name: "relay-a", ID: 0x8004, UUIDs: []ffa.UUID{UUIDRelayA}, ExecContexts: 1, Handler: RelayHandler{},
				Properties: direct | ffa.PropDirectReqSend},
			{Name: "relay-b", ID: 0x8005, UUIDs: []ffa.UUID{UUIDRelayB}, ExecContexts: 1, Handler: RelayHandler{},
				Properties: direct | ffa.PropDirectReqSend},
			{Name: "responder", ID: 0x8006, UUIDs: []ffa.UUID{UUIDResponder}, ExecContexts: 1,
				FrameHandler: ResponderHandler{ID: 0x8006}, Properties: direct},
			{Name: "blocker", ID: 0x8007, UUIDs: []ffa.UUID{UUIDBlocker}, ExecContexts: 1,
				Handler: BlockingHandler{Entered: entered, Release: release}, Properties: direct},
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := spmc.New(cfg)
	if err != nil {
		return nil, err
	}
	nw, err := s.Conduit(0)
	if err != nil {
		return nil, err
	}
	other, err := s.Conduit(1)
	if err != nil {
		return nil, fmt.Errorf("spmctest: fixture needs endpoint 1: %w", err)
	}
	maxPages := cfg.MaxRxTxPages
	if maxPages == 0 {
		maxPages = 16
	}
	return &Fixture{
		NW: nw, NWID: 0, OtherVM: other, OtherVMID: 1,
		SPMCID: s.ID(), Version: s.Version(), EL3Version: cfg.VersionPolicy == spmc.VersionEL3,
		Mem: bus.Accessor(phys.NonSecure), RAM: FixtureRAM, OtherRAM: FixtureOtherRAM,
		SecureRAM: FixtureSecureRAM, DeviceMem: FixtureDevice, MaxPages: maxPages,
		Echo: Ref{0x8001, UUIDEcho}, NoReq2: Ref{0x8002, UUIDNoReq2}, NoDirect: Ref{0x8003, UUIDNoDirect},
		RelayA: Ref{0x8004, UUIDRelayA}, RelayB: Ref{0x8005, UUIDRelayB},
		Responder: Ref{0x8006, UUIDResponder},
		Blocker:   Ref{0x8007, UUIDBlocker}, Blocked: entered,
		Unblock:    func() { once.Do(func() { close(release) }) },
		Partitions: 7,
	}, nil
}
