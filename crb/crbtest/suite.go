package crbtest

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/google/go-tpm/tpm2"
)

// T is the part of testing.T the suite uses; *testing.T implements it, and
// Check supplies a recorder.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
	Logf(format string, args ...any)
}

// Target is one TPM service under test, as the normal world sees it.
type Target struct {
	Conduit     ffa.Conduit // the normal-world endpoint's FF-A conduit
	Self        ffa.ID      // that endpoint's ID (usually 0)
	MMIO        crbdrv.MMIO // a non-secure accessor to the CRB window
	CRBBase     uint64      // physical address of locality 0's block
	PartitionID ffa.ID      // the TPM service's partition ID
	// ClosedLocality is a locality the TPM refuses, or -1 if it has none.
	ClosedLocality int
	// Second, optional, is another normal-world endpoint (a second VM)
	// used by the isolation cases.
	Second *Endpoint
	// SecureAddr, optional (0 = none), is an address in the TPM partition's
	// private memory; the isolation case points CMD/RSP addresses at it.
	SecureAddr uint64
	// Close releases the target (may be nil).
	Close func()
}

// Endpoint is a normal-world FF-A endpoint.
type Endpoint struct {
	Conduit ffa.Conduit
	ID      ffa.ID
}

// Factory builds a fresh target for one case.
type Factory func(t T) Target

// Case is one conformance check.
type Case struct {
	Name string
	Rule string // the specification rule checked
	Run  func(t T, e *Env)
}

// Via is the direct-message ABI a raw DEN0138 call goes out on.
type Via uint8

// Direct-message ABIs.
const (
	ViaReq32 Via = iota // FFA_MSG_SEND_DIRECT_REQ (SMC32)
	ViaReq64            // FFA_MSG_SEND_DIRECT_REQ (SMC64)
	ViaReq2             // FFA_MSG_SEND_DIRECT_REQ2
)

func (v Via) String() string {
	switch v {
	case ViaReq32:
		return "REQ32"
	case ViaReq64:
		return "REQ64"
	case ViaReq2:
		return "REQ2"
	}
	return fmt.Sprintf("Via(%d)", uint8(v))
}

// Env is a case's view of the target.
type Env struct {
	Target
	Via  Via
	Info ffa.PartitionInfo
	t    T
}

// Call sends one DEN0138 function on e.Via with up to three arguments and
// returns the status and the first result register. An FF-A error fails
// the case.
func (e *Env) Call(fn crb.Func, args ...uint64) (crb.Status, uint64) {
	e.t.Helper()
	st, res, err := e.CallFrom(e.Target.Conduit, e.Self, 0, fn, args...)
	if err != nil {
		e.t.Errorf("%s %s: FF-A error %v", e.Via, fn, err)
		e.t.FailNow()
	}
	return st, res
}

// CallFrom is Call from any endpoint, with w3 (REQ only) set to w3.
func (e *Env) CallFrom(c ffa.Conduit, self ffa.ID, w3 uint64, fn crb.Func, args ...uint64) (crb.Status, uint64, error) {
	var a [3]uint64
	copy(a[:], args)
	switch e.Via {
	case ViaReq2:
		var p [14]uint64
		p[0] = uint64(fn)
		copy(p[1:], args)
		out := c.Call(ffa.DirectReq2{Src: self, Dst: e.PartitionID, UUID: crbdrv.ServiceUUID(), Args: p}.Encode())
		r, err := ffa.DecodeDirectResp2(out)
		if err != nil {
			return 0, 0, err
		}
		return crb.Status(uint32(r.Args[0])), r.Args[1], nil
	default:
		out := c.Call(ffa.DirectReq{Is64: e.Via == ViaReq64, Src: self, Dst: e.PartitionID,
			Args: [5]uint64{w3, uint64(fn), a[0], a[1], a[2]}}.Encode())
		r, err := ffa.DecodeDirectResp(out)
		if err != nil {
			return 0, 0, err
		}
		return crb.Status(uint32(r.Args[1])), r.Args[2], nil
	}
}

func (e *Env) addr(loc int, r crb.Reg) uint64 {
	return e.CRBBase + uint64(loc)*crb.LocalityStride + uint64(r)
}

// W32 writes a 32-bit CRB register of locality loc.
func (e *Env) W32(loc int, r crb.Reg, v uint32) {
	e.t.Helper()
	if err := e.MMIO.Write(e.addr(loc, r), 4, uint64(v)); err != nil {
		e.t.Errorf("write %s at locality %d: %v", r, loc, err)
		e.t.FailNow()
	}
}

// R32 reads a 32-bit CRB register of locality loc.
func (e *Env) R32(loc int, r crb.Reg) uint32 {
	e.t.Helper()
	v, err := e.MMIO.Read(e.addr(loc, r), 4)
	if err != nil {
		e.t.Errorf("read %s at locality %d: %v", r, loc, err)
		e.t.FailNow()
	}
	return uint32(v)
}

// WriteBuffer copies b into locality loc's data buffer with byte writes.
func (e *Env) WriteBuffer(loc int, b []byte) {
	e.t.Helper()
	for i, c := range b {
		if err := e.MMIO.Write(e.addr(loc, crb.RegDataBuffer)+uint64(i), 1, uint64(c)); err != nil {
			e.t.Errorf("write buffer: %v", err)
			e.t.FailNow()
		}
	}
}

// ReadBuffer reads n bytes of locality loc's data buffer.
func (e *Env) ReadBuffer(loc, n int) []byte {
	e.t.Helper()
	b := make([]byte, n)
	for i := range b {
		v, err := e.MMIO.Read(e.addr(loc, crb.RegDataBuffer)+uint64(i), 1)
		if err != nil {
			e.t.Errorf("read buffer: %v", err)
			e.t.FailNow()
		}
		b[i] = byte(v)
	}
	return b
}

// Expect fails the case unless got == want, naming the rule.
func (e *Env) Expect(rule string, got, want crb.Status) {
	e.t.Helper()
	if got != want {
		e.t.Errorf("%s: got %s, want %s (%s)", e.Via, got, want, rule)
	}
}

// ExpectFailure fails the case if got is a success code.
func (e *Env) ExpectFailure(rule string, got crb.Status) {
	e.t.Helper()
	if got.OK() {
		e.t.Errorf("%s: got %s, want an error (%s)", e.Via, got, rule)
	}
}

// Grant requests locality loc and requires success.
func (e *Env) Grant(loc int) {
	e.t.Helper()
	e.W32(loc, crb.RegLocCtrl, crb.LocCtrlRequestAccess)
	st, _ := e.Call(crb.FuncStart, uint64(crb.QualifierLocalityRequest), uint64(loc))
	if st != crb.StatusOK {
		e.t.Errorf("%s: locality %d request: %s", e.Via, loc, st)
		e.t.FailNow()
	}
	if v := e.R32(loc, crb.RegLocState); v&crb.LocStateLocAssigned == 0 || int(v&crb.LocStateActiveMask>>crb.LocStateActiveShift) != loc {
		e.t.Errorf("%s: after granting locality %d, LOC_STATE = %s", e.Via, loc, crb.DescribeBits(crb.RegLocState, uint64(v)))
		e.t.FailNow()
	}
}

// GetRandomCommand returns a TPM2_GetRandom(n) command.
func GetRandomCommand(n uint16) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b, uint16(tpm2.TPMSTNoSessions))
	binary.BigEndian.PutUint32(b[2:], 12)
	binary.BigEndian.PutUint32(b[6:], uint32(tpm2.TPMCCGetRandom))
	binary.BigEndian.PutUint16(b[10:], n)
	return b
}

// Run runs every case against fresh targets from f, once per
// direct-message ABI the partition advertises.
func Run(t *testing.T, f Factory) {
	for _, via := range []Via{ViaReq32, ViaReq64, ViaReq2} {
		for _, c := range Cases() {
			t.Run(via.String()+"/"+c.Name, func(t *testing.T) {
				runCase(t, f, via, c)
			})
		}
	}
}

// skipT lets a case end early without failing.
type skipSignal struct{}

// Skip ends the case without a failure (for cases the target cannot run).
func (e *Env) Skip(why string) {
	if s, ok := e.t.(interface{ Skip(args ...any) }); ok {
		s.Skip(why)
	}
	e.t.Logf("skipped: %s", why)
	panic(skipSignal{})
}

func runCase(t T, f Factory, via Via, c Case) {
	tg := f(t)
	if tg.Close != nil {
		defer tg.Close()
	}
	e := &Env{Target: tg, Via: via, t: t}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(skipSignal); ok {
				return
			}
			panic(r)
		}
	}()
	info, err := e.setup()
	if err != nil {
		t.Errorf("setup: %v", err)
		t.FailNow()
	}
	e.Info = info
	if via == ViaReq2 && !info.Properties.Has(ffa.PropDirectReq2Recv) {
		e.Skip("partition does not receive DIRECT_REQ2")
	}
	if via != ViaReq2 && !info.Properties.Has(ffa.PropDirectReqRecv) {
		e.Skip("partition does not receive DIRECT_REQ")
	}
	if via == ViaReq64 && !info.Properties.Has(ffa.PropAArch64) {
		e.Skip("AArch32 partition: Linux uses SMC32")
	}
	t.Logf("rule: %s", c.Rule)
	c.Run(t, e)
}

// setup negotiates FF-A v1.2 and reads the partition's descriptor.
func (e *Env) setup() (ffa.PartitionInfo, error) {
	cl := ffa.NewClient(e.Target.Conduit, ffa.ClientConfig{})
	if _, err := cl.Version(); err != nil {
		return ffa.PartitionInfo{}, fmt.Errorf("FFA_VERSION: %w", err)
	}
	if e.Second != nil {
		if _, err := ffa.NewClient(e.Second.Conduit, ffa.ClientConfig{}).Version(); err != nil {
			return ffa.PartitionInfo{}, fmt.Errorf("second endpoint FFA_VERSION: %w", err)
		}
	}
	infos, err := cl.PartitionInfoGetRegs(crbdrv.ServiceUUID())
	if err != nil {
		return ffa.PartitionInfo{}, fmt.Errorf("PARTITION_INFO_GET_REGS: %w", err)
	}
	for _, in := range infos {
		if in.ID == e.PartitionID {
			return in, nil
		}
	}
	return ffa.PartitionInfo{}, fmt.Errorf("partition %v not found for the TPM service UUID", e.PartitionID)
}

// Failure is one failed check recorded by Check.
type Failure struct {
	Case string // "VIA/name"
	Msg  string
}

// recorder implements T by recording.
type recorder struct {
	name  string
	fails []Failure
	logs  []string
}

type failNow struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.fails = append(r.fails, Failure{Case: r.name, Msg: fmt.Sprintf(format, args...)})
}
func (r *recorder) FailNow() { panic(failNow{}) }
func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

// Check runs every case like Run but with a recording T, and returns the
// failures (none for a conforming partition).
func Check(f Factory) []Failure {
	var all []Failure
	for _, via := range []Via{ViaReq32, ViaReq64, ViaReq2} {
		for _, c := range Cases() {
			r := &recorder{name: via.String() + "/" + c.Name}
			func() {
				defer func() {
					if p := recover(); p != nil {
						if _, ok := p.(failNow); !ok {
							buf := make([]byte, 4096)
							buf = buf[:runtime.Stack(buf, false)]
							r.Errorf("panic: %v\n%s", p, buf)
						}
					}
				}()
				runCase(r, f, via, c)
			}()
			all = append(all, r.fails...)
		}
	}
	return all
}

// CasesMarkdown renders the conformance cases and the rules they check,
// for docs/crb.md.
func CasesMarkdown() string {
	s := "\n## Conformance suite (crb/crbtest)\n\n" +
		"`crbtest.Run(t, factory)` runs each case over DIRECT_REQ (SMC32 and SMC64) and DIRECT_REQ2 when the\n" +
		"partition advertises it; `crbtest.Check` returns the failures instead.\n\n" +
		"| case | rule checked |\n|---|---|\n"
	for _, c := range Cases() {
		s += "| " + c.Name + " | " + c.Rule + " |\n"
	}
	return s
}
