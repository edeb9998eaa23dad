package tpmsp

import (
	"fmt"
	"sync"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/google/go-tpm/tpm2/transport"
)

// DefaultID is the partition ID the platform gives the TPM service.
const DefaultID ffa.ID = 0x8001

// ServiceUUID returns the DEN0138 TPM service UUID.
func ServiceUUID() ffa.UUID { return ffa.MustParseUUID(crb.ServiceUUIDString) }

// Config describes the partition.
type Config struct {
	Name   string // default "tpm-sp"
	ID     ffa.ID // default DefaultID
	Device *crb.Device
	Engine transport.TPM
	// NoReq2 makes the partition advertise and accept only DIRECT_REQ, like
	// a v1.1 partition; by default it takes REQ and REQ2.
	NoReq2 bool
	// NoNotifications makes the notification feature unsupported (NOTSUP).
	NoNotifications bool
}

// Partition is the TPM service. Its handler methods are safe for
// concurrent use; requests are served one at a time.
type Partition struct {
	cfg Config

	mu        sync.Mutex
	requester [crb.NumLocalities]ffa.ID // endpoint that requested locality n
	hasReq    uint8                     // bit n: requester[n] valid
	notif     *notification
	notified  int // notifications raised and not finished
	trace     func(Event)
}

type notification struct {
	caller  ffa.ID
	perVCPU bool
	vcpu    uint16
	id      uint8
}

// Event records one request and its answer, for logs and tests.
type Event struct {
	Caller ffa.ID
	Via    string // "REQ", "REQ64" or "REQ2"
	Func   crb.Func
	Args   [3]uint64 // first three arguments after the function ID
	Status crb.Status
	Detail string // what the partition did (transitions, engine error)
}

func (e Event) String() string {
	s := fmt.Sprintf("%s from %v: %s(%#x, %#x) -> %s", e.Via, e.Caller, e.Func, e.Args[0], e.Args[1], e.Status)
	if e.Detail != "" {
		s += " [" + e.Detail + "]"
	}
	return s
}

// New builds the partition.
func New(cfg Config) (*Partition, error) {
	if cfg.Device == nil {
		return nil, fmt.Errorf("tpmsp: no CRB device")
	}
	if cfg.Engine == nil {
		return nil, fmt.Errorf("tpmsp: no TPM engine")
	}
	if cfg.ID == 0 {
		cfg.ID = DefaultID
	}
	if !cfg.ID.Secure() {
		return nil, fmt.Errorf("tpmsp: partition ID %v must have bit 15 set", cfg.ID)
	}
	if cfg.Name == "" {
		cfg.Name = "tpm-sp"
	}
	return &Partition{cfg: cfg}, nil
}

// ID returns the partition ID.
func (p *Partition) ID() ffa.ID { return p.cfg.ID }

// Device returns the CRB the partition serves.
func (p *Partition) Device() *crb.Device { return p.cfg.Device }

// SetTrace installs a function called for every request, under the
// partition's lock (it must not call back into the partition); nil removes
// it.
func (p *Partition) SetTrace(f func(Event)) {
	p.mu.Lock()
	p.trace = f
	p.mu.Unlock()
}

// Properties returns the FF-A partition properties the partition
// advertises.
func (p *Partition) Properties() ffa.PartitionProperties {
	props := ffa.PropDirectReqRecv | ffa.PropAArch64
	if !p.cfg.NoReq2 {
		props |= ffa.PropDirectReq2Recv
	}
	return props
}

// SPMCPartition returns the value to register with spmc.New / AddPartition.
func (p *Partition) SPMCPartition() spmc.Partition {
	return spmc.Partition{
		Name:         p.cfg.Name,
		ID:           p.cfg.ID,
		UUIDs:        []ffa.UUID{ServiceUUID()},
		Properties:   p.Properties(),
		ExecContexts: 1,
		Handler:      p,
	}
}

// PendingNotifications returns how many completion notifications were
// raised and not yet acknowledged with FINISH_NOTIFIED.
func (p *Partition) PendingNotifications() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.notified
}

// DirectReq implements spmc.Handler for FFA_MSG_SEND_DIRECT_REQ(_64): w3
// MBZ, w4 function, w5..w7 arguments.
func (p *Partition) DirectReq(c spmc.Call, req ffa.DirectReq) (ffa.DirectResp, error) {
	via := "REQ"
	if req.Is64 {
		via = "REQ64"
	}
	var resp ffa.DirectResp
	var st crb.Status
	var res [3]uint64
	if req.Args[0] != 0 {
		st = crb.StatusInvArg
		p.record(c.Caller(), via, crb.Func(req.Args[1]), req.Args[2:5], st, "w3 must be zero")
	} else {
		st, res = p.Serve(c.Caller(), via, req.Args[1], req.Args[2:5])
	}
	resp.Args[1] = uint64(st)
	copy(resp.Args[2:], res[:])
	return resp, nil
}

// DirectReq2 implements spmc.Handler for FFA_MSG_SEND_DIRECT_REQ2: x4
// function, x5..x17 arguments.
func (p *Partition) DirectReq2(c spmc.Call, req ffa.DirectReq2) (ffa.DirectResp2, error) {
	var resp ffa.DirectResp2
	if p.cfg.NoReq2 {
		return resp, ffa.ErrNotSupported
	}
	st, res := p.Serve(c.Caller(), "REQ2", req.Args[0], req.Args[1:])
	resp.Args[0] = uint64(st)
	copy(resp.Args[1:], res[:])
	return resp, nil
}

// Serve runs one DEN0138 function for caller. args are the registers after
// the function ID (w5.. or x5..); the result is the status and the result
// registers that follow it. It is the transport-independent core of the
// handler, exported for fuzzing and for adapters.
func (p *Partition) Serve(caller ffa.ID, via string, fn uint64, args []uint64) (crb.Status, [3]uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, res, detail := p.serve(caller, fn, args)
	if p.trace != nil {
		var a [3]uint64
		copy(a[:], args)
		p.trace(Event{Caller: caller, Via: via, Func: crb.Func(fn), Args: a, Status: st, Detail: detail.String()})
	}
	return st, res
}

func (p *Partition) record(caller ffa.ID, via string, fn crb.Func, args []uint64, st crb.Status, detail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.trace != nil {
		var a [3]uint64
		copy(a[:], args)
		p.trace(Event{Caller: caller, Via: via, Func: fn, Args: a, Status: st, Detail: detail})
	}
}

// mbz reports whether every register from i on is zero.
func mbz(args []uint64, i int) bool {
	for ; i < len(args); i++ {
		if args[i] != 0 {
			return false
		}
	}
	return true
}

func arg(args []uint64, i int) uint64 {
	if i < len(args) {
		return args[i]
	}
	return 0
}

// detail describes what the partition did; it is formatted only when a
// trace is installed.
type detail struct {
	format string
	args   []any
	kind   uint8 // 1: cmd, 2: loc
	cmd    crb.CommandOutcome
	loc    crb.LocTransition
}

func (d detail) String() string {
	switch {
	case d.kind == 1:
		return describe(d.cmd)
	case d.kind == 2:
		return fmt.Sprintf("%s --%s--> %s (%s)", d.loc.From, d.loc.Event, d.loc.To, d.loc.Effect)
	case d.format != "":
		return fmt.Sprintf(d.format, d.args...)
	}
	return ""
}

func note(format string, args ...any) detail { return detail{format: format, args: args} }

func (p *Partition) serve(caller ffa.ID, fn uint64, args []uint64) (crb.Status, [3]uint64, detail) {
	var res [3]uint64
	if fn>>32 != 0 {
		return crb.StatusNoFunc, res, note("function ID above 32 bits")
	}
	switch crb.Func(fn) {
	case crb.FuncGetInterfaceVersion:
		if !mbz(args, 0) {
			return crb.StatusInvArg, res, note("w5.. must be zero")
		}
		res[0] = uint64(crb.Version1_0)
		return crb.StatusOKResultsReturned, res, note("")
	case crb.FuncGetFeatureInfo:
		if !mbz(args, 1) {
			return crb.StatusInvArg, res, note("w6.. must be zero")
		}
		if arg(args, 0) != uint64(crb.FeatureNotification) || p.cfg.NoNotifications {
			return crb.StatusNotSup, res, note("feature %#x not supported", arg(args, 0))
		}
		res[0] = 1 // supported
		return crb.StatusOKResultsReturned, res, note("")
	case crb.FuncStart:
		return p.start(caller, args)
	case crb.FuncRegisterForNotification:
		return p.register(caller, args)
	case crb.FuncUnregisterFromNotification, crb.FuncFinishNotified:
		if p.cfg.NoNotifications {
			return crb.StatusNotSup, res, note("notifications not supported")
		}
		if !mbz(args, 0) {
			return crb.StatusInvArg, res, note("w5.. must be zero")
		}
		if p.notif == nil || p.notif.caller != caller {
			return crb.StatusDenied, res, note("not registered for notifications")
		}
		if crb.Func(fn) == crb.FuncUnregisterFromNotification {
			p.notif = nil
			p.notified = 0
		} else if p.notified > 0 {
			p.notified--
		}
		return crb.StatusOK, res, note("")
	}
	return crb.StatusNoFunc, res, note("unknown function %#x", fn)
}

func (p *Partition) register(caller ffa.ID, args []uint64) (crb.Status, [3]uint64, detail) {
	var res [3]uint64
	if p.cfg.NoNotifications {
		return crb.StatusNotSup, res, note("notifications not supported")
	}
	a0, id := arg(args, 0), arg(args, 1)
	if a0>>17 != 0 || !mbz(args, 2) {
		return crb.StatusInvArg, res, note("MBZ bits set")
	}
	if id >= 64 {
		return crb.StatusInvArg, res, note("notification ID %d above 63", id)
	}
	if p.notif != nil {
		return crb.StatusAlready, res, note("already registered")
	}
	p.notif = &notification{caller: caller, perVCPU: a0>>16&1 != 0, vcpu: uint16(a0), id: uint8(id)}
	return crb.StatusOK, res, note("")
}

func (p *Partition) start(caller ffa.ID, args []uint64) (crb.Status, [3]uint64, detail) {
	var res [3]uint64
	q, loc := arg(args, 0), arg(args, 1)
	if !mbz(args, 2) {
		return crb.StatusInvArg, res, note("w7.. must be zero")
	}
	if q>>8 != 0 || (crb.Qualifier(q) != crb.QualifierCommand && crb.Qualifier(q) != crb.QualifierLocalityRequest) {
		return crb.StatusInvArg, res, note("qualifier %#x", q)
	}
	if loc >= crb.NumLocalities {
		return crb.StatusInvArg, res, note("locality %d above 4", loc)
	}
	n := int(loc)
	dev := p.cfg.Device
	if dev.Closed(n) {
		if crb.Qualifier(q) == crb.QualifierLocalityRequest {
			_, st := dev.ProcessLocality(n) // consumes LOC_CTRL; DENIED
			return st, res, note("locality %d closed", n)
		}
		return crb.StatusDenied, res, note("locality %d closed", n)
	}
	active := dev.ActiveLocality()
	if crb.Qualifier(q) == crb.QualifierCommand {
		if active == n && p.owner(n) != caller {
			return crb.StatusDenied, res, note("locality %d belongs to endpoint %v", n, p.requester[n])
		}
		st, out := dev.ServeCommand(n, p.cfg.Engine)
		if st == crb.StatusOK && out.Ran && p.notif != nil {
			p.notified++
		}
		return st, res, detail{kind: 1, cmd: out}
	}
	// Locality request.
	if p.hasReq&(1<<n) != 0 && p.requester[n] != caller {
		return crb.StatusDenied, res, note("locality %d requested by endpoint %v", n, p.requester[n])
	}
	if active >= 0 && active != n && p.owner(active) != caller && p.seizeWritten(n) {
		return crb.StatusDenied, res, note("seize of locality %d held by endpoint %v", active, p.owner(active))
	}
	tr, st := dev.ProcessLocality(n)
	switch tr.Effect {
	case crb.LocGrant, crb.LocPend, crb.LocSeize:
		p.requester[n] = caller
		p.hasReq |= 1 << n
	case crb.LocRelease, crb.LocWithdraw:
		p.hasReq &^= 1 << n
	}
	return st, res, detail{kind: 2, loc: tr}
}

// owner returns the endpoint holding active locality n.
func (p *Partition) owner(n int) ffa.ID {
	if p.hasReq&(1<<n) == 0 {
		return ffa.IDNormalWorld
	}
	return p.requester[n]
}

// seizeWritten peeks at LOC_CTRL_n's latched seize bit.
func (p *Partition) seizeWritten(n int) bool {
	return crb.DecodeLocCtrl(p.cfg.Device.PeekLocCtrl(n)) == crb.LocEvSeize
}

func describe(out crb.CommandOutcome) string {
	s := ""
	for i, t := range out.Applied() {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s --%s--> %s", t.From, t.Event, t.To)
	}
	if out.Ran {
		s += fmt.Sprintf("; rc %#x", out.TPMRC)
	}
	if out.EngineErr != nil {
		s += "; engine: " + out.EngineErr.Error()
	}
	return s
}
