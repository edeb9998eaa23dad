package kernel

import (
	"fmt"
	"time"
)

// Bus is a bus type (struct bus_type): platform, acpi, arm_ffa.
type Bus struct {
	Name string
	// Match reports whether drv can drive dev (bus_type.match).
	Match func(dev *Device, drv *Driver) bool
	// Probe, when set, is the bus's probe (bus_type.probe), which calls the
	// driver's own probe; otherwise the core calls Driver.Probe.
	Probe func(k *Kernel, dev *Device) error

	registered bool
	devices    []*Device
	drivers    []*Driver
}

// Registered reports whether bus_register has run for the bus.
func (b *Bus) Registered() bool { return b.registered }

// Devices returns the devices on the bus in registration order.
func (b *Bus) Devices() []*Device { return append([]*Device(nil), b.devices...) }

// Device is a device on a bus (struct device).
type Device struct {
	Name string
	Bus  *Bus
	// Data is the bus-specific part (*FFADevice, *ACPIDevice).
	Data any

	driver     *Driver
	drvData    any
	registered bool
	onDeferred bool
	deferral   *DeferredProbe
}

// Driver returns the bound driver, or nil.
func (d *Device) Driver() *Driver { return d.driver }

// DrvData returns the driver's private data (dev_get_drvdata).
func (d *Device) DrvData() any { return d.drvData }

// SetDrvData sets the driver's private data (dev_set_drvdata).
func (d *Device) SetDrvData(v any) { d.drvData = v }

// Driver is a device driver (struct device_driver).
type Driver struct {
	Name  string
	Bus   *Bus
	Probe func(k *Kernel, dev *Device) error
	// Data is the bus-specific part (an FF-A UUID table, ACPI IDs).
	Data any
}

// DeferredProbe records a device whose probe returned -EPROBE_DEFER: when
// it was first deferred, how often, and when (if ever) a probe finally ran
// to an end (bound or failed).
type DeferredProbe struct {
	Device   string `json:"device"`
	Bus      string `json:"bus"`
	Driver   string `json:"driver"`
	First    Point  `json:"first_deferred"`
	Attempts int    `json:"attempts"` // probe attempts, including the first
	// Resolved is when the last attempt ran, if a later attempt ended in
	// something other than -EPROBE_DEFER.
	Resolved *Point `json:"resolved,omitempty"`
	// Result is the errno of the last attempt (0: bound).
	Result Errno `json:"result"`
}

// Point names a moment of the boot: the virtual time, the level, and the
// initcall (or "modprobe NAME", or "deferwq after X" for the deferred-probe
// worker running after initcall X)
// that was running.
type Point struct {
	T        int64  `json:"t_ns"`
	Level    Level  `json:"level"`
	Initcall string `json:"initcall"`
}

// String formats the point as "crb_acpi_driver_init (device) at 0.120016".
func (p Point) String() string {
	return fmt.Sprintf("%s (%s) at %s", p.Initcall, p.Level, FormatTime(durationOf(p.T)))
}

// BusRegister registers a bus (bus_register).
func (k *Kernel) BusRegister(b *Bus) error {
	if b.registered {
		return EEXIST
	}
	b.registered = true
	k.buses = append(k.buses, b)
	k.event(Event{Kind: EvBusRegister, Bus: b.Name})
	return nil
}

// findBus returns a registered bus by name.
func (k *Kernel) findBus(name string) *Bus {
	for _, b := range k.buses {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// DriverRegister registers a driver on its bus (driver_register in
// drivers/base/driver.c): it fails with -EINVAL when the bus is not
// registered and with -EBUSY when a driver of the same name is already on
// the bus, printing Linux's messages; otherwise it attaches the driver to
// every matching unbound device on the bus (driver_attach). Probe errors do
// not fail the registration.
func (k *Kernel) DriverRegister(drv *Driver) error {
	b := drv.Bus
	if b == nil || !b.registered {
		bus := "(null)"
		if b != nil {
			bus = b.Name
		}
		k.printf("Driver '%s' was unable to register with bus_type '%s' because the bus was not initialized.", drv.Name, bus)
		k.event(Event{Kind: EvDriverRegister, Bus: bus, Driver: drv.Name, Err: EINVAL})
		return EINVAL
	}
	for _, other := range b.drivers {
		if other.Name == drv.Name {
			k.printf("Error: Driver '%s' is already registered, aborting...", drv.Name)
			k.event(Event{Kind: EvDriverRegister, Bus: b.Name, Driver: drv.Name, Err: EBUSY})
			return EBUSY
		}
	}
	b.drivers = append(b.drivers, drv)
	k.event(Event{Kind: EvDriverRegister, Bus: b.Name, Driver: drv.Name})
	// driver_attach: bus_for_each_dev(__driver_attach).
	for _, dev := range append([]*Device(nil), b.devices...) {
		if k.fault != nil || k.panicked {
			break
		}
		if !b.Match(dev, drv) {
			continue
		}
		if dev.driver != nil {
			continue
		}
		k.driverProbeDevice(drv, dev)
	}
	return nil
}

// DeviceAdd adds a device to its bus (device_add) and probes it against the
// bus's drivers (bus_probe_device).
func (k *Kernel) DeviceAdd(dev *Device) error {
	if dev.Bus == nil || !dev.Bus.registered {
		return EINVAL
	}
	if dev.registered {
		return EEXIST
	}
	dev.registered = true
	dev.Bus.devices = append(dev.Bus.devices, dev)
	k.event(Event{Kind: EvDeviceAdd, Bus: dev.Bus.Name, Device: dev.Name})
	k.deviceAttach(dev)
	return nil
}

// deviceAttach tries the bus's drivers in registration order until one
// binds or a probe ends in anything other than "rejects match"
// (__device_attach / __device_attach_driver).
func (k *Kernel) deviceAttach(dev *Device) {
	if dev.driver != nil {
		return
	}
	for _, drv := range append([]*Driver(nil), dev.Bus.drivers...) {
		if k.fault != nil || k.panicked {
			return
		}
		if !dev.Bus.Match(dev, drv) {
			continue
		}
		err := k.driverProbeDevice(drv, dev)
		if e, _ := AsErrno(err); e == ENODEV || e == ENXIO {
			continue
		}
		return
	}
}

// driverProbeDevice is driver_probe_device + really_probe +
// call_driver_probe: one probe attempt with the driver core's handling of
// its result.
func (k *Kernel) driverProbeDevice(drv *Driver, dev *Device) error {
	trigger := k.triggerCount
	k.clock.Advance(k.costs.Probe)
	k.res.Probes++
	k.event(Event{Kind: EvProbe, Bus: dev.Bus.Name, Device: dev.Name, Driver: drv.Name})
	dev.driver = drv
	var err error
	if dev.Bus.Probe != nil {
		err = dev.Bus.Probe(k, dev)
	} else if drv.Probe != nil {
		err = drv.Probe(k, dev)
	}
	e, ok := AsErrno(err)
	if !ok {
		if k.fault == nil {
			k.fault = fmt.Errorf("probe of %s with driver %s: %w", dev.Name, drv.Name, err)
		}
		dev.driver = nil
		return err
	}
	k.event(Event{Kind: EvProbeReturn, Bus: dev.Bus.Name, Device: dev.Name, Driver: drv.Name, Err: e})
	if k.panicked {
		return err
	}
	if dp := dev.deferral; dp != nil && e != EPROBE_DEFER {
		p := k.point()
		dp.Resolved, dp.Result = &p, e
		dp.Attempts++
	}
	switch e {
	case 0:
		k.driverBound(dev)
		return nil
	case EPROBE_DEFER:
		dev.driver = nil
		dev.drvData = nil
		k.deferredProbeAdd(dev, drv)
		if trigger != k.triggerCount {
			k.deferredProbeTrigger()
		}
	case ENODEV, ENXIO:
		dev.driver = nil
		dev.drvData = nil
	default:
		k.devPrintf(dev, "probe with driver %s failed with error %d", drv.Name, e.Ret())
		dev.driver = nil
		dev.drvData = nil
	}
	return e
}

// driverBound records the binding, takes the device off the deferred
// lists and calls the trigger (driver_bound).
func (k *Kernel) driverBound(dev *Device) {
	k.event(Event{Kind: EvBind, Bus: dev.Bus.Name, Device: dev.Name, Driver: dev.driver.Name})
	k.deferredProbeDel(dev)
	k.deferredProbeTrigger()
}

// deferredProbeAdd puts dev on the pending list (driver_deferred_probe_add).
func (k *Kernel) deferredProbeAdd(dev *Device, drv *Driver) {
	if dev.deferral == nil {
		dev.deferral = &DeferredProbe{Device: dev.Name, Bus: dev.Bus.Name, Driver: drv.Name, First: k.point(), Result: EPROBE_DEFER}
		k.deferrals = append(k.deferrals, dev.deferral)
	}
	dev.deferral.Attempts++
	dev.deferral.Resolved, dev.deferral.Result = nil, EPROBE_DEFER
	k.event(Event{Kind: EvDefer, Bus: dev.Bus.Name, Device: dev.Name, Driver: drv.Name, Err: EPROBE_DEFER})
	if !dev.onDeferred {
		dev.onDeferred = true
		k.pending = append(k.pending, dev)
	}
}

// deferredProbeDel takes dev off both lists (driver_deferred_probe_del).
func (k *Kernel) deferredProbeDel(dev *Device) {
	if !dev.onDeferred {
		return
	}
	dev.onDeferred = false
	k.pending = removeDev(k.pending, dev)
	k.active = removeDev(k.active, dev)
}

func removeDev(list []*Device, dev *Device) []*Device {
	out := list[:0]
	for _, d := range list {
		if d != dev {
			out = append(out, d)
		}
	}
	return out
}

// deferredProbeTrigger is driver_deferred_probe_trigger: nothing until
// deferred_probe_initcall has enabled deferred probing; then the pending
// list moves to the active list and the deferred work is queued.
func (k *Kernel) deferredProbeTrigger() {
	if !k.deferredEnable {
		k.event(Event{Kind: EvTrigger, Detail: "ignored: deferred probing not enabled yet"})
		return
	}
	k.triggerCount++
	k.active = append(k.active, k.pending...)
	k.pending = k.pending[:0]
	k.workQueued = true
	if !k.quiet {
		k.event(Event{Kind: EvTrigger, Detail: fmt.Sprintf("%d device(s) to retry", len(k.active))})
	}
}

// maxDeferredRetries bounds one run of the deferred work (Linux's loop ends
// because a retry only re-triggers on a successful bind; the bound guards
// the model against a driver that binds forever).
const maxDeferredRetries = 1024

// runDeferredWork is deferred_probe_work_func: retry every device on the
// active list. The model runs the work when it is flushed and, as the
// deferwq worker would, right after the initcall (or module load) that
// queued it returns.
func (k *Kernel) runDeferredWork(worker bool) {
	k.workQueued = false
	saved := k.cur
	if worker && saved.Initcall != "" {
		k.cur.Initcall = "deferwq after " + saved.Initcall
	}
	defer func() { k.cur = saved }()
	for n := 0; len(k.active) > 0 && n < maxDeferredRetries; n++ {
		if k.fault != nil || k.panicked {
			return
		}
		dev := k.active[0]
		k.active = k.active[1:]
		dev.onDeferred = false
		k.event(Event{Kind: EvDeferredRetry, Bus: dev.Bus.Name, Device: dev.Name})
		k.deviceAttach(dev)
	}
}

// flushDeferredWork runs the queued deferred work (flush_work): the
// probes it makes are attributed to the running initcall.
func (k *Kernel) flushDeferredWork() {
	for k.workQueued && k.fault == nil && !k.panicked {
		k.runDeferredWork(false)
	}
}

// runDeferredWorker runs what the deferwq worker would run once the current
// initcall (or module load) has returned; its probes are attributed to
// "deferwq after <initcall>".
func (k *Kernel) runDeferredWorker() {
	for k.workQueued && k.fault == nil && !k.panicked {
		k.runDeferredWork(true)
	}
}

// deferredProbeInitcall is drivers/base/dd.c's deferred_probe_initcall
// (late_initcall): enable deferred probing, trigger and flush, then (with
// initcalls_done set) trigger and flush again.
func deferredProbeInitcall(k *Kernel) error {
	k.deferredEnable = true
	k.event(Event{Kind: EvDeferredEnable})
	k.deferredProbeTrigger()
	k.flushDeferredWork()
	k.initcallsDone = true
	k.deferredProbeTrigger()
	k.flushDeferredWork()
	if k.builtin("MODULES") {
		// schedule_delayed_work(&deferred_probe_timeout_work, 10 * HZ)
		k.deferredTimeoutAt = k.clock.now + deferredProbeTimeout
	}
	return nil
}

// deferredProbeTimeout is driver_deferred_probe_timeout's default with
// CONFIG_MODULES (10 s).
const deferredProbeTimeout = 10 * time.Second

// deferredProbeTimeoutWork is deferred_probe_timeout_work_func: one more
// trigger and flush, then a warning for every device still pending. The
// model runs it only when a device is still pending at the end of the boot
// (so the log shows the boot past /init then).
func (k *Kernel) deferredProbeTimeoutWork() {
	if k.deferredTimeoutAt == 0 || len(k.pending) == 0 || k.stopped() {
		return
	}
	if k.clock.now < k.deferredTimeoutAt {
		k.clock.now = k.deferredTimeoutAt
	}
	k.cur = Point{Level: LevelUser, Initcall: "deferred_probe_timeout_work"}
	k.deferredProbeTrigger()
	k.flushDeferredWork()
	for _, dev := range k.pending {
		k.devPrintf(dev, "deferred probe pending: (reason unknown)")
	}
}
