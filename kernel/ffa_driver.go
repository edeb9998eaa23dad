package kernel

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/ffatpm/ffatpm/ffa"
)

// This file models drivers/firmware/arm_ffa/: the arm_ffa bus (bus.c) and
// ffa_init (driver.c), which talk to the secure world with FF-A calls over
// the platform's conduit.

const (
	ffaPrefix = "ARM FF-A: "
	// FF-A function numbers are 0x60..0x8E (v1.2); the counters cover
	// 0x60..0x9F.
	ffaMinFuncNum = 0x60
	ffaMaxFuncNum = 0xA0
)

// FFADevice is the bus-specific part of a device on the arm_ffa bus
// (struct ffa_device).
type FFADevice struct {
	ID         int    // ida id: the N of "arm-ffa-N"
	VMID       ffa.ID // partition ID
	UUID       ffa.UUID
	Properties ffa.PartitionProperties
	Mode32     bool // use the SMC32 direct messages (mode_32bit_set)
}

// ffaDrvInfo is the driver's drv_info.
type ffaDrvInfo struct {
	version ffa.Version
	vmID    ffa.ID
	req2    bool // FFA_MSG_SEND_DIRECT_REQ2 is supported
	nextID  int
	client  *ffa.Client
}

// ffaDriverData is the bus-specific part of an FF-A driver: its UUID table.
type ffaDriverData struct{ ids []ffa.UUID }

func newFFABus() *Bus {
	return &Bus{
		Name: "arm_ffa",
		// ffa_device_match: a device without a UUID (FF-A v1.0) matches any
		// driver with a table; otherwise the UUIDs must be equal.
		Match: func(dev *Device, drv *Driver) bool {
			fd, _ := dev.Data.(*FFADevice)
			dd, _ := drv.Data.(*ffaDriverData)
			if fd == nil || dd == nil {
				return false
			}
			for _, u := range dd.ids {
				if fd.UUID.IsNil() || fd.UUID == u {
					return true
				}
			}
			return false
		},
		// really_probe -> driver_sysfs_add sends BUS_NOTIFY_BIND_DRIVER
		// first: with FF-A v1.0 (no UUIDs in partition info) the bus
		// notifier asks PARTITION_INFO_GET for the driver's UUID and gives
		// it to the device if its partition ID answers (ffa_bus_notifier,
		// ffa_device_match_uuid). Then ffa_device_probe skips a device
		// whose UUID is still null.
		Probe: func(k *Kernel, dev *Device) error {
			fd := dev.Data.(*FFADevice)
			if fd.UUID.IsNil() {
				k.ffaDeviceMatchUUID(fd, dev.driver)
			}
			if fd.UUID.IsNil() {
				return ENODEV
			}
			return dev.driver.Probe(k, dev)
		},
	}
}

// ffaCall makes one FF-A call through the platform's conduit, counting it.
func (k *Kernel) ffaCall(in ffa.Frame) ffa.Frame {
	k.clock.Advance(k.costs.FFACall)
	if f := in.Func(); f.Num() >= ffaMinFuncNum && f.Num() < ffaMaxFuncNum {
		conv := 0
		if f.Is64() {
			conv = 1
		}
		k.ffaCounts[conv][f.Num()-ffaMinFuncNum]++
	}
	out := k.spec.Platform.Conduit.Call(in)
	if k.spec.Trace && !k.quiet {
		k.event(Event{Kind: EvFFACall, Detail: ffaCallSummary(in, out)})
	}
	return out
}

// ffaCallSummary renders one FF-A call for the trace: the function with
// the argument that says what was asked (the version offered, the function
// queried by FFA_FEATURES) and what came back (a version, FFA_SUCCESS, or
// FFA_ERROR with its status). FFA_VERSION answers in w0 with a version or
// NOT_SUPPORTED, not with a function ID (DEN0077 FFA_VERSION).
func ffaCallSummary(in, out ffa.Frame) string {
	call := in.Func().String()
	switch in.Func() {
	case ffa.FuncVersion:
		call += "(" + ffa.Version(in.W(1)).String() + ")"
		if int32(out.W(0)) < 0 {
			return call + " -> " + ffa.Status(int32(out.W(0))).String()
		}
		return call + " -> " + ffa.Version(out.W(0)).String()
	case ffa.FuncFeatures:
		// w1 bit 31 clear: a feature ID, not a function ID.
		switch q := in.W(1); {
		case q == ffa.FeatureNPI:
			call += "(feature NPI)"
		case q == ffa.FeatureSRI:
			call += "(feature SRI)"
		case q == ffa.FeatureMEI:
			call += "(feature MEI)"
		case q&(1<<31) == 0:
			call += fmt.Sprintf("(feature %d)", q)
		default:
			call += "(" + ffa.FuncID(q).String() + ")"
		}
	}
	if err := out.Err(); err != nil {
		var st ffa.Status
		if errors.As(err, &st) {
			return call + " -> FFA_ERROR(" + st.String() + ")"
		}
		return call + " -> FFA_ERROR(" + err.Error() + ")"
	}
	return call + " -> " + out.Func().String()
}

// ffaBusInit is arm_ffa_bus_init (subsys_initcall in bus.c).
func ffaBusInit(k *Kernel) error {
	if err := k.BusRegister(k.drv.ffaBus); err != nil {
		return err
	}
	return nil
}

// ffaInit is ffa_init. The firmware-facing part (version check, ID,
// RX/TX map, notification probes, partition discovery) is the ffa package's
// Client, which speaks the calls as the Linux driver does; this function
// prints its lines, maps its failure to ffa_init's return value and creates
// the devices on the arm_ffa bus.
func ffaInit(k *Kernel) error {
	if k.spec.Patches.FFABusInFFAInit {
		if err := k.BusRegister(k.drv.ffaBus); err != nil {
			return err
		}
	}
	p := &k.spec.Platform
	// ffa_transport_init: no SMCCC v1.2 conduit, no FF-A.
	if p.Conduit == nil {
		return EOPNOTSUPP
	}
	const maxBuf = 64 << 10
	cl := ffa.NewClient(ffa.ConduitFunc(k.ffaCall), ffa.ClientConfig{TX: p.RxTxBase, RX: p.RxTxBase + maxBuf, Mem: p.Mem})
	rep, err := cl.Init()
	if rep != nil {
		for _, l := range rep.Log {
			k.printf("%s%s", ffaPrefix, l.Text)
		}
	}
	if err != nil {
		if k.fault != nil {
			return k.fault
		}
		e := Errno(-ffa.LinuxErrno(err))
		if e <= 0 {
			e = EINVAL
		}
		return e
	}
	info := &ffaDrvInfo{version: rep.Version, vmID: rep.ID, req2: rep.Req2Supported, nextID: 1, client: cl}
	k.drv.ffaInfo = info
	if e := k.ffaSetupPartitions(info, rep.Partitions); e != 0 {
		k.printf(ffaPrefix + "failed to setup partitions")
		k.drv.ffaInfo = nil
		return e
	}
	return nil
}

// ffaSetupPartitions is ffa_setup_partitions: one ffa_device per partition,
// then one for the host if it is not among them.
func (k *Kernel) ffaSetupPartitions(info *ffaDrvInfo, parts []ffa.PartitionInfo) Errno {
	if len(parts) == 0 {
		k.printf(ffaPrefix+"ffa_setup_partitions: No partitions found, error %d", 0)
		return EINVAL
	}
	host := false
	for _, pi := range parts {
		if pi.ID == info.vmID {
			host = true
		}
		fd := &FFADevice{VMID: pi.ID, UUID: pi.UUID, Properties: pi.Properties}
		if info.version > ffa.Version1_0 && !pi.Properties.Has(ffa.PropAArch64) {
			fd.Mode32 = true
		}
		k.ffaDeviceRegister(info, fd)
	}
	if !host {
		k.ffaDeviceRegister(info, &FFADevice{VMID: info.vmID})
	}
	return 0
}

// ffaDeviceRegister is ffa_device_register: name "arm-ffa-N", N from 1.
func (k *Kernel) ffaDeviceRegister(info *ffaDrvInfo, fd *FFADevice) {
	fd.ID = info.nextID
	info.nextID++
	dev := &Device{Name: "arm-ffa-" + strconv.Itoa(fd.ID), Bus: k.drv.ffaBus, Data: fd}
	if err := k.DeviceAdd(dev); err != nil {
		e, _ := AsErrno(err)
		k.devPrintf(dev, "unable to register device %s err=%d", dev.Name, e.Ret())
	}
}

// ffaDeviceMatchUUID is ffa_device_match_uuid, run by the bus notifier
// that ffa_setup_partitions registers for FF-A v1.0.
func (k *Kernel) ffaDeviceMatchUUID(fd *FFADevice, drv *Driver) {
	info := k.drv.ffaInfo
	dd, _ := drv.Data.(*ffaDriverData)
	if info == nil || dd == nil || len(dd.ids) == 0 || info.version != ffa.Version1_0 {
		return
	}
	parts, _, err := info.client.PartitionProbe(dd.ids[0]) // ffa_partition_probe
	if err != nil {
		return
	}
	for _, p := range parts {
		if p.ID == fd.VMID {
			fd.UUID = dd.ids[0]
		}
	}
}

// ffaRegister is ffa_register / ffa_driver_register.
func (k *Kernel) ffaRegister(drv *Driver) error {
	if drv.Probe == nil {
		return EINVAL
	}
	drv.Bus = k.drv.ffaBus
	return k.DriverRegister(drv)
}

// ffaSendDirect is the ffa_dev ops' sync_send_receive: a direct request,
// 32 or 64 bit per the device's mode.
func (k *Kernel) ffaSendDirect(fd *FFADevice, data *[5]uint64) Errno {
	info := k.drv.ffaInfo
	if info == nil {
		return ENODEV
	}
	out, err := info.client.DirectReq(fd.VMID, !fd.Mode32, *data)
	if err != nil {
		return Errno(-ffa.LinuxErrno(err))
	}
	*data = out
	return 0
}

// ffaSendDirect2 is sync_send_receive2 (FFA_MSG_SEND_DIRECT_REQ2). As
// ffa_sync_send_receive2 in drivers/firmware/arm_ffa/driver.c does, it
// refuses with -EOPNOTSUPP, without calling the firmware, when ffa_init's
// FFA_FEATURES probe found neither DIRECT_REQ2 nor DIRECT_RESP2
// (drv_info->msg_direct_req2_supp), whatever the partition advertises.
func (k *Kernel) ffaSendDirect2(fd *FFADevice, data *[14]uint64) Errno {
	info := k.drv.ffaInfo
	if info == nil {
		return ENODEV
	}
	if !info.req2 {
		return EOPNOTSUPP
	}
	out, err := info.client.DirectReq2(fd.VMID, fd.UUID, *data)
	if err != nil {
		return Errno(-ffa.LinuxErrno(err))
	}
	*data = out
	return 0
}

// supportsDirectRecv / supportsDirectReq2Recv are
// ffa_partition_supports_direct_recv / _req2_recv.
func (fd *FFADevice) supportsDirectRecv() bool { return fd.Properties.Has(ffa.PropDirectReqRecv) }
func (fd *FFADevice) supportsDirectReq2Recv() bool {
	return fd.Properties.Has(ffa.PropDirectReq2Recv) && !fd.Mode32
}
