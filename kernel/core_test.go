package kernel

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newTestKernel returns a kernel with no platform, for driver-core tests.
func newTestKernel() *Kernel {
	return &Kernel{spec: &Spec{}, cfg: NewConfig(), costs: DefaultCosts(), res: &Result{}}
}

func nameBus(name string) *Bus {
	return &Bus{Name: name, Match: func(d *Device, drv *Driver) bool { return d.Data == drv.Data }}
}

func logText(k *Kernel) []string {
	var out []string
	for _, l := range k.log {
		out = append(out, l.Text)
	}
	return out
}

func TestDriverRegisterOnUnregisteredBus(t *testing.T) {
	k := newTestKernel()
	b := nameBus("arm_ffa")
	err := k.DriverRegister(&Driver{Name: "ffa-crb", Bus: b})
	assert.Equal(t, EINVAL, err)
	assert.Equal(t, []string{"Driver 'ffa-crb' was unable to register with bus_type 'arm_ffa' because the bus was not initialized."}, logText(k))
}

func TestDriverRegisterTwice(t *testing.T) {
	k := newTestKernel()
	b := nameBus("platform")
	require.NoError(t, k.BusRegister(b))
	require.NoError(t, k.DriverRegister(&Driver{Name: "foo", Bus: b}))
	err := k.DriverRegister(&Driver{Name: "foo", Bus: b})
	assert.Equal(t, EBUSY, err)
	assert.Equal(t, []string{"Error: Driver 'foo' is already registered, aborting..."}, logText(k))
	// The same name on another bus is a different driver.
	b2 := nameBus("acpi")
	require.NoError(t, k.BusRegister(b2))
	assert.NoError(t, k.DriverRegister(&Driver{Name: "foo", Bus: b2}))
}

// TestDeferredProbeRules checks drivers/base/dd.c's rules: a successful
// bind before deferred_probe_initcall does not retry deferred devices; a
// new matching driver does probe a deferred device; deferred_probe_initcall
// enables deferred probing and flushes the list.
func TestDeferredProbeRules(t *testing.T) {
	k := newTestKernel()
	b := nameBus("platform")
	require.NoError(t, k.BusRegister(b))
	ready := false
	consumer := &Device{Name: "consumer", Bus: b, Data: "c"}
	other := &Device{Name: "other", Bus: b, Data: "o"}
	require.NoError(t, k.DeviceAdd(consumer))
	require.NoError(t, k.DeviceAdd(other))
	calls := 0
	require.NoError(t, k.DriverRegister(&Driver{Name: "cdrv", Bus: b, Data: "c", Probe: func(k *Kernel, d *Device) error {
		calls++
		if !ready {
			return EPROBE_DEFER
		}
		return nil
	}}))
	assert.Equal(t, 1, calls)
	require.Len(t, k.pending, 1)
	// Another device binds: the trigger does nothing yet.
	ready = true
	require.NoError(t, k.DriverRegister(&Driver{Name: "odrv", Bus: b, Data: "o", Probe: func(*Kernel, *Device) error { return nil }}))
	assert.Equal(t, 1, calls, "a successful bind before deferred_probe_initcall does not retry")
	assert.Nil(t, consumer.Driver())
	assert.Len(t, k.pending, 1)
	// deferred_probe_initcall enables and flushes.
	require.NoError(t, deferredProbeInitcall(k))
	assert.Equal(t, 2, calls)
	require.NotNil(t, consumer.Driver())
	assert.Equal(t, "cdrv", consumer.Driver().Name)
	assert.Empty(t, k.pending)
	require.Len(t, k.deferrals, 1)
	assert.Equal(t, 2, k.deferrals[0].Attempts)
	require.NotNil(t, k.deferrals[0].Resolved)
}

func TestNewDriverProbesDeferredDevice(t *testing.T) {
	k := newTestKernel()
	b := nameBus("platform")
	require.NoError(t, k.BusRegister(b))
	dev := &Device{Name: "d", Bus: b, Data: "x"}
	require.NoError(t, k.DeviceAdd(dev))
	require.NoError(t, k.DriverRegister(&Driver{Name: "first", Bus: b, Data: "x", Probe: func(*Kernel, *Device) error { return EPROBE_DEFER }}))
	assert.Len(t, k.pending, 1)
	// A second matching driver registers: driver_attach probes the
	// deferred (unbound) device at once, enable or not.
	require.NoError(t, k.DriverRegister(&Driver{Name: "second", Bus: b, Data: "x", Probe: func(*Kernel, *Device) error { return nil }}))
	require.NotNil(t, dev.Driver())
	assert.Equal(t, "second", dev.Driver().Name)
	assert.Empty(t, k.pending, "driver_bound takes the device off the deferred list")
}

func TestProbeFailureMessages(t *testing.T) {
	k := newTestKernel()
	b := nameBus("acpi")
	require.NoError(t, k.BusRegister(b))
	for _, e := range []Errno{ENODEV, ENXIO, EINVAL} {
		dev := &Device{Name: "MSFT0101:0" + string(rune('0'+int(e%10))), Bus: b, Data: e}
		require.NoError(t, k.DeviceAdd(dev))
		err := e
		require.NoError(t, k.DriverRegister(&Driver{Name: "drv" + e.String(), Bus: b, Data: e, Probe: func(*Kernel, *Device) error { return err }}))
	}
	// -ENODEV and -ENXIO "reject the match" silently; others are dev_err.
	assert.Equal(t, []string{"drvEINVAL MSFT0101:02: probe with driver drvEINVAL failed with error -22"}, logText(k))
}

func TestTriggerDuringProbeRetriggers(t *testing.T) {
	// really_probe/driver_probe_device: if a trigger happened while a probe
	// that then deferred was running, trigger again so that the device is
	// not left on the pending list.
	k := newTestKernel()
	k.deferredEnable = true
	b := nameBus("platform")
	require.NoError(t, k.BusRegister(b))
	require.NoError(t, k.DriverRegister(&Driver{Name: "idrv", Bus: b, Data: "i", Probe: func(*Kernel, *Device) error { return nil }}))
	inner := &Device{Name: "inner", Bus: b, Data: "i"}
	outer := &Device{Name: "outer", Bus: b, Data: "o"}
	require.NoError(t, k.DeviceAdd(outer))
	require.NoError(t, k.DriverRegister(&Driver{Name: "odrv", Bus: b, Data: "o", Probe: func(k *Kernel, d *Device) error {
		if !inner.registered {
			require.NoError(t, k.DeviceAdd(inner)) // binds at once: a trigger
		}
		return EPROBE_DEFER
	}}))
	assert.Empty(t, k.pending)
	assert.Equal(t, []*Device{outer}, k.active)
	assert.True(t, k.workQueued)
	k.flushDeferredWork()
	assert.Equal(t, []*Device{outer}, k.pending, "retried, deferred again, waits for the next trigger")
}

func TestDeviceAddNeedsRegisteredBus(t *testing.T) {
	k := newTestKernel()
	assert.Equal(t, EINVAL, k.DeviceAdd(&Device{Name: "x", Bus: nameBus("nobus")}))
}
