package kernel

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/ffa/phys"
)

// This file models drivers/char/tpm/tpm_crb.c for the ACPI TPM2 table with
// start method 15 (CRB over FF-A): crb_acpi_add, crb_map_io and the
// tpm_class_ops (request/relinquish locality, cmd_ready, go_idle, send,
// status, recv) over the CRB's MMIO registers, with tpm_crb_ffa_start()
// telling the TPM service that the control area changed.

// CRB register offsets inside a locality's block (TCG PC Client PTP).
const (
	crbLocState   = 0x00
	crbLocCtrl    = 0x08
	crbLocSts     = 0x0C
	crbIntfID     = 0x30
	crbCtrlReq    = 0x40 // the control area starts here
	crbCtrlSts    = 0x44
	crbCtrlCancel = 0x48
	crbCtrlStart  = 0x4C
	crbCmdSize    = 0x58
	crbCmdLAddr   = 0x5C
	crbCmdHAddr   = 0x60
	crbRspSize    = 0x64
	crbRspAddr    = 0x68

	crbLocCtrlRequestAccess = 1 << 0
	crbLocCtrlRelinquish    = 1 << 1
	crbLocStateLocAssigned  = 1 << 1
	crbLocStateRegValidSts  = 1 << 7
	crbCtrlReqCmdReady      = 1 << 0
	crbCtrlReqGoIdle        = 1 << 1
	crbCtrlStsError         = 1 << 0
	crbStartInvoke          = 1 << 0

	tpmTimeoutC  = 200 * time.Millisecond // TPM2_TIMEOUT_C
	tpmPollSleep = 100 * time.Microsecond // usleep_range(50, 100)
	// tpmTransmitPoll is tpm_try_transmit's tpm_msleep(TPM_TIMEOUT_POLL)
	// between crb_status polls (drivers/char/tpm/tpm.h: TPM_TIMEOUT_POLL
	// = 1 ms).
	tpmTransmitPoll = time.Millisecond
	tpmCmdTimeout   = 2 * time.Second // bound on polling CTRL_START
	tpmBufSize      = 4096
)

// crbPriv is struct crb_priv.
type crbPriv struct {
	sm               uint32
	regsH            uint64 // locality registers (control area - 0x40)
	regsT            uint64 // control area
	cmd, rsp         uint64
	cmdSize, rspSize uint32
	ffaFlags, ffaAtt uint8
	dev              *Device
	// chip is the name of the TPM chip once tpmm_chip_alloc has run
	// ("tpm0"): the ops the TPM core calls print with &chip->dev, whose
	// dev_driver_string is the class name, "tpm tpm0: ...".
	chip string
}

// crbWarn prints as tpm_crb's dev_warn/dev_err do. Called through the chip
// ops (crb_request_locality, crb_cmd_ready, crb_send ... all pass
// &chip->dev) the line names the chip; called from crb_map_io, before the
// chip exists, it names the ACPI device ("tpm_crb MSFT0101:00: ...").
func (k *Kernel) crbWarn(priv *crbPriv, viaChip bool, format string, args ...any) {
	if viaChip && priv.chip != "" {
		k.printf("tpm "+priv.chip+": "+format, args...)
		return
	}
	k.devPrintf(priv.dev, format, args...)
}

func newCRBACPIDriver() *Driver {
	return &Driver{Name: tpmCRBDriverName, Probe: crbACPIAdd, Data: &acpiDriverData{ids: []string{tpmCRBHID}}}
}

// crbACPIDriverInit is the initcall module_acpi_driver(crb_acpi_driver)
// generates (acpi_bus_register_driver).
func crbACPIDriverInit(k *Kernel) error {
	drv := k.drv.crbACPIDriver
	drv.Bus = k.drv.acpiBus
	return k.DriverRegister(drv)
}

// crbACPIAdd is crb_acpi_add, the ACPI driver's probe.
func crbACPIAdd(k *Kernel, dev *Device) error {
	raw, ok := k.spec.Platform.ACPITables["TPM2"]
	if !ok {
		k.devPrintf(dev, fwBug+"failed to get TPM2 ACPI table")
		return EINVAL
	}
	t, sumOK, err := ParseTPM2Table(raw)
	if !sumOK && err == nil {
		k.printf("ACPI BIOS Warning (bug): Incorrect checksum in table [TPM2]")
	}
	if err != nil {
		k.devPrintf(dev, fwBug+"failed to get TPM2 ACPI table")
		k.res.Notes = append(k.res.Notes, err.Error())
		return EINVAL
	}
	if t.StartMethod == TPM2StartMMIO {
		return ENODEV
	}
	priv := &crbPriv{sm: t.StartMethod, dev: dev}
	if t.StartMethod == TPM2StartCRBARMSMC && t.Length < tpm2TableSize+tpm2CRBSMCSize {
		k.devPrintf(dev, fwBug+"TPM2 ACPI table has wrong size %d for start method type %d", t.Length, TPM2StartCRBARMSMC)
		return EINVAL
	}
	if t.StartMethod == TPM2StartCRBARMFFA {
		if !t.HasFFAParams {
			k.devPrintf(dev, fwBug+"TPM2 ACPI table has wrong size %d for start method type %d", t.Length, TPM2StartCRBARMFFA)
			return EINVAL
		}
		priv.ffaFlags, priv.ffaAtt = t.FFAFlags, t.FFAAttributes
		if err := k.crbFFAInitReachable(); err != nil {
			if e, _ := AsErrno(err); e == ENOENT {
				return EPROBE_DEFER // FF-A driver is not available yet
			}
			return err
		}
		if k.panicked {
			return nil
		}
	}
	if e := k.crbMapIO(priv, dev, t); e != 0 {
		return e
	}
	return k.tpmChipRegister(dev, priv)
}

// crbFFAInitReachable calls tpm_crb_ffa_init() through tpm_crb_ffa.h: when
// tpm_crb cannot reach tpm_crb_ffa (IS_REACHABLE is false: tpm_crb built in,
// tpm_crb_ffa a module, or not built) the header's stub returns 0.
func (k *Kernel) crbFFAInitReachable() error {
	if !k.crbReachesFFA {
		return nil
	}
	return k.tpmCRBFFAInit()
}

// crbFFAStartReachable is tpm_crb_ffa_start through the header (stub: 0).
func (k *Kernel) crbFFAStartReachable(priv *crbPriv, typ, loc int) Errno {
	if priv.sm != TPM2StartCRBARMFFA || !k.crbReachesFFA {
		return 0
	}
	return k.tpmCRBFFAStart(typ, loc)
}

// MMIO accesses; an access the bus refuses is a synchronous external abort.
func (k *Kernel) ioread(addr uint64, size int) uint64 {
	k.clock.Advance(k.costs.MMIO)
	v, err := k.spec.Platform.Mem.Read(addr, size)
	if err != nil {
		k.externalAbort(err)
		return 1<<(8*uint(size)) - 1
	}
	return v
}

func (k *Kernel) iowrite(addr uint64, size int, v uint64) {
	k.clock.Advance(k.costs.MMIO)
	if err := k.spec.Platform.Mem.Write(addr, size, v); err != nil {
		k.externalAbort(err)
	}
}

func (k *Kernel) ioread32(addr uint64) uint32 { return uint32(k.ioread(addr, 4)) }

func (k *Kernel) iowrite32(addr uint64, v uint32) { k.iowrite(addr, 4, uint64(v)) }

// crbRead / crbWrite access a CRB register of locality 0 (off from the
// start of the locality's block), traced by register name with Spec.Trace.
func (k *Kernel) crbRead(priv *crbPriv, off uint64) uint32 {
	v := k.ioread32(priv.regsH + off)
	if k.spec.Trace && !k.quiet {
		k.event(Event{Kind: EvMMIO, Device: priv.dev.Name, Detail: fmt.Sprintf("read  %s_0 = %s", crb.Reg(off), crb.DescribeBits(crb.Reg(off), uint64(v)))})
	}
	return v
}

func (k *Kernel) crbWrite(priv *crbPriv, off uint64, v uint32) {
	if k.spec.Trace && !k.quiet {
		k.event(Event{Kind: EvMMIO, Device: priv.dev.Name, Detail: fmt.Sprintf("write %s_0 = %s", crb.Reg(off), crb.DescribeBits(crb.Reg(off), uint64(v)))})
	}
	k.iowrite32(priv.regsH+off, v)
}

func (k *Kernel) externalAbort(err error) {
	if k.panicked {
		return
	}
	k.printf("Internal error: synchronous external abort: 0000000096000010 [#1] SMP")
	k.printf("%v", err)
	k.Panic("Kernel panic - not syncing: synchronous external abort: Fatal exception")
}

// waitReg32 is crb_wait_for_reg_32: poll until (reg & mask) == value.
func (k *Kernel) waitReg32(priv *crbPriv, off uint64, mask, value uint32, timeout time.Duration) bool {
	stop := k.clock.now + timeout
	// skip: the register reads the same value until the kernel next writes
	// or calls into the secure world, and reading it leaves no trace (no
	// device side effect, no event). Then every further read of the poll
	// would fail the same way, and only the virtual clock moves.
	skip := !(k.spec.Trace && !k.quiet) && k.pureRead(priv.regsH+off, 4)
	for {
		if k.crbRead(priv, off)&mask == value {
			return true
		}
		if k.panicked || k.clock.now > stop {
			return false
		}
		if skip {
			k.clock.now = skipPoll(k.clock.now, stop, tpmPollSleep, k.costs.MMIO)
			return false
		}
		k.clock.Advance(tpmPollSleep)
	}
}

// PureReader is an optional interface of Platform.Mem. PureRead reports
// that a read of size bytes at addr succeeds, has no side effect, and
// returns the same value until the next Write to the memory or the next
// call through the platform's FF-A conduit (virtual time passing does not
// change it). The kernel then may skip the reads of a poll that cannot
// succeed, moving the virtual clock as the reads would have. Memory that
// cannot promise this must not implement it (or must answer false).
type PureReader interface {
	PureRead(addr uint64, size int) bool
}

func (k *Kernel) pureRead(addr uint64, size int) bool {
	return k.pure != nil && k.pure.PureRead(addr, size)
}

// skipPoll returns the virtual time at which a poll loop that has just
// failed a read at now (with now <= stop) gives up: each further round
// sleeps and reads again (Clock.Advance ignores negative steps), and the
// loop stops after the first read made when the clock is past stop. It is
// the slow loop's arithmetic without the reads.
func skipPoll(now, stop, sleep, read time.Duration) time.Duration {
	step := max(sleep, 0) + max(read, 0)
	if step <= 0 {
		// The slow loop would never end; keep its clock (never reached
		// with the kernel's constants: tpmPollSleep > 0).
		return now
	}
	n := (stop-now)/step + 1
	return now + n*step
}

func (k *Kernel) crbRequestLocality(priv *crbPriv, loc int, viaChip bool) Errno {
	k.crbWrite(priv, crbLocCtrl, crbLocCtrlRequestAccess)
	if e := k.crbFFAStartReachable(priv, crbFFAStartTypeLocality, loc); e != 0 {
		return e
	}
	want := uint32(crbLocStateLocAssigned | crbLocStateRegValidSts)
	if !k.waitReg32(priv, crbLocState, want, want, tpmTimeoutC) {
		k.crbWarn(priv, viaChip, "TPM_LOC_STATE_x.requestAccess timed out")
		return ETIME
	}
	return 0
}

func (k *Kernel) crbRelinquishLocality(priv *crbPriv, loc int, viaChip bool) Errno {
	k.crbWrite(priv, crbLocCtrl, crbLocCtrlRelinquish)
	if e := k.crbFFAStartReachable(priv, crbFFAStartTypeLocality, loc); e != 0 {
		return e
	}
	mask := uint32(crbLocStateLocAssigned | crbLocStateRegValidSts)
	if !k.waitReg32(priv, crbLocState, mask, crbLocStateRegValidSts, tpmTimeoutC) {
		k.crbWarn(priv, viaChip, "TPM_LOC_STATE_x.Relinquish timed out")
		return ETIME
	}
	return 0
}

// crbHasIdle is tpm_crb_has_idle: the start methods whose TPM takes
// cmdReady/goIdle requests. Linux's tree leaves out ACPI start (2), command
// buffer with ACPI start (8), Arm SMC (11) and Arm FF-A (15), so over FF-A
// __crb_cmd_ready and __crb_go_idle return 0 without touching CTRL_REQ or
// calling the TPM service. (A later patch, "tpm_crb: Add idle support for
// the Arm FF-A start method", drops 15 from the list; crb/crbdrv's
// ChipConfig.Idle models that form.)
func crbHasIdle(sm uint32) bool {
	switch sm {
	case TPM2StartACPI, TPM2StartCRBACPI, TPM2StartCRBARMSMC, TPM2StartCRBARMFFA:
		return false
	}
	return true
}

func (k *Kernel) crbCmdReady(priv *crbPriv, loc int, viaChip bool) Errno {
	if !crbHasIdle(priv.sm) {
		return 0
	}
	k.crbWrite(priv, crbCtrlReq, crbCtrlReqCmdReady)
	if e := k.crbFFAStartReachable(priv, crbFFAStartTypeCommand, loc); e != 0 {
		return e
	}
	if !k.waitReg32(priv, crbCtrlReq, crbCtrlReqCmdReady, 0, tpmTimeoutC) {
		k.crbWarn(priv, viaChip, "cmdReady timed out")
		return ETIME
	}
	return 0
}

func (k *Kernel) crbGoIdle(priv *crbPriv, loc int, viaChip bool) Errno {
	if !crbHasIdle(priv.sm) {
		return 0
	}
	k.crbWrite(priv, crbCtrlReq, crbCtrlReqGoIdle)
	if e := k.crbFFAStartReachable(priv, crbFFAStartTypeCommand, loc); e != 0 {
		return e
	}
	if !k.waitReg32(priv, crbCtrlReq, crbCtrlReqGoIdle, 0, tpmTimeoutC) {
		k.crbWarn(priv, viaChip, "goIdle timed out")
		return ETIME
	}
	return 0
}

// crbMapIO is crb_map_io: map the control area (its locality registers sit
// just below it), wake the TPM, read the command and response buffer
// addresses and put it back to idle.
func (k *Kernel) crbMapIO(priv *crbPriv, dev *Device, t TPM2Table) Errno {
	ad, _ := dev.Data.(*ACPIDeviceData)
	if ad == nil || len(ad.Resources) == 0 {
		k.devPrintf(dev, fwBug+"TPM2 ACPI table does not define a memory resource")
		return EINVAL
	}
	priv.regsT = t.ControlAddress
	priv.regsH = t.ControlAddress - crbCtrlReq
	if !k.regionMapped(priv.regsH, 0x80) {
		k.devPrintf(dev, "can't request region for resource [mem %#010x-%#010x]", priv.regsH, priv.regsH+0x7f)
		return EBUSY
	}
	if e := k.crbRequestLocality(priv, 0, false); e != 0 {
		return e
	}
	if e := k.crbCmdReady(priv, 0, false); e != 0 {
		k.crbRelinquishLocality(priv, 0, false)
		return e
	}
	priv.cmd = uint64(k.crbRead(priv, crbCmdHAddr))<<32 | uint64(k.crbRead(priv, crbCmdLAddr))
	priv.cmdSize = k.crbRead(priv, crbCmdSize)
	priv.rsp = uint64(k.crbRead(priv, crbRspAddr+4))<<32 | uint64(k.crbRead(priv, crbRspAddr))
	priv.rspSize = k.crbRead(priv, crbRspSize)
	var e Errno
	switch {
	case k.panicked:
		return EIO
	case priv.cmd == priv.rsp && priv.cmdSize != priv.rspSize:
		k.devPrintf(dev, fwBug+"overlapping command and response buffer sizes are not identical")
		e = EINVAL
	case priv.cmdSize < 10 || priv.rspSize < 10 || !k.regionMapped(priv.cmd, uint64(priv.cmdSize)) || !k.regionMapped(priv.rsp, uint64(priv.rspSize)):
		k.devPrintf(dev, "can't request region for resource [mem %#010x-%#010x]", priv.cmd, priv.cmd+uint64(priv.cmdSize)-1)
		e = EBUSY
	}
	k.crbGoIdle(priv, 0, false)
	k.crbRelinquishLocality(priv, 0, false)
	return e
}

// regionMapped reports whether [addr, addr+size) lies in one region of the
// normal world's address space (what devm_ioremap_resource needs).
func (k *Kernel) regionMapped(addr, size uint64) bool {
	if size == 0 || addr+size < addr {
		return false
	}
	switch m := k.spec.Platform.Mem.(type) {
	case nil:
		return false
	case mapper:
		return m.Mapped(addr, size)
	case busHolder:
		b := m.Bus()
		if b == nil {
			return false
		}
		r, ok := b.Lookup(addr)
		return ok && r.Contains(addr, size)
	}
	return true
}

// crbTransmit is tpm_try_transmit over the CRB ops: send, poll status,
// receive. The caller holds the chip (locality and cmdReady). Its error
// lines are those of tpm_try_transmit (drivers/char/tpm/tpm-interface.c),
// printed with &chip->dev.
func (k *Kernel) crbTransmit(priv *crbPriv, cmd []byte) ([]byte, Errno) {
	if e := k.crbSend(priv, cmd); e != 0 {
		if e != EPIPE {
			k.crbWarn(priv, true, "tpm_try_transmit: send(): error %d", e.Ret())
		}
		return nil, e
	}
	rsp, e := k.crbPollRecv(priv)
	if e == EIO {
		k.crbWarn(priv, true, "tpm_transmit: tpm_recv: error %d", e.Ret())
	}
	return rsp, e
}

// crbSend is crb_send for the FF-A start method: clear CTRL_CANCEL, check
// the size, copy the command, set CTRL_START and call the TPM service.
func (k *Kernel) crbSend(priv *crbPriv, cmd []byte) Errno {
	// "Zero the cancel register so that the next command will not get
	// canceled."
	k.crbWrite(priv, crbCtrlCancel, 0)
	if len(cmd) > int(priv.cmdSize) {
		k.crbWarn(priv, true, "invalid command count value %d %d", len(cmd), priv.cmdSize)
		return E2BIG
	}
	if k.spec.Trace && !k.quiet {
		k.event(Event{Kind: EvMMIO, Device: priv.dev.Name, Detail: fmt.Sprintf("memcpy_toio %d bytes to the command buffer at %#x", len(cmd), priv.cmd)})
	}
	k.writeBuf(priv.cmd, cmd)
	k.crbWrite(priv, crbCtrlStart, crbStartInvoke)
	return k.crbFFAStartReachable(priv, crbFFAStartTypeCommand, 0)
}

// crbPollRecv polls crb_status until CTRL_START clears (on timeout:
// crb_cancel and "Operation Timed out"), then runs crb_recv.
func (k *Kernel) crbPollRecv(priv *crbPriv) ([]byte, Errno) {
	stop := k.clock.now + tpmCmdTimeout
	for k.crbRead(priv, crbCtrlStart)&crbStartInvoke != 0 {
		if k.panicked {
			return nil, EIO
		}
		if k.clock.now > stop {
			k.crbCancel(priv)
			k.crbWarn(priv, true, "Operation Timed out")
			return nil, ETIME
		}
		k.clock.Advance(tpmTransmitPoll)
	}
	k.clock.Advance(k.costs.TPMCmd)
	// crb_recv.
	if k.crbRead(priv, crbCtrlSts)&crbCtrlStsError != 0 {
		return nil, EIO
	}
	if k.rspBuf == nil {
		k.rspBuf = make([]byte, 0, 128)
	}
	hdr := k.readBuf(k.rspBuf[:0], priv.rsp, 8)
	if k.panicked {
		return nil, EIO
	}
	size := binary.BigEndian.Uint32(hdr[2:6])
	if size < 10 || size > priv.rspSize || size > tpmBufSize {
		return nil, EIO
	}
	if k.spec.Trace && !k.quiet {
		k.event(Event{Kind: EvMMIO, Device: priv.dev.Name, Detail: fmt.Sprintf("memcpy_fromio %d bytes from the response buffer at %#x", size, priv.rsp)})
	}
	rsp := k.readBuf(hdr, priv.rsp+8, int(size)-8)
	k.rspBuf = rsp[:0]
	return rsp, 0
}

// crbCancel is crb_cancel for the FF-A start method: set CTRL_CANCEL and
// tell the TPM service with START(command).
func (k *Kernel) crbCancel(priv *crbPriv) {
	k.crbWrite(priv, crbCtrlCancel, 1)
	if e := k.crbFFAStartReachable(priv, crbFFAStartTypeCommand, 0); e != 0 {
		k.crbWarn(priv, true, "FF-A Start failed")
	}
}

// writeBuf / readBuf are arm64's __memcpy_toio / __memcpy_fromio: byte
// accesses up to an 8-byte boundary, then 8-byte accesses, then bytes.
// When Platform.Mem offers phys.BlockIO and it serves the run, the copy is
// one call and the virtual clock moves as the phys.IOAccesses single
// accesses would have moved it.
func (k *Kernel) writeBuf(addr uint64, p []byte) {
	if k.bio != nil && !k.panicked {
		// Through the kernel's own buffer, so that p (often a command
		// built on the caller's stack) does not escape into the interface
		// call.
		k.ioBuf = append(k.ioBuf[:0], p...)
		if k.bio.WriteIO(addr, k.ioBuf) {
			k.clock.Advance(time.Duration(phys.IOAccesses(addr, len(p))) * k.costs.MMIO)
			return
		}
	}
	for len(p) > 0 && !k.panicked {
		if addr%8 == 0 && len(p) >= 8 {
			k.iowrite(addr, 8, binary.LittleEndian.Uint64(p))
			addr, p = addr+8, p[8:]
			continue
		}
		k.iowrite(addr, 1, uint64(p[0]))
		addr, p = addr+1, p[1:]
	}
}

// readBuf appends n bytes read from addr to out.
func (k *Kernel) readBuf(out []byte, addr uint64, n int) []byte {
	if k.bio != nil && !k.panicked && n > 0 {
		out = slices.Grow(out, n)
		if k.bio.ReadIO(addr, out[len(out):len(out)+n]) {
			k.clock.Advance(time.Duration(phys.IOAccesses(addr, n)) * k.costs.MMIO)
			return out[:len(out)+n]
		}
	}
	for n > 0 && !k.panicked {
		if addr%8 == 0 && n >= 8 {
			out = binary.LittleEndian.AppendUint64(out, k.ioread(addr, 8))
			addr, n = addr+8, n-8
			continue
		}
		out = append(out, byte(k.ioread(addr, 1)))
		addr, n = addr+1, n-1
	}
	return out
}

// crbChipStart / crbChipStop are tpm_chip_start / tpm_chip_stop for CRB:
// locality 0 and cmdReady around each use of the chip.
func (k *Kernel) crbChipStart(priv *crbPriv) Errno {
	if e := k.crbRequestLocality(priv, 0, true); e != 0 {
		return e
	}
	if e := k.crbCmdReady(priv, 0, true); e != 0 {
		k.crbRelinquishLocality(priv, 0, true)
		return e
	}
	return 0
}

func (k *Kernel) crbChipStop(priv *crbPriv) {
	k.crbGoIdle(priv, 0, true)
	k.crbRelinquishLocality(priv, 0, true)
}
