package kernel

import (
	"fmt"

	"github.com/ffatpm/ffatpm/ffa"
)

// This file models drivers/char/tpm/tpm_crb_ffa.c: the FF-A driver for the
// DEN0138 TPM service ("ffa-crb"), tpm_crb_ffa_init() and
// tpm_crb_ffa_start().

// TPMServiceUUID is the DEN0138 TPM service UUID the driver's table holds.
var tpmServiceUUID = ffa.UUID{0x17, 0xb8, 0x62, 0xa4, 0x18, 0x06, 0x4f, 0xaf, 0x86, 0xb3, 0x08, 0x9a, 0x58, 0x35, 0x38, 0x61}

// TPMServiceUUID returns the DEN0138 TPM service UUID.
func TPMServiceUUID() ffa.UUID { return tpmServiceUUID }

// DEN0138 function IDs and statuses used by the driver.
const (
	crbFFAGetInterfaceVersion = 0x0f000001
	crbFFAStart               = 0x0f000201

	crbFFAOK                = 0x05000001
	crbFFAOKResultsReturned = 0x05000002
	crbFFANoFunc            = 0x8e000001
	crbFFANotSup            = 0x8e000002
	crbFFAInvArg            = 0x8e000005
	crbFFAInvCRBCtrlData    = 0x8e000006
	crbFFAAlready           = 0x8e000009
	crbFFADenied            = 0x8e00000a
	crbFFANoMem             = 0x8e00000b
	crbFFAVersionMajor      = 1
	crbFFAVersionMinor      = 0
	crbFFAStartTypeCommand  = 0
	crbFFAStartTypeLocality = 1
	crbFFABusyTimeoutMs     = 2000
	crbFFABusyRetryMicros   = 100
	crbFFADriverName        = "ffa-crb"
	crbFFAObject            = "drivers/char/tpm/tpm_crb_ffa.o"
	crbFFAModule            = "tpm_crb_ffa"
	crbFFABugLine           = 185 // line of the BUG_ON in seed 002 v2 patch 2
	crbFFAStateUnset        = 0
	crbFFAStateErr          = 1
	crbFFAStateProbed       = 2
)

// crbFFA is the driver's static "struct tpm_crb_ffa *tpm_crb_ffa": unset
// (NULL), ERR_PTR(-ENODEV), or a probed instance.
type crbFFA struct {
	state        int
	dev          *Device
	fd           *FFADevice
	major, minor uint16
}

// tpmCRBFFAToErrno is tpm_crb_ffa_to_linux_errno.
func tpmCRBFFAToErrno(st uint64) Errno {
	switch uint32(st) {
	case crbFFAOK, crbFFAOKResultsReturned:
		return 0
	case crbFFANoFunc:
		return ENOENT
	case crbFFANotSup:
		return EPERM
	case crbFFAInvArg:
		return EINVAL
	case crbFFAInvCRBCtrlData:
		return ENOEXEC
	case crbFFAAlready:
		return EEXIST
	case crbFFADenied:
		return EACCES
	case crbFFANoMem:
		return ENOMEM
	}
	return EINVAL
}

// newCRBFFADriver builds the static struct ffa_driver tpm_crb_ffa_driver.
func newCRBFFADriver() *Driver {
	return &Driver{Name: crbFFADriverName, Probe: tpmCRBFFAProbe, Data: &ffaDriverData{ids: []ffa.UUID{tpmServiceUUID}}}
}

// tpmCRBFFADriverInit is the initcall module_ffa_driver() generates.
func tpmCRBFFADriverInit(k *Kernel) error { return k.ffaRegister(k.drv.crbFFADriver) }

// tpmCRBFFAInit is tpm_crb_ffa_init() in the form the patches select.
func (k *Kernel) tpmCRBFFAInit() error {
	s := &k.drv.crbFFA
	builtin := k.crbFFABuiltin
	switch {
	case k.spec.Patches.CRBFFABugOn && builtin:
		// Seed 002 v2: register, BUG_ON(!ret && !tpm_crb_ffa), return ret.
		err := k.ffaRegister(k.drv.crbFFADriver)
		if err == nil && s.state == crbFFAStateUnset {
			k.bug("drivers/char/tpm/tpm_crb_ffa.c", crbFFABugLine)
			return nil
		}
		return err
	case k.spec.Patches.CRBFFARegister && builtin:
		// 746d9e9f62a6: register when built in; on failure remember -ENODEV.
		if err := k.ffaRegister(k.drv.crbFFADriver); err != nil {
			s.state = crbFFAStateErr
			return err
		}
	}
	switch s.state {
	case crbFFAStateUnset:
		return ENOENT
	case crbFFAStateErr:
		return ENODEV
	}
	return nil
}

// bug models BUG(): "kernel BUG at file:line!" and the panic that follows.
func (k *Kernel) bug(file string, line int) {
	k.printf("------------[ cut here ]------------")
	k.printf("kernel BUG at %s:%d!", file, line)
	k.printf("Internal error: Oops - BUG: 00000000f2000800 [#1] SMP")
	k.Panic("Kernel panic - not syncing: Oops - BUG: Fatal exception")
}

// tpmCRBFFAProbe is tpm_crb_ffa_probe.
func tpmCRBFFAProbe(k *Kernel, dev *Device) error {
	s := &k.drv.crbFFA
	fd := dev.Data.(*FFADevice)
	if s.state == crbFFAStateProbed {
		return EEXIST
	}
	s.state = crbFFAStateErr
	if !fd.supportsDirectRecv() && !fd.supportsDirectReq2Recv() {
		k.devPrintf(dev, "partition doesn't support direct message receive.")
		return EINVAL
	}
	s.state, s.dev, s.fd = crbFFAStateProbed, dev, fd
	if !fd.Properties.Has(ffa.PropAArch64) {
		fd.Mode32 = true
	}
	major, minor, e := k.tpmCRBFFAGetInterfaceVersion()
	if e != 0 {
		k.devPrintf(dev, "failed to get crb interface version. rc:%d", e.Ret())
		*s = crbFFA{state: crbFFAStateErr}
		return EINVAL
	}
	k.devPrintf(dev, "ABI version %d.%d", major, minor)
	if major != crbFFAVersionMajor || (minor > 0 && minor < crbFFAVersionMinor) {
		k.devPrintf(dev, "Incompatible ABI version")
		*s = crbFFA{state: crbFFAStateErr}
		return EINVAL
	}
	s.major, s.minor = major, minor
	return nil
}

// tpmCRBFFASendReceive is __tpm_crb_ffa_send_receive: one DEN0138 call,
// retried on -EBUSY for busy_timeout_ms of virtual time.
func (k *Kernel) tpmCRBFFASendReceive(fn, a0, a1, a2 uint64) (uint64, Errno) {
	s := &k.drv.crbFFA
	if s.state != crbFFAStateProbed {
		return 0, ENOENT
	}
	stop := k.clock.now + crbFFABusyTimeoutMs*1e6
	for {
		var ret Errno
		var res uint64
		if s.fd.supportsDirectReq2Recv() {
			d := [14]uint64{fn, a0, a1, a2}
			ret = k.ffaSendDirect2(s.fd, &d)
			if ret == 0 {
				ret, res = tpmCRBFFAToErrno(d[0]), d[1]
			}
		} else {
			d := [5]uint64{0, fn, a0, a1, a2}
			ret = k.ffaSendDirect(s.fd, &d)
			if ret == 0 {
				ret, res = tpmCRBFFAToErrno(d[1]), d[2]
			}
		}
		if k.spec.Trace && !k.quiet {
			k.event(Event{Kind: EvFFACall, Device: s.dev.Name, Driver: crbFFADriverName, Detail: crbFFACallName(fn, a0, a1) + " -> " + ret.String()})
		}
		if ret != EBUSY {
			return res, ret
		}
		k.clock.Advance(crbFFABusyRetryMicros * 1000)
		if k.clock.now > stop {
			k.devPrintf(s.dev, "Busy retry timed out")
			return res, ret
		}
	}
}

// crbFFACallName names a DEN0138 call for the trace.
func crbFFACallName(fn, a0, a1 uint64) string {
	switch fn {
	case crbFFAGetInterfaceVersion:
		return "DEN0138 GET_INTERFACE_VERSION"
	case crbFFAStart:
		q := "command"
		if a0 == crbFFAStartTypeLocality {
			q = "locality"
		}
		return fmt.Sprintf("DEN0138 START(%s, locality %d)", q, a1)
	}
	return fmt.Sprintf("DEN0138 %#x", fn)
}

// tpmCRBFFAGetInterfaceVersion is tpm_crb_ffa_get_interface_version.
func (k *Kernel) tpmCRBFFAGetInterfaceVersion() (major, minor uint16, e Errno) {
	v, e := k.tpmCRBFFASendReceive(crbFFAGetInterfaceVersion, 0, 0, 0)
	if e != 0 {
		return 0, 0, e
	}
	return uint16(v>>16) & 0x7fff, uint16(v), 0
}

// tpmCRBFFAStart is tpm_crb_ffa_start(request_type, locality).
func (k *Kernel) tpmCRBFFAStart(requestType, locality int) Errno {
	s := &k.drv.crbFFA
	switch s.state {
	case crbFFAStateUnset:
		return ENOENT
	case crbFFAStateErr:
		return ENODEV
	}
	_, e := k.tpmCRBFFASendReceive(crbFFAStart, uint64(requestType), uint64(locality), 0)
	return e
}
