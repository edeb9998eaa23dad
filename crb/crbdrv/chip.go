package crbdrv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/ffa/phys"
)

// MMIO is the chip's path to the CRB: aligned reads and writes of 1, 2, 4 or
// 8 bytes at physical addresses. phys.Accessor implements it.
type MMIO interface {
	Read(addr uint64, size int) (uint64, error)
	Write(addr uint64, size int, v uint64) error
}

// PTP timeouts (drivers/char/tpm/tpm.h TPM2_TIMEOUT_*) and TPM2 command
// durations (TPM2_DURATION_*).
const (
	TimeoutA = 750 * time.Millisecond
	TimeoutB = 2000 * time.Millisecond
	TimeoutC = 200 * time.Millisecond
	TimeoutD = 30 * time.Millisecond

	DurationShort    = 20 * time.Millisecond
	DurationMedium   = 750 * time.Millisecond
	DurationLong     = 2000 * time.Millisecond
	DurationLongLong = 300000 * time.Millisecond
	DurationDefault  = 120000 * time.Millisecond

	regPoll      = 100 * time.Microsecond // crb_wait_for_reg_32: usleep_range(50, 100)
	transmitPoll = time.Millisecond       // tpm_try_transmit: TPM_TIMEOUT_POLL
	headerSize   = 10
)

// OrdinalDuration is tpm2_calc_ordinal_duration: how long the TPM core
// waits for a command to complete.
func OrdinalDuration(cc uint32) time.Duration {
	switch cc {
	case 0x144, // Startup
		0x15C, // SequenceUpdate
		0x13E, // SequenceComplete
		0x185, // EventSequenceComplete
		0x186, // HashSequenceStart
		0x182, // PCR_Extend
		0x17A: // GetCapability
		return DurationMedium
	case 0x143, // SelfTest
		0x17B, // GetRandom
		0x121, // HierarchyControl
		0x129, // HierarchyChangeAuth
		0x14E: // NV_Read
		return DurationLong
	case 0x177, // VerifySignature
		0x131, // CreatePrimary
		0x153, // Create
		0x191: // CreateLoaded
		return DurationLongLong
	}
	return DurationDefault
}

// ChipConfig describes a tpm_crb instance with the FF-A start method.
type ChipConfig struct {
	MMIO MMIO
	// ControlArea is the ACPI TPM2 table's control area address
	// (TPM_CRB_CTRL_REQ_0); the locality registers sit 0x40 below it.
	ControlArea uint64
	FFA         *FFA
	Clock       Clock
	// Locality is chip->locality for commands (Linux uses 0).
	Locality int
	// Idle sends cmdReady/goIdle (each followed by START(command)), as the
	// FF-A idle patch does; mainline tpm_crb skips them for FF-A.
	Idle bool
	Log  LogFunc
}

// Chip is tpm_crb bound to one CRB, plus the TPM core's transmit path. It
// implements transport.TPM. Commands are serialised (the TPM core's
// tpm_mutex).
type Chip struct {
	cfg    ChipConfig
	head   uint64 // locality 0 register block
	bio    phys.BlockIO
	mu     sync.Mutex
	cmd    uint64
	rsp    uint64
	size   uint32
	inited bool
}

// NewChip returns a chip; call Init (crb_map_io) before sending commands.
func NewChip(cfg ChipConfig) (*Chip, error) {
	if cfg.MMIO == nil || cfg.FFA == nil {
		return nil, errors.New("crbdrv: ChipConfig needs MMIO and FFA")
	}
	if cfg.ControlArea < crb.ControlAreaOffset {
		return nil, fmt.Errorf("crbdrv: control area %#x below the locality registers", cfg.ControlArea)
	}
	if cfg.Locality < 0 || cfg.Locality >= crb.NumLocalities {
		return nil, fmt.Errorf("crbdrv: locality %d out of range 0..4", cfg.Locality)
	}
	if cfg.Clock == nil {
		cfg.Clock = &VirtualClock{}
	}
	c := &Chip{cfg: cfg, head: cfg.ControlArea - crb.ControlAreaOffset}
	c.bio, _ = cfg.MMIO.(phys.BlockIO) // buffer copies in one call when offered
	return c, nil
}

func (c *Chip) logf(level, format string, a ...any) {
	if c.cfg.Log != nil {
		c.cfg.Log(level, fmt.Sprintf(format, a...))
	}
}

func (c *Chip) reg(loc int, r crb.Reg) uint64 {
	return c.head + uint64(loc)*crb.LocalityStride + uint64(r)
}

func (c *Chip) read32(op string, loc int, r crb.Reg) (uint32, error) {
	v, err := c.cfg.MMIO.Read(c.reg(loc, r), 4)
	if err != nil {
		return 0, &Error{Op: op, Errno: -crb.EIO, Err: err}
	}
	return uint32(v), nil
}

func (c *Chip) write32(op string, loc int, r crb.Reg, v uint32) error {
	if err := c.cfg.MMIO.Write(c.reg(loc, r), 4, uint64(v)); err != nil {
		return &Error{Op: op, Errno: -crb.EIO, Err: err}
	}
	return nil
}

// waitReg is crb_wait_for_reg_32: poll until (reg & mask) == value or the
// timeout passes; then check once more.
func (c *Chip) waitReg(op string, loc int, r crb.Reg, mask, value uint32, timeout time.Duration) (bool, error) {
	v, err := c.read32(op, loc, r)
	if err != nil || v&mask == value {
		return err == nil, err
	}
	// The first read costs no virtual time, so the deadline can be taken
	// after it.
	clk := c.cfg.Clock
	stop := clk.Now() + timeout
	for {
		clk.Sleep(regPoll)
		if clk.Now() >= stop {
			break
		}
		v, err := c.read32(op, loc, r)
		if err != nil {
			return false, err
		}
		if v&mask == value {
			return true, nil
		}
	}
	v, err = c.read32(op, loc, r)
	if err != nil {
		return false, err
	}
	return v&mask == value, nil
}

// RequestLocality is __crb_request_locality.
func (c *Chip) RequestLocality(loc int) error {
	const op = "request locality"
	if err := c.write32(op, loc, crb.RegLocCtrl, crb.LocCtrlRequestAccess); err != nil {
		return err
	}
	if err := c.cfg.FFA.Start(crb.QualifierLocalityRequest, loc); err != nil {
		return err
	}
	want := crb.LocStateLocAssigned | crb.LocStateRegValidSts
	ok, err := c.waitReg(op, loc, crb.RegLocState, want, want, TimeoutC)
	if err != nil {
		return err
	}
	if !ok {
		c.logf("warn", "TPM_LOC_STATE_x.requestAccess timed out")
		return &Error{Op: op, Errno: -crb.ETIME}
	}
	return nil
}

// RelinquishLocality is __crb_relinquish_locality.
func (c *Chip) RelinquishLocality(loc int) error {
	const op = "relinquish locality"
	if err := c.write32(op, loc, crb.RegLocCtrl, crb.LocCtrlRelinquish); err != nil {
		return err
	}
	if err := c.cfg.FFA.Start(crb.QualifierLocalityRequest, loc); err != nil {
		return err
	}
	mask := crb.LocStateLocAssigned | crb.LocStateRegValidSts
	ok, err := c.waitReg(op, loc, crb.RegLocState, mask, crb.LocStateRegValidSts, TimeoutC)
	if err != nil {
		return err
	}
	if !ok {
		c.logf("warn", "TPM_LOC_STATE_x.Relinquish timed out")
		return &Error{Op: op, Errno: -crb.ETIME}
	}
	return nil
}

func (c *Chip) ctrlReq(op string, bit uint32, what string) error {
	if !c.cfg.Idle {
		return nil
	}
	loc := c.cfg.Locality
	if err := c.write32(op, loc, crb.RegCtrlReq, bit); err != nil {
		return err
	}
	if err := c.cfg.FFA.Start(crb.QualifierCommand, loc); err != nil {
		return err
	}
	ok, err := c.waitReg(op, loc, crb.RegCtrlReq, bit, 0, TimeoutC)
	if err != nil {
		return err
	}
	if !ok {
		c.logf("warn", "%s timed out", what)
		return &Error{Op: op, Errno: -crb.ETIME}
	}
	return nil
}

// CmdReady is __crb_cmd_ready (a no-op unless Idle).
func (c *Chip) CmdReady() error { return c.ctrlReq("cmdReady", crb.CtrlReqCmdReady, "cmdReady") }

// GoIdle is __crb_go_idle (a no-op unless Idle).
func (c *Chip) GoIdle() error { return c.ctrlReq("goIdle", crb.CtrlReqGoIdle, "goIdle") }

// Init is crb_map_io's register part: with locality 0 requested and the TPM
// ready, read the command and response buffer addresses and sizes; they
// must be equal when the buffers overlap ("overlapping command and
// response buffer sizes are not identical", -EINVAL).
func (c *Chip) Init() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.RequestLocality(0); err != nil {
		return err
	}
	err := c.CmdReady()
	if err == nil {
		err = c.readBuffers()
		_ = c.GoIdle()
	}
	if rerr := c.RelinquishLocality(0); err == nil && rerr != nil {
		err = rerr
	}
	if err == nil {
		c.inited = true
	}
	return err
}

func (c *Chip) readBuffers() error {
	const op = "crb_map_io"
	lo, err := c.read32(op, 0, crb.RegCmdLAddr)
	if err != nil {
		return err
	}
	hi, err := c.read32(op, 0, crb.RegCmdHAddr)
	if err != nil {
		return err
	}
	cmdSize, err := c.read32(op, 0, crb.RegCmdSize)
	if err != nil {
		return err
	}
	rsp, err := c.cfg.MMIO.Read(c.reg(0, crb.RegRspAddr), 8)
	if err != nil {
		return &Error{Op: op, Errno: -crb.EIO, Err: err}
	}
	rspSize, err := c.read32(op, 0, crb.RegRspSize)
	if err != nil {
		return err
	}
	c.cmd, c.rsp = uint64(hi)<<32|uint64(lo), rsp
	if c.cmd == c.rsp && cmdSize != rspSize {
		c.logf("err", "[Firmware Bug]: overlapping command and response buffer sizes are not identical")
		return &Error{Op: op, Errno: -crb.EINVAL}
	}
	if cmdSize < headerSize {
		return &Error{Op: op, Errno: -crb.EINVAL, Err: fmt.Errorf("command buffer of %d bytes", cmdSize)}
	}
	c.size = cmdSize
	if c.cmd != c.rsp && rspSize < cmdSize {
		c.size = rspSize
	}
	return nil
}

// BufferSize returns the command buffer size read by Init.
func (c *Chip) BufferSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(c.size)
}

// copyTo writes p to MMIO at addr with 8-byte stores and a byte tail, as
// memcpy_toio does on an aligned buffer.
func (c *Chip) copyTo(op string, addr uint64, p []byte) error {
	if c.bio != nil && c.bio.WriteIO(addr, p) {
		return nil
	}
	for len(p) > 0 {
		size := 8
		if addr%8 != 0 || len(p) < 8 {
			size = 1
		}
		var v uint64
		if size == 8 {
			v = binary.LittleEndian.Uint64(p)
		} else {
			v = uint64(p[0])
		}
		if err := c.cfg.MMIO.Write(addr, size, v); err != nil {
			return &Error{Op: op, Errno: -crb.EIO, Err: err}
		}
		addr, p = addr+uint64(size), p[size:]
	}
	return nil
}

func (c *Chip) copyFrom(op string, addr uint64, p []byte) error {
	if c.bio != nil && c.bio.ReadIO(addr, p) {
		return nil
	}
	return c.copyFromSingle(op, addr, p)
}

// copyFromSingle is copyFrom one access at a time. p does not escape, so a
// caller's small array stays on its stack.
func (c *Chip) copyFromSingle(op string, addr uint64, p []byte) error {
	for len(p) > 0 {
		size := 8
		if addr%8 != 0 || len(p) < 8 {
			size = 1
		}
		v, err := c.cfg.MMIO.Read(addr, size)
		if err != nil {
			return &Error{Op: op, Errno: -crb.EIO, Err: err}
		}
		if size == 8 {
			binary.LittleEndian.PutUint64(p, v)
		} else {
			p[0] = byte(v)
		}
		addr, p = addr+uint64(size), p[size:]
	}
	return nil
}

// SendCommand is crb_send: clear CTRL_CANCEL, copy the command into the
// buffer, set CTRL_START and call START(command).
func (c *Chip) SendCommand(cmd []byte) error {
	const op = "send"
	loc := c.cfg.Locality
	if err := c.write32(op, loc, crb.RegCtrlCancel, 0); err != nil {
		return err
	}
	if uint32(len(cmd)) > c.size {
		c.logf("err", "invalid command count value %d %d", len(cmd), c.size)
		return &Error{Op: op, Errno: -crb.E2BIG}
	}
	if err := c.copyTo(op, c.cmd, cmd); err != nil {
		return err
	}
	if err := c.write32(op, loc, crb.RegCtrlStart, crb.CtrlStartInvoke); err != nil {
		return err
	}
	return c.cfg.FFA.Start(crb.QualifierCommand, loc)
}

// Complete is crb_status: the command is complete when CTRL_START reads 0.
func (c *Chip) Complete() (bool, error) {
	v, err := c.read32("status", c.cfg.Locality, crb.RegCtrlStart)
	return v&crb.CtrlStartInvoke == 0, err
}

// Canceled is crb_req_canceled.
func (c *Chip) Canceled() (bool, error) {
	v, err := c.read32("status", c.cfg.Locality, crb.RegCtrlCancel)
	return v&crb.CtrlCancelInvoke != 0, err
}

// Cancel is crb_cancel: set CTRL_CANCEL and call START(command).
func (c *Chip) Cancel() error {
	if err := c.write32("cancel", c.cfg.Locality, crb.RegCtrlCancel, crb.CtrlCancelInvoke); err != nil {
		return err
	}
	if err := c.cfg.FFA.Start(crb.QualifierCommand, c.cfg.Locality); err != nil {
		c.logf("err", "FF-A Start failed")
		return err
	}
	return nil
}

// Recv is crb_recv: -EIO when CTRL_STS.tpmSts is set or the response
// header's size is below 10 or above len(buf); reads the first 8 bytes,
// then the rest.
func (c *Chip) Recv(buf []byte) (int, error) {
	const op = "recv"
	if len(buf) < headerSize {
		return 0, &Error{Op: op, Errno: -crb.EIO}
	}
	sts, err := c.read32(op, c.cfg.Locality, crb.RegCtrlSts)
	if err != nil {
		return 0, err
	}
	if sts&crb.CtrlStsTPMSts != 0 {
		return 0, &Error{Op: op, Errno: -crb.EIO, Err: errors.New("CTRL_STS.tpmSts: TPM in fatal error")}
	}
	if err := c.copyFrom(op, c.rsp, buf[:8]); err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint32(buf[2:6])
	if n > uint32(len(buf)) || n < headerSize {
		return 0, &Error{Op: op, Errno: -crb.EIO, Err: fmt.Errorf("response header size %d", n)}
	}
	if err := c.copyFrom(op, c.rsp+8, buf[8:n]); err != nil {
		return 0, err
	}
	return int(n), nil
}

// Send implements transport.TPM: the TPM core around one command
// (tpm_chip_start: request locality, cmdReady; tpm_transmit's retry loop on
// TPM2_RC_RETRY/TESTING around tpm_try_transmit: send, poll for completion
// for the ordinal's duration, recv; tpm_chip_stop: goIdle, relinquish). A
// TPM response code is not an error here: the response goes back to
// go-tpm, which decodes it.
func (c *Chip) Send(cmd []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.inited {
		return nil, &Error{Op: "transmit", Errno: -crb.ENODEV, Err: errors.New("chip not initialised (Init)")}
	}
	if len(cmd) < headerSize {
		return nil, &Error{Op: "transmit", Errno: -crb.EINVAL, Err: fmt.Errorf("command of %d bytes", len(cmd))}
	}
	loc := c.cfg.Locality
	if err := c.RequestLocality(loc); err != nil {
		return nil, err
	}
	rsp, err := c.transmitRetry(cmd)
	_ = c.GoIdle()
	if rerr := c.RelinquishLocality(loc); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	return rsp, nil
}

// TPM 2.0 response codes the core retries (TPM2_RC_RETRY, TPM2_RC_TESTING)
// and TPM2_CC_SELF_TEST.
const (
	rcRetry    = 0x922
	rcTesting  = 0x90A
	ccSelfTest = 0x143
)

// transmitRetry is tpm_transmit: resend while the TPM answers
// TPM2_RC_RETRY or TPM2_RC_TESTING, sleeping 20 ms, then twice as long each
// time, and give up ("in retry loop" / "self test is still running") once
// the next delay would exceed TPM2_DURATION_LONG; SelfTest answering
// TESTING returns at once.
func (c *Chip) transmitRetry(cmd []byte) ([]byte, error) {
	cc := binary.BigEndian.Uint32(cmd[6:10])
	delay := DurationShort
	for {
		rsp, err := c.transmitLocked(cmd)
		if err != nil {
			return nil, err
		}
		rc := binary.BigEndian.Uint32(rsp[6:10])
		if rc != rcRetry && rc != rcTesting {
			return rsp, nil
		}
		if rc == rcTesting && cc == ccSelfTest {
			return rsp, nil
		}
		if delay > DurationLong {
			if rc == rcRetry {
				c.logf("err", "in retry loop")
			} else {
				c.logf("err", "self test is still running")
			}
			return rsp, nil
		}
		c.cfg.Clock.Sleep(delay)
		delay *= 2
	}
}

func (c *Chip) transmitLocked(cmd []byte) ([]byte, error) {
	if err := c.CmdReady(); err != nil {
		return nil, err
	}
	if err := c.SendCommand(cmd); err != nil {
		c.logf("err", "tpm_try_transmit: send(): error %d", Errno(err))
		return nil, err
	}
	clk := c.cfg.Clock
	stop := clk.Now() + OrdinalDuration(binary.BigEndian.Uint32(cmd[6:10]))
	for {
		done, err := c.Complete()
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
		canceled, err := c.Canceled()
		if err != nil {
			return nil, err
		}
		if canceled {
			c.logf("err", "Operation Canceled")
			return nil, &Error{Op: "transmit", Errno: -ECANCELED}
		}
		clk.Sleep(transmitPoll)
		if clk.Now() >= stop {
			_ = c.Cancel()
			c.logf("err", "Operation Timed out")
			return nil, &Error{Op: "transmit", Errno: -crb.ETIME}
		}
	}
	rsp, err := c.recv()
	if err != nil {
		c.logf("err", "tpm_transmit: tpm_recv: error %d", Errno(err))
		return nil, err
	}
	return rsp, nil
}

// recv is Recv into a buffer of the response's own size (bounded by the
// CRB buffer size, as the core's buffer is).
func (c *Chip) recv() ([]byte, error) {
	const op = "recv"
	sts, err := c.read32(op, c.cfg.Locality, crb.RegCtrlSts)
	if err != nil {
		return nil, err
	}
	if sts&crb.CtrlStsTPMSts != 0 {
		return nil, &Error{Op: op, Errno: -crb.EIO, Err: errors.New("CTRL_STS.tpmSts: TPM in fatal error")}
	}
	var hdr [8]byte
	if err := c.copyFromSingle(op, c.rsp, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[2:6])
	if n > c.size || n < headerSize {
		return nil, &Error{Op: op, Errno: -crb.EIO, Err: fmt.Errorf("response header size %d", n)}
	}
	buf := make([]byte, n)
	copy(buf, hdr[:])
	if err := c.copyFrom(op, c.rsp+8, buf[8:]); err != nil {
		return nil, err
	}
	return buf, nil
}
