package crb

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/google/go-tpm/tpm2/transport"
)

// TPM response codes the device itself produces (TPM 2.0 Part 2, TPM_RC).
const (
	RCCommandSize uint32 = 0x142 // TPM_RC_COMMAND_SIZE
	RCCanceled    uint32 = 0x909 // TPM_RC_CANCELED
	RCMemory      uint32 = 0x904 // TPM_RC_MEMORY
	stNoSessions  uint16 = 0x8001
	headerSize           = 10
)

// DeviceConfig holds the values a platform chooses for its CRB.
type DeviceConfig struct {
	// Base is the physical address of locality 0's register block.
	Base uint64
	// Closed lists localities the TPM refuses (DEN0138 DENIED): locality
	// requests and commands there fail. A nil slice means the default,
	// locality 4 closed (it belongs to the H-CRTM/DRTM sequence, which no
	// normal-world driver runs). Use an empty non-nil slice to open all five.
	Closed []int
	// InterfaceID overrides TPM_CRB_INTF_ID; zero means DefaultInterfaceID.
	InterfaceID uint64
}

// DefaultInterfaceID is TPM_CRB_INTF_ID as this model reports it: CRB active
// and the only interface, five localities, idle bypass, 64-byte transfers,
// selector locked.
const DefaultInterfaceID = IntfTypeCRB | IntfVersionCRB | IntfCapLocality | IntfCapCRBIdleBypass |
	IntfCapXfer64 | IntfCapCRB | IntfSelectorCRB | IntfSelLock

type locRegs struct {
	locCtrl   uint32 // written by software, consumed by the TPM; reads 0
	locSts    uint32
	ctrlReq   uint32
	cancel    uint32
	start     uint32
	intEnable uint32
	intSts    uint32
	cmdSize   uint32
	cmdLAddr  uint32
	cmdHAddr  uint32
	rspSize   uint32
	rspAddr   uint64
	buf       [DataBufferSize]byte
	dirty     int // buf[dirty:] is all zero
}

// Device is the CRB register file of one TPM: five locality blocks at
// Base + n*0x1000, each with its control area and data buffer. The normal
// world reaches it as a phys.Device (ReadMMIO/WriteMMIO); the TPM side
// (the DEN0138 partition) drives it through ProcessLocality and
// ServeCommand. Software writes are latched; the TPM acts on them when the
// partition is told to START, as DEN0138 specifies. A Device is safe for
// concurrent use.
type Device struct {
	mu      sync.Mutex
	base    uint64
	intfID  uint64
	cmdTab  *commandTable
	locTab  *locTable
	closed  uint8 // bit n: locality n closed
	state   State
	active  int   // active locality, -1 for none
	pending uint8 // bit n: locality n has a request waiting
	cancel  bool  // a cancel was noted during execution
	loc     [NumLocalities]locRegs
	trace   func(TraceEvent)
}

// TraceEvent records one transition, for logs and tests.
type TraceEvent struct {
	Locality int
	Cmd      *Transition    // set for command-table transitions
	Loc      *LocTransition // set for locality-table transitions
}

func (e TraceEvent) String() string {
	if e.Cmd != nil {
		return fmt.Sprintf("loc%d %s --%s--> %s (%s)", e.Locality, e.Cmd.From, e.Cmd.Event, e.Cmd.To, e.Cmd.Effect)
	}
	if e.Loc != nil {
		return fmt.Sprintf("loc%d %s --%s--> %s (%s)", e.Locality, e.Loc.From, e.Loc.Event, e.Loc.To, e.Loc.Effect)
	}
	return fmt.Sprintf("loc%d ?", e.Locality)
}

// NewDevice returns a CRB in its reset state: Idle, no locality active.
func NewDevice(cfg DeviceConfig) (*Device, error) {
	if cfg.Base%LocalityStride != 0 {
		return nil, fmt.Errorf("crb: base %#x is not 4 KiB aligned", cfg.Base)
	}
	if cfg.Base+WindowSize < cfg.Base {
		return nil, fmt.Errorf("crb: base %#x: window wraps the address space", cfg.Base)
	}
	d := &Device{base: cfg.Base, intfID: cfg.InterfaceID, cmdTab: newCommandTable(), locTab: newLocTable()}
	if d.intfID == 0 {
		d.intfID = DefaultInterfaceID
	}
	closed := cfg.Closed
	if closed == nil {
		closed = []int{4}
	}
	for _, n := range closed {
		if n < 0 || n >= NumLocalities {
			return nil, fmt.Errorf("crb: closed locality %d out of range 0..4", n)
		}
		d.closed |= 1 << n
	}
	d.reset()
	return d, nil
}

// SetTrace installs a function called (under the device lock) for every
// transition; it must not call back into the device. Pass nil to remove it.
func (d *Device) SetTrace(f func(TraceEvent)) {
	d.mu.Lock()
	d.trace = f
	d.mu.Unlock()
}

// Base returns the physical address of locality 0's block.
func (d *Device) Base() uint64 { return d.base }

// ControlArea returns the physical address the ACPI TPM2 table publishes:
// TPM_CRB_CTRL_REQ_0.
func (d *Device) ControlArea() uint64 { return d.base + ControlAreaOffset }

// BufferAddr returns the physical address of locality n's data buffer.
func (d *Device) BufferAddr(n int) uint64 {
	return d.base + uint64(n)*LocalityStride + DataBufferOffset
}

func (d *Device) reset() {
	d.state = StateIdle
	d.active = -1
	d.pending = 0
	d.cancel = false
	for n := range d.loc {
		l := &d.loc[n]
		*l = locRegs{}
		a := d.BufferAddr(n)
		l.cmdSize = DataBufferSize
		l.rspSize = DataBufferSize
		l.cmdLAddr = uint32(a)
		l.cmdHAddr = uint32(a >> 32)
		l.rspAddr = a
	}
}

// Reset applies _TPM_Init: every register back to its reset value.
func (d *Device) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fire(-1, EvReset)
}

// State returns the command state.
func (d *Device) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// ActiveLocality returns the active locality, or -1.
func (d *Device) ActiveLocality() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.active
}

// Closed reports whether locality n is closed.
func (d *Device) Closed(n int) bool { return n >= 0 && n < NumLocalities && d.closed&(1<<n) != 0 }

// fire applies one command-table transition. Caller holds d.mu.
func (d *Device) fire(n int, ev Event) Transition {
	tr := d.cmdTab[d.state][ev]
	var l *locRegs
	if n >= 0 {
		l = &d.loc[n]
	}
	switch ev {
	case EvCmdReady:
		if l != nil {
			l.ctrlReq &^= CtrlReqCmdReady
		}
	case EvGoIdle:
		if l != nil {
			l.ctrlReq &^= CtrlReqGoIdle
		}
	}
	switch tr.Effect {
	case EffAccept:
		if ev == EvCmdReady && l != nil {
			l.intSts |= IntCmdReady
		}
		if tr.To == StateIdle && d.state == StateComplete && l != nil {
			clear(l.buf[:l.dirty]) // PTP: the buffer contents need not survive goIdle
			l.dirty = 0
		}
	case EffRun:
		d.cancel = false
	case EffRespond:
		if l != nil {
			l.start = 0
			l.intSts |= IntStart
		}
	case EffCancelNoted:
		d.cancel = true
	case EffSetError, EffAbort:
		if l != nil {
			l.start = 0
		}
	case EffReset:
		d.reset()
	}
	d.state = tr.To
	if d.trace != nil {
		t := tr
		d.trace(TraceEvent{Locality: n, Cmd: &t})
	}
	return tr
}

// relation computes the locality state seen from n.
func (d *Device) relation(n int) LocRelation {
	pend := d.pending&(1<<n) != 0
	switch {
	case d.active < 0:
		return LocNone
	case d.active == n:
		return LocSelf
	case d.active < n && pend:
		return LocLowerPending
	case d.active < n:
		return LocLower
	case pend:
		return LocHigherPending
	}
	return LocHigher
}

// ProcessLocality is the TPM acting on TPM_LOC_CTRL_n, as DEN0138 START
// with the locality qualifier asks. It consumes the latched LOC_CTRL value,
// applies the locality table and returns the row used and the DEN0138
// status. n must be 0..4 (the partition checks it first).
func (d *Device) ProcessLocality(n int) (LocTransition, Status) {
	if n < 0 || n >= NumLocalities {
		return LocTransition{}, StatusInvArg
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	l := &d.loc[n]
	ev := DecodeLocCtrl(l.locCtrl)
	l.locCtrl = 0
	if d.Closed(n) {
		return LocTransition{From: d.relation(n), Event: ev, To: d.relation(n), Effect: LocDeny,
			Rule: "DEN0138 START: the TPM has disabled this locality -> DENIED"}, StatusDenied
	}
	tr := d.locTab[d.relation(n)][ev]
	st := StatusOK
	switch tr.Effect {
	case LocGrant:
		d.grant(n)
	case LocKeep:
	case LocPend:
		d.pending |= 1 << n
	case LocRelease:
		d.release(n)
	case LocWithdraw:
		d.pending &^= 1 << n
	case LocSeize:
		old := d.active
		d.loc[old].locSts = (d.loc[old].locSts &^ LocStsGranted) | LocStsBeenSeized
		d.grant(n)
	case LocDeny:
		st = StatusDenied
	case LocInvalid:
		st = StatusInvCRBCtrlData
	}
	if d.trace != nil {
		t := tr
		d.trace(TraceEvent{Locality: n, Loc: &t})
	}
	return tr, st
}

func (d *Device) grant(n int) {
	d.active = n
	d.pending &^= 1 << n
	d.loc[n].locSts = LocStsGranted
	for i := range d.loc {
		d.loc[i].intSts |= IntLocalityChange
	}
}

func (d *Device) release(n int) {
	d.loc[n].locSts &^= LocStsGranted | LocStsBeenSeized
	d.active = -1
	for i := range d.loc {
		d.loc[i].intSts |= IntLocalityChange
	}
	// PTP: the highest pending request is granted next.
	for i := NumLocalities - 1; i >= 0; i-- {
		if d.pending&(1<<i) != 0 {
			d.grant(i)
			return
		}
	}
}

// Step is one command-table transition in compact form.
type Step struct {
	From   State
	Event  Event
	To     State
	Effect Effect
}

func (s Step) String() string {
	return fmt.Sprintf("%s --%s--> %s (%s)", s.From, s.Event, s.To, s.Effect)
}

// CommandOutcome reports what ServeCommand did. It is small enough to
// return by value on every command.
type CommandOutcome struct {
	Steps     [4]Step // command-table rows applied, in order (NSteps of them)
	NSteps    uint8
	Ran       bool   // the engine was called
	TPMRC     uint32 // response code of the response written, if any
	EngineErr error  // the engine's error (the device is then in Error)
}

// Applied returns the command-table steps applied, in order.
func (o *CommandOutcome) Applied() []Step { return o.Steps[:o.NSteps] }

func (o *CommandOutcome) add(t Transition) {
	if int(o.NSteps) < len(o.Steps) {
		o.Steps[o.NSteps] = Step{t.From, t.Event, t.To, t.Effect}
		o.NSteps++
	}
}

// ServeCommand is the TPM acting on locality n's control area, as DEN0138
// START with the command qualifier asks: it takes a pending goIdle or
// cmdReady request, or runs the command in the buffer on eng when
// CTRL_START is set, writes the response and clears CTRL_START. It returns
// the DEN0138 status:
//   - DENIED when locality n is closed or the TPM is in its fatal error state;
//   - INVARG when n is not the active locality;
//   - INV_CRB_CTRL_DATA when there is nothing to do (no request, CTRL_START
//     and CTRL_CANCEL clear), both cmdReady and goIdle are set, or the
//     command/response size or address does not lie inside n's data buffer;
//   - NOMEM when the command ran but its response is larger than RSP_SIZE
//     (the buffer then holds TPM_RC_MEMORY and CTRL_START is cleared);
//   - OK otherwise.
func (d *Device) ServeCommand(n int, eng transport.TPM) (Status, CommandOutcome) {
	var out CommandOutcome
	if n < 0 || n >= NumLocalities {
		return StatusInvArg, out
	}
	d.mu.Lock()
	if d.Closed(n) {
		d.mu.Unlock()
		return StatusDenied, out
	}
	if d.active != n {
		d.mu.Unlock()
		return StatusInvArg, out
	}
	l := &d.loc[n]
	req, start, cancel := l.ctrlReq&(CtrlReqCmdReady|CtrlReqGoIdle), l.start&CtrlStartInvoke != 0, l.cancel&CtrlCancelInvoke != 0
	if req == CtrlReqCmdReady|CtrlReqGoIdle {
		l.ctrlReq &^= req
		d.mu.Unlock()
		return StatusInvCRBCtrlData, out
	}
	if req == 0 && !start && !cancel {
		d.mu.Unlock()
		return StatusInvCRBCtrlData, out
	}
	if req&CtrlReqGoIdle != 0 {
		out.add(d.fire(n, EvGoIdle))
	}
	if req&CtrlReqCmdReady != 0 {
		out.add(d.fire(n, EvCmdReady))
	}
	if !start {
		if req == 0 && cancel {
			out.add(d.fire(n, EvCancel))
		}
		d.mu.Unlock()
		return StatusOK, out
	}
	if d.state == StateError {
		out.add(d.fire(n, EvStart))
		d.mu.Unlock()
		return StatusDenied, out
	}
	cmdAddr := uint64(l.cmdHAddr)<<32 | uint64(l.cmdLAddr)
	cmdOff, okCmd := d.inBuffer(n, cmdAddr, l.cmdSize)
	rspOff, okRsp := d.inBuffer(n, l.rspAddr, l.rspSize)
	if !okCmd || !okRsp || l.rspSize < headerSize {
		d.mu.Unlock()
		return StatusInvCRBCtrlData, out
	}
	tr := d.fire(n, EvStart)
	out.add(tr)
	if tr.Effect != EffRun {
		d.mu.Unlock()
		return StatusOK, out
	}
	cmd := l.buf[cmdOff : cmdOff+int(l.cmdSize)]
	var rsp []byte
	size := uint32(0)
	if len(cmd) >= headerSize {
		size = binary.BigEndian.Uint32(cmd[2:6])
	}
	switch {
	case size < headerSize || size > uint32(len(cmd)):
		rsp = ErrorResponse(RCCommandSize)
	case cancel:
		rsp = ErrorResponse(RCCanceled)
	default:
		cmd = append([]byte(nil), cmd[:size]...)
		d.mu.Unlock()
		var err error
		rsp, err = eng.Send(cmd)
		out.Ran = true
		d.mu.Lock()
		if err == nil {
			err = checkResponse(rsp)
		}
		if err != nil {
			out.EngineErr = err
			out.add(d.fire(n, EvFault))
			d.mu.Unlock()
			return StatusOK, out
		}
		// A cancel noted while the engine ran came too late: the command
		// completed and its own response stands (PTP: the TPM may finish a
		// command despite a cancel), so no result is lost.
		if uint32(len(rsp)) > l.rspSize && d.state == StateExecuting {
			// The response does not fit the response buffer software
			// gave: the command ran but its result is lost. DEN0138 NOMEM;
			// the buffer gets TPM_RC_MEMORY so a poller sees completion.
			out.TPMRC = RCMemory
			copy(l.buf[rspOff:], ErrorResponse(RCMemory))
			l.dirty = max(l.dirty, rspOff+headerSize)
			out.add(d.fire(n, EvComplete))
			d.mu.Unlock()
			return StatusNoMem, out
		}
	}
	if d.state != StateExecuting {
		// A reset or fault arrived while the engine ran; drop the response.
		d.mu.Unlock()
		return StatusOK, out
	}
	// The response area holds the response and zeros after it (only the
	// bytes that may be non-zero are cleared).
	end := rspOff + len(rsp)
	copy(l.buf[rspOff:], rsp)
	if lim := min(l.dirty, rspOff+int(l.rspSize)); lim > end {
		clear(l.buf[end:lim])
	}
	l.dirty = max(l.dirty, end)
	out.TPMRC = binary.BigEndian.Uint32(rsp[6:10])
	out.add(d.fire(n, EvComplete))
	d.mu.Unlock()
	return StatusOK, out
}

// inBuffer checks that [addr, addr+size) lies in locality n's data buffer
// and returns the offset into it.
func (d *Device) inBuffer(n int, addr uint64, size uint32) (int, bool) {
	lo := d.BufferAddr(n)
	if size == 0 || size > DataBufferSize || addr < lo || addr-lo > uint64(DataBufferSize-size) {
		return 0, false
	}
	return int(addr - lo), true
}

func checkResponse(rsp []byte) error {
	if len(rsp) < headerSize {
		return fmt.Errorf("crb: engine response of %d bytes is shorter than a TPM header", len(rsp))
	}
	if got := binary.BigEndian.Uint32(rsp[2:6]); got != uint32(len(rsp)) {
		return fmt.Errorf("crb: engine response header says %d bytes, got %d", got, len(rsp))
	}
	if len(rsp) > DataBufferSize {
		return fmt.Errorf("crb: engine response of %d bytes exceeds the %d-byte data buffer", len(rsp), DataBufferSize)
	}
	return nil
}

// ErrorResponse builds a 10-byte TPM response carrying rc.
func ErrorResponse(rc uint32) []byte {
	b := make([]byte, headerSize)
	binary.BigEndian.PutUint16(b[0:2], stNoSessions)
	binary.BigEndian.PutUint32(b[2:6], headerSize)
	binary.BigEndian.PutUint32(b[6:10], rc)
	return b
}

// ReadMMIO implements phys.Device. off is relative to Base; the bus has
// checked size (1, 2, 4, 8), alignment and bounds.
func (d *Device) ReadMMIO(off uint64, size int) (uint64, error) {
	if err := checkAccess(off, size); err != nil {
		return 0, err
	}
	n, r := int(off/LocalityStride), off%LocalityStride
	d.mu.Lock()
	defer d.mu.Unlock()
	l := &d.loc[n]
	if r >= DataBufferOffset {
		var b [8]byte
		copy(b[:size], l.buf[r-DataBufferOffset:])
		return binary.LittleEndian.Uint64(b[:]), nil
	}
	q := d.readQuad(n, r&^7)
	q >>= 8 * (r & 7)
	if size < 8 {
		q &= 1<<(8*uint(size)) - 1
	}
	return q, nil
}

// ReadMMIOBlock is phys.BlockDevice: a run inside one locality's data
// buffer reads as the run of 1- and 8-byte ReadMMIO accesses would.
func (d *Device) ReadMMIOBlock(off uint64, p []byte) bool {
	n, o, ok := bufferRun(off, len(p))
	if !ok {
		return false
	}
	d.mu.Lock()
	copy(p, d.loc[n].buf[o:])
	d.mu.Unlock()
	return true
}

// WriteMMIOBlock is phys.BlockDevice: a run inside one locality's data
// buffer is stored as the run of 1- and 8-byte WriteMMIO accesses would
// store it (nothing while another locality is active or a command runs).
func (d *Device) WriteMMIOBlock(off uint64, p []byte) bool {
	n, o, ok := bufferRun(off, len(p))
	if !ok {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.active != n || d.state == StateExecuting {
		return true
	}
	l := &d.loc[n]
	copy(l.buf[o:], p)
	l.dirty = max(l.dirty, o+len(p))
	return true
}

// bufferRun locates a run of n bytes at window offset off inside one
// locality's data buffer.
func bufferRun(off uint64, n int) (loc, o int, ok bool) {
	if n <= 0 || off/LocalityStride >= NumLocalities {
		return 0, 0, false
	}
	r := off % LocalityStride
	if r < DataBufferOffset || r-DataBufferOffset+uint64(n) > DataBufferSize {
		return 0, 0, false
	}
	return int(off / LocalityStride), int(r - DataBufferOffset), true
}

// readQuad returns the aligned 8 bytes of registers at r. Caller holds d.mu.
func (d *Device) readQuad(n int, r uint64) uint64 {
	l := &d.loc[n]
	lo32 := func(lo, hi uint32) uint64 { return uint64(lo) | uint64(hi)<<32 }
	switch Reg(r) {
	case RegLocState:
		return lo32(d.locState(), 0)
	case RegLocCtrl: // LOC_CTRL is write-only and reads 0; LOC_STS follows
		return lo32(0, l.locSts)
	case RegIntfID:
		return d.intfID
	case RegCtrlReq:
		return lo32(l.ctrlReq, d.ctrlSts())
	case RegCtrlCancel:
		return lo32(l.cancel, l.start)
	case RegIntEnable:
		return lo32(l.intEnable, l.intSts)
	case RegCmdSize:
		return lo32(l.cmdSize, l.cmdLAddr)
	case RegCmdHAddr:
		return lo32(l.cmdHAddr, l.rspSize)
	case RegRspAddr:
		return l.rspAddr
	}
	return 0 // reserved: reads 0
}

func (d *Device) locState() uint32 {
	// tpmEstablished keeps its reset value 1 (as QEMU's CRB and the ODP TPM
	// service report it): no DRTM sequence is modelled, so nothing changes
	// it, and resetEstablishmentBit has no effect.
	v := LocStateRegValidSts | LocStateTPMEstablished
	if d.active >= 0 {
		v |= LocStateLocAssigned | uint32(d.active)<<LocStateActiveShift
	}
	return v
}

func (d *Device) ctrlSts() uint32 {
	switch d.state {
	case StateIdle:
		return CtrlStsTPMIdle
	case StateError:
		return CtrlStsTPMSts
	}
	return 0
}

// WriteMMIO implements phys.Device. Writes to read-only and reserved
// registers and reserved bits are ignored, as are writes to a locality's
// control area and data buffer while that locality is not active, and data
// buffer writes while a command executes.
func (d *Device) WriteMMIO(off uint64, size int, v uint64) error {
	if err := checkAccess(off, size); err != nil {
		return err
	}
	n, r := int(off/LocalityStride), off%LocalityStride
	d.mu.Lock()
	defer d.mu.Unlock()
	l := &d.loc[n]
	if r >= uint64(RegCtrlReq) && d.active != n {
		return nil
	}
	if r >= DataBufferOffset {
		if d.state == StateExecuting {
			return nil
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		o := int(r - DataBufferOffset)
		copy(l.buf[o:], b[:size])
		l.dirty = max(l.dirty, o+size)
		return nil
	}
	var mask uint64 = ^uint64(0)
	if size < 8 {
		mask = 1<<(8*uint(size)) - 1
	}
	sh := 8 * (r & 7)
	v, mask = v<<sh, mask<<sh
	q := r &^ 7
	d.write32(n, Reg(q), uint32(v), uint32(mask))
	d.write32(n, Reg(q+4), uint32(v>>32), uint32(mask>>32))
	return nil
}

// write32 applies a masked write to the 32-bit register (or 64-bit register
// half) at r. Caller holds d.mu.
func (d *Device) write32(n int, r Reg, v, m uint32) {
	if m == 0 {
		return
	}
	l := &d.loc[n]
	set := func(p *uint32, valid uint32) { *p = (*p&^m | v&m) & valid }
	switch r {
	case RegLocCtrl:
		set(&l.locCtrl, 0xF)
	case RegCtrlReq:
		// RW1S; a new request supersedes one the TPM has not yet taken
		// (software that wrote cmdReady, gave up and wrote goIdle wants
		// Idle). Both bits in one write stay both: INV_CRB_CTRL_DATA.
		if w := v & m & (CtrlReqCmdReady | CtrlReqGoIdle); w != 0 {
			l.ctrlReq = w
		}
	case RegCtrlCancel:
		set(&l.cancel, CtrlCancelInvoke)
	case RegCtrlStart:
		if v&m&CtrlStartInvoke != 0 && d.state != StateExecuting {
			l.start = CtrlStartInvoke
		}
	case RegIntEnable:
		set(&l.intEnable, IntStart|IntCmdReady|IntEstablishmentClear|IntLocalityChange|IntGlobalEnable)
	case RegIntSts:
		l.intSts &^= v & m
	case RegCmdSize:
		set(&l.cmdSize, ^uint32(0))
	case RegCmdLAddr:
		set(&l.cmdLAddr, ^uint32(0))
	case RegCmdHAddr:
		set(&l.cmdHAddr, ^uint32(0))
	case RegRspSize:
		set(&l.rspSize, ^uint32(0))
	case RegRspAddr:
		lo := uint32(l.rspAddr)
		set(&lo, ^uint32(0))
		l.rspAddr = l.rspAddr&^0xFFFFFFFF | uint64(lo)
	case RegRspAddr + 4:
		hi := uint32(l.rspAddr >> 32)
		set(&hi, ^uint32(0))
		l.rspAddr = l.rspAddr&0xFFFFFFFF | uint64(hi)<<32
	}
	// Everything else is read-only or reserved: ignored.
}

// AccessError is a CRB access outside the device's rules (the bus normally
// catches these first).
type AccessError struct {
	Off  uint64
	Size int
	Why  string
}

func (e *AccessError) Error() string {
	return fmt.Sprintf("crb: %d-byte access at offset %#x: %s", e.Size, e.Off, e.Why)
}

func checkAccess(off uint64, size int) error {
	switch size {
	case 1, 2, 4, 8:
	default:
		return &AccessError{off, size, "size must be 1, 2, 4 or 8"}
	}
	if off%uint64(size) != 0 {
		return &AccessError{off, size, "misaligned"}
	}
	if off >= WindowSize || off+uint64(size) > WindowSize {
		return &AccessError{off, size, "outside the 5 x 4 KiB CRB window"}
	}
	return nil
}

// Snapshot is a copy of one locality's registers for tests and logs.
type Snapshot struct {
	State    State
	Active   int
	Pending  uint8
	LocState uint32
	LocSts   uint32
	CtrlReq  uint32
	CtrlSts  uint32
	Cancel   uint32
	Start    uint32
	IntSts   uint32
}

// Snapshot returns locality n's registers and the device state.
func (d *Device) Snapshot(n int) Snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := &d.loc[n]
	return Snapshot{State: d.state, Active: d.active, Pending: d.pending, LocState: d.locState(),
		LocSts: l.locSts, CtrlReq: l.ctrlReq, CtrlSts: d.ctrlSts(), Cancel: l.cancel, Start: l.start, IntSts: l.intSts}
}

// PeekLocCtrl returns the LOC_CTRL value software latched at locality n and
// the TPM has not yet processed (the TPM-side view; software reads 0).
func (d *Device) PeekLocCtrl(n int) uint32 {
	if n < 0 || n >= NumLocalities {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.loc[n].locCtrl
}
