package kernel

import (
	"fmt"
	"time"

	"github.com/ffatpm/ffatpm/ffa/phys"
)

// Kernel is the state of one boot in progress. Initcalls, probes and hooks
// receive it; it is not safe for concurrent use and not reusable.
type Kernel struct {
	spec  *Spec
	cfg   *Config
	costs Costs
	clock Clock

	// Optional interfaces of spec.Platform.Mem, looked up once per boot.
	pure  PureReader
	bio   phys.BlockIO
	ioBuf []byte // writeBuf's copy of what it hands to bio

	log    []LogLine
	events []Event
	quiet  bool

	cur Point // what is running now

	buses          []*Bus
	pending        []*Device
	active         []*Device
	deferredEnable bool
	initcallsDone  bool
	triggerCount   int
	workQueued     bool
	deferrals      []*DeferredProbe
	// deferredTimeoutAt is when deferred_probe_timeout_work runs (0: never).
	deferredTimeoutAt time.Duration

	chips     []*TPMChip
	panicked  bool
	panicMsg  string
	fault     error // a Go-level fault of the model (not a modelled outcome)
	res       *Result
	ffaCounts [2][ffaMaxFuncNum - ffaMinFuncNum]int32 // FF-A calls by convention (SMC32, SMC64) and function number - ffaMinFuncNum

	drv driverState // state of the modelled drivers (static variables in C)

	rspBuf []byte // the TPM core's response buffer

	triCache []symTri // resolved Kconfig values (Config may be shared by parallel boots)

	crbReachesFFA bool // IS_REACHABLE(CONFIG_TCG_ARM_CRB_FFA) from tpm_crb
	crbFFABuiltin bool
}

// Config returns the boot's configuration.
func (k *Kernel) Config() *Config { return k.cfg }

// Now returns the virtual time.
func (k *Kernel) Now() time.Duration { return k.clock.now }

// Advance moves the virtual clock (for contributed initcalls that model
// work of their own).
func (k *Kernel) Advance(d time.Duration) { k.clock.Advance(d) }

// Current returns what is running now (level and initcall).
func (k *Kernel) Current() Point { return k.point() }

func (k *Kernel) point() Point {
	p := k.cur
	p.T = int64(k.clock.now)
	return p
}

func durationOf(ns int64) time.Duration { return time.Duration(ns) }

// Printf appends a line to the kernel log, as pr_info would print it; the
// text includes its subsystem prefix ("ima: ...").
func (k *Kernel) Printf(format string, args ...any) { k.printf(format, args...) }

func (k *Kernel) printf(format string, args ...any) {
	if k.quiet {
		return
	}
	k.log = append(k.log, LogLine{T: k.clock.now, Text: fmt.Sprintf(format, args...)})
}

// devPrintf prints as dev_info/dev_err do: "<driver or bus> <device>: msg".
func (k *Kernel) devPrintf(dev *Device, format string, args ...any) {
	if k.quiet {
		return
	}
	who := dev.Bus.Name
	if dev.driver != nil {
		who = dev.driver.Name
	}
	k.log = append(k.log, LogLine{T: k.clock.now, Text: who + " " + dev.Name + ": " + fmt.Sprintf(format, args...)})
}

// Event records a structured event; Kind and the event's own fields are
// kept, T, Level and Initcall are filled in from the current point.
func (k *Kernel) Event(e Event) { k.event(e) }

func (k *Kernel) event(e Event) {
	if k.quiet && e.Kind != EvChipRegister && e.Kind != EvPanic {
		return
	}
	e.T, e.Level, e.Initcall = k.clock.now, k.cur.Level, k.cur.Initcall
	k.events = append(k.events, e)
	if k.spec.Hooks.Event != nil {
		k.spec.Hooks.Event(e)
	}
}

// Panic stops the boot as a kernel BUG/panic would; msg is the log text.
func (k *Kernel) Panic(msg string) {
	if k.panicked {
		return
	}
	k.panicked = true
	k.panicMsg = msg
	k.printf("%s", msg)
	k.event(Event{Kind: EvPanic, Detail: msg})
}

// Panicked reports whether the kernel has panicked.
func (k *Kernel) Panicked() bool { return k.panicked }

// Fault records a Go-level fault of the model; the boot stops and Boot
// returns it as its error.
func (k *Kernel) Fault(err error) {
	if k.fault == nil && err != nil {
		k.fault = err
	}
}

// DeferredProbingEnabled reports whether deferred_probe_initcall has run.
func (k *Kernel) DeferredProbingEnabled() bool { return k.deferredEnable }

type symTri struct {
	sym string
	v   Tristate
}

// tristate is k.cfg.Tristate(sym), remembered for the boot.
func (k *Kernel) tristate(sym string) Tristate {
	for _, c := range k.triCache {
		if c.sym == sym {
			return c.v
		}
	}
	v := k.cfg.Tristate(sym)
	k.triCache = append(k.triCache, symTri{sym, v})
	return v
}

func (k *Kernel) builtin(sym string) bool { return k.tristate(sym) == Y }
