package kernel

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// This file models the TPM core the CRB driver registers its chip with
// (drivers/char/tpm/tpm-chip.c, tpm2-cmd.c, tpm-interface.c): tpm_init
// (subsys_initcall), tpm_chip_bootstrap with TPM2 auto-startup, the PCR
// bank allocation, /dev/tpm0, and tpm_default_chip(). Commands are built
// and parsed as raw TPM 2.0 buffers, as the kernel's tpm_buf does.

// PCRBank is one allocated PCR bank of a TPM chip.
type PCRBank struct {
	Alg  uint16 `json:"alg"`  // TPM_ALG_ID
	Name string `json:"name"` // "sha1", "sha256"
	Size int    `json:"size"` // digest size in bytes
}

// TPM 2.0 constants the core uses (TPM 2.0 Part 2).
const (
	tpmSTNoSessions     = 0x8001
	tpmCCSelfTest       = 0x143
	tpmCCStartup        = 0x144
	tpmCCGetCapability  = 0x17A
	tpmSUClear          = 0x0000
	tpmCapCommands      = 0x2
	tpmCapPCRs          = 0x5
	tpmCapTPMProperties = 0x6
	tpmPTTotalCommands  = 0x129 // PT_FIXED + 41
	tpmCCFirst          = 0x11F
	tpmRCSuccess        = 0x000
	tpmRCInitialize     = 0x100
	tpmRCTesting        = 0x90A
	tpmRCUpgrade        = 0x12D
	tpmRCCommandCode    = 0x143
	tpmRCFailure        = 0x101
)

var tpmAlgs = map[uint16]PCRBank{
	0x0004: {0x0004, "sha1", 20},
	0x000B: {0x000B, "sha256", 32},
	0x000C: {0x000C, "sha384", 48},
	0x000D: {0x000D, "sha512", 64},
	0x0012: {0x0012, "sm3_256", 32},
}

// TPMChip is a registered TPM (struct tpm_chip): what tpm_default_chip()
// returns once tpm_chip_register has finished.
type TPMChip struct {
	Name   string // "tpm0"
	Device *Device
	At     Point     // where it became visible
	Banks  []PCRBank // allocated PCR banks
	k      *Kernel
	priv   *crbPriv
}

// Send transmits one TPM command through the driver that registered the
// chip (tpm_try_get_ops, tpm_transmit, tpm_put_ops), and so through the
// whole chain: CRB MMIO and FF-A START into the TPM partition. It
// implements go-tpm's transport.TPM. A transport failure is an Errno.
func (c *TPMChip) Send(cmd []byte) ([]byte, error) {
	if c.k.panicked {
		return nil, EIO
	}
	rsp, e := c.k.tpmTransmitLocked(c, cmd)
	if e != 0 {
		return nil, e
	}
	if len(cmd) >= 10 {
		// The in-kernel APIs IMA calls go through tpm_transmit_cmd with a
		// description (tpm2-cmd.c), which logs a TPM error code.
		if desc := inKernelDesc(binary.BigEndian.Uint32(cmd[6:])); desc != "" {
			if r := rc(rsp); r != 0 && r != tpmRCTesting {
				c.k.printf("tpm %s: A TPM error (%d) occurred %s", c.Name, r, desc)
			}
		}
	}
	return append([]byte(nil), rsp...), nil
}

// inKernelDesc is the description tpm2-cmd.c gives tpm_transmit_cmd for a
// command of the in-kernel API (tpm_pcr_extend, tpm_pcr_read) that IMA
// sends through TPMChip.Send, or "".
func inKernelDesc(cc uint32) string {
	switch cc {
	case 0x182: // TPM2_CC_PCR_EXTEND, tpm2_pcr_extend
		return "attempting extend a PCR value"
	case 0x17E: // TPM2_CC_PCR_READ, tpm2_pcr_read
		return "attempting to read a pcr value"
	}
	return ""
}

// DefaultChip is tpm_default_chip(): the first registered chip, or nil.
func (k *Kernel) DefaultChip() *TPMChip {
	if len(k.chips) == 0 {
		return nil
	}
	return k.chips[0]
}

// tpmInit is tpm_init (subsys_initcall): the tpm class and char devices.
func tpmInit(k *Kernel) error {
	k.drv.tpmClass = true
	return nil
}

func (k *Kernel) tpmTransmitLocked(c *TPMChip, cmd []byte) ([]byte, Errno) {
	if e := k.crbChipStart(c.priv); e != 0 {
		return nil, e
	}
	rsp, e := k.crbTransmit(c.priv, cmd)
	k.crbChipStop(c.priv)
	if e == 0 && k.spec.Trace && !k.quiet && len(cmd) >= 10 {
		k.event(Event{Kind: EvTPMCommand, Device: c.Name, Detail: fmt.Sprintf("cc %#x rc %#x", binary.BigEndian.Uint32(cmd[6:]), rc(rsp))})
	}
	return rsp, e
}

func rc(rsp []byte) uint32 {
	if len(rsp) < 10 {
		return 0xFFFFFFFF
	}
	return binary.BigEndian.Uint32(rsp[6:])
}

// tpmTransmitCmd is tpm_transmit_cmd: the response code, printing Linux's
// "A TPM error (%d) occurred %s" for a TPM error other than TESTING.
func (k *Kernel) tpmTransmitCmd(c *TPMChip, cmd []byte, minRsp int, desc string) ([]byte, int) {
	k.clock.Advance(k.costs.TPMCmd / 10)
	rsp, e := k.crbTransmit(c.priv, cmd)
	if e != 0 {
		return nil, e.Ret()
	}
	if k.spec.Trace && !k.quiet {
		k.event(Event{Kind: EvTPMCommand, Device: c.Name, Detail: fmt.Sprintf("%s: cc %#x rc %#x", desc, binary.BigEndian.Uint32(cmd[6:]), rc(rsp))})
	}
	r := int(rc(rsp))
	if r != 0 && r != tpmRCTesting && desc != "" {
		k.printf("tpm %s: A TPM error (%d) occurred %s", c.Name, r, desc)
	}
	if r == 0 && len(rsp) < minRsp {
		return rsp, EFAULT.Ret()
	}
	return rsp, r
}

func tpmCmd(cc uint32, params ...byte) []byte {
	b := make([]byte, 10, 10+len(params))
	binary.BigEndian.PutUint16(b, tpmSTNoSessions)
	binary.BigEndian.PutUint32(b[2:], uint32(10+len(params)))
	binary.BigEndian.PutUint32(b[6:], cc)
	return append(b, params...)
}

func u32s(vs ...uint32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.BigEndian.PutUint32(b[4*i:], v)
	}
	return b
}

// tpm2DoSelftest is tpm2_do_selftest: SelfTest(NO) then SelfTest(YES).
func (k *Kernel) tpm2DoSelftest(c *TPMChip) int {
	r := 0
	for full := byte(0); full < 2; full++ {
		_, r = k.tpmTransmitCmd(c, tpmCmd(tpmCCSelfTest, full), 10, "attempting the self test")
		if r == tpmRCTesting {
			r = tpmRCSuccess
		}
		if r == tpmRCInitialize || r == tpmRCSuccess {
			return r
		}
	}
	return r
}

// tpm2AutoStartup is tpm2_auto_startup.
func (k *Kernel) tpm2AutoStartup(c *TPMChip) int {
	r := k.tpm2DoSelftest(c)
	if r != 0 && r != tpmRCInitialize {
		return k.autoStartupOut(c, r)
	}
	if r == tpmRCInitialize {
		k.printf("tpm %s: starting up the TPM manually", c.Name)
		if _, r = k.tpmTransmitCmd(c, tpmCmd(tpmCCStartup, 0, 0), 10, "attempting to start the TPM"); r != 0 {
			return k.autoStartupOut(c, r)
		}
		if r = k.tpm2DoSelftest(c); r != 0 {
			return k.autoStartupOut(c, r)
		}
	}
	r = k.tpm2GetCCAttrsTbl(c)
	if r == tpmRCFailure || (r < 0 && r != ENOMEM.Ret()) {
		k.printf("tpm %s: TPM in field failure mode, requires firmware upgrade", c.Name)
		r = 0
	}
	return k.autoStartupOut(c, r)
}

func (k *Kernel) autoStartupOut(c *TPMChip, r int) int {
	if r == tpmRCUpgrade || r == tpmRCCommandCode {
		k.printf("tpm %s: TPM in field upgrade mode, requires firmware upgrade", c.Name)
		r = 0
	}
	if r > 0 {
		r = ENODEV.Ret()
	}
	return r
}

// tpm2GetCCAttrsTbl is tpm2_get_cc_attrs_tbl: the number of commands, then
// their attributes.
func (k *Kernel) tpm2GetCCAttrsTbl(c *TPMChip) int {
	rsp, r := k.tpmTransmitCmd(c, tpmCmd(tpmCCGetCapability, u32s(tpmCapTPMProperties, tpmPTTotalCommands, 1)...), 27, "attempting to determine the number of commands")
	if r != 0 {
		return r
	}
	// moreData u8, capability u32, count u32, property u32, value u32.
	if binary.BigEndian.Uint32(rsp[15:]) != 1 || binary.BigEndian.Uint32(rsp[19:]) != tpmPTTotalCommands {
		return EFAULT.Ret()
	}
	n := binary.BigEndian.Uint32(rsp[23:])
	if n == 0 || n > 0xFFFFF {
		return EFAULT.Ret()
	}
	rsp, r = k.tpmTransmitCmd(c, tpmCmd(tpmCCGetCapability, u32s(tpmCapCommands, tpmCCFirst, n)...), 19, "attempting to determine the command attributes")
	if r != 0 {
		return r
	}
	if got := binary.BigEndian.Uint32(rsp[15:]); got != n || len(rsp) < 19+4*int(n) {
		return EFAULT.Ret()
	}
	return 0
}

// tpm2GetPCRAllocation is tpm2_get_pcr_allocation: the banks whose
// selection is not empty.
func (k *Kernel) tpm2GetPCRAllocation(c *TPMChip) int {
	rsp, r := k.tpmTransmitCmd(c, tpmCmd(tpmCCGetCapability, u32s(tpmCapPCRs, 0, 1)...), 19, "get tpm pcr allocation")
	if r != 0 {
		return r
	}
	n := binary.BigEndian.Uint32(rsp[15:])
	if n > 16 {
		return ENODEV.Ret()
	}
	off := 19
	c.Banks = make([]PCRBank, 0, n)
	for i := uint32(0); i < n; i++ {
		if off+3 > len(rsp) {
			return EFAULT.Ret()
		}
		alg := binary.BigEndian.Uint16(rsp[off:])
		sz := int(rsp[off+2])
		if off+3+sz > len(rsp) {
			return EFAULT.Ret()
		}
		sel := rsp[off+3 : off+3+sz]
		off += 3 + sz
		empty := true
		for _, b := range sel {
			if b != 0 {
				empty = false
			}
		}
		if empty {
			continue
		}
		bank, ok := tpmAlgs[alg]
		if !ok {
			bank = PCRBank{Alg: alg, Name: fmt.Sprintf("alg%#x", alg)}
		}
		c.Banks = append(c.Banks, bank)
	}
	return 0
}

// tpmChipRegister is tpmm_chip_alloc + tpm_chip_bootstrap +
// tpm_chip_register: the chip becomes visible to tpm_default_chip() only
// when the char devices exist.
func (k *Kernel) tpmChipRegister(dev *Device, priv *crbPriv) error {
	if !k.drv.tpmClass {
		return ENODEV
	}
	c := &TPMChip{Name: "tpm" + strconv.Itoa(k.drv.chipSeq), Device: dev, k: k, priv: priv}
	k.drv.chipSeq++
	priv.chip = c.Name
	if e := k.crbChipStart(priv); e != 0 {
		return e
	}
	r := k.tpm2AutoStartup(c)
	if r == 0 {
		r = k.tpm2GetPCRAllocation(c)
	}
	k.crbChipStop(priv)
	if k.panicked {
		return EIO
	}
	if r != 0 {
		if r > 0 {
			r = ENODEV.Ret()
		}
		return errOf(r)
	}
	// tpm_add_char_device: /dev/tpm0 and /dev/tpmrm0.
	k.event(Event{Kind: EvDeviceAdd, Bus: "tpm", Device: c.Name})
	k.event(Event{Kind: EvDeviceAdd, Bus: "tpmrm", Device: "tpmrm" + c.Name[3:]})
	c.At = k.point()
	k.chips = append(k.chips, c)
	k.event(Event{Kind: EvChipRegister, Device: c.Name, Detail: dev.Name})
	return nil
}
