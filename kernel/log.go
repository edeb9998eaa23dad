package kernel

import (
	"fmt"
	"strings"
	"time"
)

// Clock is the boot's virtual clock. Every modelled action advances it by a
// fixed cost (see Costs), so a boot's timestamps depend only on its inputs.
type Clock struct{ now time.Duration }

// Now returns the time since the kernel started.
func (c *Clock) Now() time.Duration { return c.now }

// Advance moves the clock forward by d (negative d is ignored).
func (c *Clock) Advance(d time.Duration) {
	if d > 0 {
		c.now += d
	}
}

// Costs are the virtual durations of modelled actions.
type Costs struct {
	Banner   time.Duration // from the start of the kernel to the first initcall
	Initcall time.Duration // fixed cost of calling one initcall
	Probe    time.Duration // fixed cost of one probe attempt
	FFACall  time.Duration // one SMC into the secure world and back
	MMIO     time.Duration // one MMIO register access
	TPMCmd   time.Duration // the TPM executing one command
	Module   time.Duration // loading one module (modprobe, relocation)
	Userspac time.Duration // from the end of the initcalls to /init
}

// DefaultCosts returns the costs the model uses unless a Spec names others.
// They are of the order of a small arm64 machine's and serve only to give
// the log a plausible, deterministic time line.
func DefaultCosts() Costs {
	return Costs{
		Banner:   120 * time.Millisecond,
		Initcall: 4 * time.Microsecond,
		Probe:    6 * time.Microsecond,
		FFACall:  2 * time.Microsecond,
		MMIO:     200 * time.Nanosecond,
		TPMCmd:   300 * time.Microsecond,
		Module:   3 * time.Millisecond,
		Userspac: 40 * time.Millisecond,
	}
}

// LogLine is one kernel log record.
type LogLine struct {
	T    time.Duration
	Text string // with the subsystem prefix Linux prints ("ARM FF-A: ...")
}

// String formats the line as dmesg prints it: "[    0.123456] text".
func (l LogLine) String() string {
	return "[" + fmt.Sprintf("%12s", FormatTime(l.T)) + "] " + l.Text
}

// FormatTime formats a boot time as printk does: seconds and microseconds,
// "0.123456".
func FormatTime(d time.Duration) string {
	us := d.Microseconds()
	return fmt.Sprintf("%d.%06d", us/1000000, us%1000000)
}

// FormatLog returns the lines as dmesg prints them, one per line.
func FormatLog(lines []LogLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// EventKind classifies the structured events of a boot.
type EventKind uint8

// Event kinds.
const (
	EvInitcallStart  EventKind = iota + 1 // an initcall is called
	EvInitcallReturn                      // it returned (Err)
	EvBusRegister                         // a bus was registered
	EvDeviceAdd                           // a device was added to a bus
	EvDriverRegister                      // a driver registered (Err on failure)
	EvProbe                               // a probe starts (Device, Driver)
	EvProbeReturn                         // a probe returned (Err)
	EvBind                                // a driver was bound to a device
	EvDefer                               // a device was put on the deferred pending list
	EvTrigger                             // driver_deferred_probe_trigger (Detail: "ignored" before enable)
	EvDeferredRetry                       // the deferred work retries a device
	EvDeferredEnable                      // deferred_probe_initcall enabled deferred probing
	EvModuleLoad                          // a module was loaded (Detail: module name)
	EvChipRegister                        // a TPM chip became visible (Device: "tpm0")
	EvTPMCommand                          // a TPM command went through the chain (Detail: command name)
	EvFFACall                             // an FF-A call (Detail: function name; only with Spec.Trace)
	EvMMIO                                // a CRB register access (Detail; only with Spec.Trace)
	EvMeasure                             // a measurement point (Detail: func and path)
	EvPanic                               // the kernel panicked (Detail)
	EvUserspace                           // /init started
)

var eventNames = [...]string{
	EvInitcallStart: "initcall_start", EvInitcallReturn: "initcall_return", EvBusRegister: "bus_register",
	EvDeviceAdd: "device_add", EvDriverRegister: "driver_register", EvProbe: "probe", EvProbeReturn: "probe_return",
	EvBind: "bind", EvDefer: "defer", EvTrigger: "trigger", EvDeferredRetry: "deferred_retry",
	EvDeferredEnable: "deferred_enable", EvModuleLoad: "module_load", EvChipRegister: "chip_register",
	EvTPMCommand: "tpm_command", EvFFACall: "ffa_call", EvMMIO: "mmio", EvMeasure: "measure", EvPanic: "panic",
	EvUserspace: "userspace",
}

// String returns the snake_case name used in trace.jsonl.
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// MarshalText implements encoding.TextMarshaler.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Event is one structured record of the boot.
type Event struct {
	T        time.Duration `json:"t_ns"`
	Kind     EventKind     `json:"kind"`
	Level    Level         `json:"level"`              // the level running when it happened
	Initcall string        `json:"initcall,omitempty"` // the initcall (or "modprobe X") running
	Bus      string        `json:"bus,omitempty"`
	Device   string        `json:"device,omitempty"`
	Driver   string        `json:"driver,omitempty"`
	Err      Errno         `json:"err,omitempty"`
	Detail   string        `json:"detail,omitempty"`
}

// ErrName returns the errno name or "0".
func (e Event) ErrName() string { return e.Err.String() }
