package imakernel

import (
	"fmt"

	"github.com/google/go-tpm/tpm2/transport"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/eventlog"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/policy"
	"github.com/ffatpm/ffatpm/kernel"
)

// Initcall names IMA contributes, and the object file they live in.
const (
	InitcallInitIMA         = "init_ima"
	InitcallInitIMALateSync = "init_ima_late_sync"
	Object                  = "security/integrity/ima/ima_main.o"
)

// InitcallNames lists every initcall name this package may contribute.
func InitcallNames() []string { return []string{InitcallInitIMA, InitcallInitIMALateSync} }

// Roots of trust a scenario can select.
const (
	RoTTPM  = "tpm"
	RoTRTMR = "rtmr"
)

// Options configure IMA for one boot.
type Options struct {
	// Config is the command line's view (ima_hash=, ima_template=, a
	// policy). Zero fields take the kernel config's values
	// (IMA_DEFAULT_HASH, IMA_DEFAULT_TEMPLATE, IMA_MEASURE_PCR_IDX); a nil
	// Policy means the built-in tcb policy (ima_policy=tcb).
	Config ima.Config
	// RFCLateRetry enables seed 001's RFC: defer at late_initcall, retry at
	// late_initcall_sync.
	RFCLateRetry bool
	// RoT selects the root of trust: "tpm" (default, the kernel's default
	// chip) or "rtmr" (RTMR below, independent of any TPM chip).
	RoT string
	// RTMR is the register bank for RoT "rtmr"; nil uses a fresh one.
	RTMR *ima.RTMR
	// Files gives measurement points their content, by path. A point with
	// no file is measured over its path bytes.
	Files []ima.File
	// GoTPMExtend marshals every TPM2_PCR_Extend through go-tpm instead of
	// patching one prebuilt command (the default, as Linux's tpm_buf).
	GoTPMExtend bool
}

// Status classifies a measurement point.
type Status int

// Statuses.
const (
	Measured    Status = iota + 1 // listed and extended into the root of trust
	Unprotected                   // listed, but TPM-bypass: no register covers it
	Lost                          // before IMA was initialised: not listed at all
	Duplicate                     // already listed (same PCR and template digest)
	NotMeasured                   // the policy does not measure it
	Failed                        // listed, but the extend failed
)

func (s Status) String() string {
	names := [...]string{"", "measured", "unprotected", "lost", "duplicate", "not-measured", "failed"}
	if s > 0 && int(s) < len(names) {
		return names[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Point is one measurement point and what IMA did with it.
type Point struct {
	At     kernel.Point `json:"at"`
	Func   string       `json:"func"`
	Path   string       `json:"path"`
	Status Status       `json:"status"`
	Reason string       `json:"reason"`
}

// Attempt is one call of init_ima.
type Attempt struct {
	Initcall string       `json:"initcall"`
	At       kernel.Point `json:"at"`
	SawChip  bool         `json:"saw_chip"`
	Ret      kernel.Errno `json:"ret"`
}

// IMA is IMA's state across one boot.
type IMA struct {
	opts  Options
	files map[string]ima.File

	m         *ima.IMA
	at        kernel.Point
	sawChip   bool
	aggregate string
	attempts  []Attempt
	points    []Point
	err       error
}

// New returns IMA for one boot (use a fresh one per boot).
func New(opts Options) *IMA {
	x := &IMA{opts: opts, files: map[string]ima.File{}}
	for _, f := range opts.Files {
		x.files[f.Path] = f
	}
	return x
}

// Install adds IMA's initcalls to spec and chains its measurement hook in
// front of any hook already there.
func (x *IMA) Install(spec *kernel.Spec) {
	cfg := spec.Config
	if cfg == nil {
		cfg = kernel.DefaultConfig()
	}
	spec.Initcalls = append(spec.Initcalls, x.Initcalls(cfg)...)
	prev := spec.Hooks.Measure
	spec.Hooks.Measure = func(k *kernel.Kernel, m kernel.Measurement) {
		x.Measure(k, m)
		if prev != nil {
			prev(k, m)
		}
	}
}

// Initcalls returns the initcalls IMA contributes under cfg: init_ima at
// late_initcall, or at late_initcall_sync with IMA_INIT_LATE_SYNC=y, plus
// init_ima_late_sync with the RFC.
func (x *IMA) Initcalls(cfg *kernel.Config) []kernel.Initcall {
	mk := func(name string, l kernel.Level, late bool) kernel.Initcall {
		return kernel.Initcall{Name: name, Level: l, Object: Object, Symbol: "IMA",
			Fn: func(k *kernel.Kernel) error { return x.initIMA(k, name, late) }}
	}
	if cfg.Builtin("IMA_INIT_LATE_SYNC") {
		return []kernel.Initcall{mk(InitcallInitIMA, kernel.LevelLateSync, true)}
	}
	out := []kernel.Initcall{mk(InitcallInitIMA, kernel.LevelLate, false)}
	if x.opts.RFCLateRetry {
		out = append(out, mk(InitcallInitIMALateSync, kernel.LevelLateSync, true))
	}
	return out
}

// effective merges the options with the kernel config.
func (x *IMA) effective(cfg *kernel.Config) (ima.Config, error) {
	c := x.opts.Config
	if c.HashAlgo == 0 {
		if s := cfg.StringValue("IMA_DEFAULT_HASH"); s != "" {
			a, err := hashalg.Parse(s)
			if err != nil {
				return c, fmt.Errorf("CONFIG_IMA_DEFAULT_HASH: %w", err)
			}
			c.HashAlgo = a
		}
	}
	if c.Template == "" {
		c.Template = cfg.StringValue("IMA_DEFAULT_TEMPLATE")
	}
	if c.PCR == 0 && cfg.Explicit("IMA_MEASURE_PCR_IDX") {
		// Otherwise the root of trust's default index (seed 004): PCR 10
		// on a TPM, which is also the Kconfig default.
		c.PCR = int(cfg.Int("IMA_MEASURE_PCR_IDX"))
	}
	if c.Policy == nil {
		c.Policy = policy.TCB()
	}
	return c, nil
}

// initIMA is init_ima. late says it runs at late_initcall_sync: with
// IMA_INIT_LATE_SYNC always, with the RFC on its second attempt.
func (x *IMA) initIMA(k *kernel.Kernel, name string, late bool) error {
	chip := k.DefaultChip()
	att := Attempt{Initcall: name, At: k.Current(), SawChip: chip != nil}
	ret := x.initCore(k, chip, late)
	att.Ret = ret
	x.attempts = append(x.attempts, att)
	if ret == 0 {
		return nil
	}
	return ret
}

func (x *IMA) form(cfg *kernel.Config) Form {
	switch {
	case cfg.Builtin("IMA_INIT_LATE_SYNC"):
		return FormLateSync
	case x.opts.RFCLateRetry:
		return FormRFC
	}
	return FormUpstream
}

func (x *IMA) initCore(k *kernel.Kernel, chip *kernel.TPMChip, late bool) kernel.Errno {
	cfg := k.Config()
	act, _ := Decide(x.form(cfg), late, x.m != nil, chip != nil, cfg.Enabled("TCG_TPM"))
	switch act {
	case ActSkip:
		return 0
	case ActDefer:
		return kernel.EPROBE_DEFER
	}
	c, err := x.effective(cfg)
	if err != nil {
		x.err = err
		return kernel.EINVAL
	}
	var rot ima.RootOfTrust
	switch x.opts.RoT {
	case RoTRTMR:
		rot = x.opts.RTMR
		if x.opts.RTMR == nil {
			rot = ima.NewRTMR()
		}
	case "", RoTTPM:
		if chip != nil {
			banks := make([]hashalg.Alg, 0, len(chip.Banks))
			for _, b := range chip.Banks {
				if a := hashalg.Alg(b.Alg); a.Valid() {
					banks = append(banks, a)
				}
			}
			t, err := ima.NewTPM(chip, ima.WithBanks(banks), ima.WithPrebuiltExtend(!x.opts.GoTPMExtend))
			if err != nil {
				x.err = err
				return kernel.ENODEV
			}
			rot = t
		}
	default:
		x.err = fmt.Errorf("imakernel: unknown root of trust %q (want tpm or rtmr)", x.opts.RoT)
		return kernel.EINVAL
	}
	agg := ima.BootAggregateName
	if late {
		agg = ima.BootAggregateLateName
	}
	m, err := ima.Init(c, rot, agg, func(line string) { k.Printf("%s", line) })
	if err != nil {
		x.err = err
		return kernel.EIO
	}
	x.m, x.at, x.sawChip, x.aggregate = m, k.Current(), chip != nil, agg
	return 0
}

// Measure is the kernel's measurement hook (Spec.Hooks.Measure).
func (x *IMA) Measure(k *kernel.Kernel, mp kernel.Measurement) {
	f, ok := x.files[mp.Path]
	if !ok {
		f = ima.File{Path: mp.Path, Data: []byte(mp.Path)}
	}
	f.Req = request(mp.Func, f.Req)
	p := Point{At: mp.At, Func: mp.Func, Path: mp.Path}
	if x.m == nil {
		// What the policy IMA will load would decide, had IMA been up.
		pol := x.opts.Config.Policy
		if pol == nil {
			pol = policy.TCB()
		}
		if pol.Match(f.Req).Measure {
			p.Status, p.Reason = Lost, "before init_ima: IMA was not initialised, nothing recorded it"
		} else {
			p.Status, p.Reason = NotMeasured, "the policy does not measure it"
		}
		x.points = append(x.points, p)
		return
	}
	before := x.m.ExtendErrors()
	out, err := x.m.Measure(f)
	switch {
	case err != nil:
		p.Status, p.Reason = Failed, err.Error()
	case out == ima.Measured && x.m.ExtendErrors() > before:
		p.Status, p.Reason = Failed, "listed, but the extend failed: "+x.m.LastExtendError().Error()
	case out == ima.NotMeasured:
		p.Status, p.Reason = NotMeasured, "the policy does not measure it"
	case out == ima.Duplicate:
		p.Status, p.Reason = Duplicate, "already in the measurement list"
	case x.m.Bypass():
		p.Status, p.Reason = Unprotected, "TPM-bypass: in the list, but no PCR was extended"
	default:
		p.Status, p.Reason = Measured, fmt.Sprintf("extended into %s register %d", x.m.RootOfTrust().Name(), x.m.PCR())
	}
	x.points = append(x.points, p)
}

// request fills the policy request for a kernel measurement point: the
// hook from the point's func, the rest from the file's own request.
func request(fn string, r policy.Request) policy.Request {
	if f, err := policy.ParseFunc(fn); err == nil && f != r.Func {
		r.Func, r.Mask = f, 0 // the file's own mask was for another hook
	}
	switch r.Func {
	case policy.BprmCheck, policy.MmapCheck:
		r.Mask = policy.MayExec
	case policy.FileCheck:
		if r.Mask == 0 {
			r.Mask = policy.MayRead
		}
	}
	if r.FSMagic == 0 {
		r.FSMagic = policy.RamfsMagic // the initramfs unpacked into rootfs
	}
	return r
}

// State returns IMA's measurement state, nil if init_ima never completed.
func (x *IMA) State() *ima.IMA { return x.m }

// Initialized reports whether init_ima completed, and where.
func (x *IMA) Initialized() (kernel.Point, bool) { return x.at, x.m != nil }

// SawChip reports whether the completing init_ima found a TPM chip.
func (x *IMA) SawChip() bool { return x.sawChip }

// AggregateName is the first entry's name ("" before init).
func (x *IMA) AggregateName() string { return x.aggregate }

// Attempts lists every init_ima call with its return value.
func (x *IMA) Attempts() []Attempt { return append([]Attempt(nil), x.attempts...) }

// Points lists every measurement point in order with its status.
func (x *IMA) Points() []Point { return append([]Point(nil), x.points...) }

// Count returns how many points have status s.
func (x *IMA) Count(s Status) int {
	n := 0
	for _, p := range x.points {
		if p.Status == s {
			n++
		}
	}
	return n
}

// Filter returns the points with status s.
func (x *IMA) Filter(s Status) []Point {
	var out []Point
	for _, p := range x.points {
		if p.Status == s {
			out = append(out, p)
		}
	}
	return out
}

// Err returns the first model error IMA hit (a bad option, a failed extend).
func (x *IMA) Err() error { return x.err }

// MeasureFirmware is the firmware's part of the boot, before the kernel:
// it measures the boot components into PCR0..9 of the TPM engine eng (the
// secure world's TPM, not through the normal world's driver) and returns
// the event log it writes, /sys/kernel/security/tpm0/binary_bios_measurements.
func MeasureFirmware(eng transport.TPM, im eventlog.Images) (*eventlog.Log, error) {
	rot, err := ima.NewTPM(eng)
	if err != nil {
		return nil, err
	}
	return eventlog.Measure(rot, eventlog.DefaultComponents(im), 0)
}

// MeasureComponents is MeasureFirmware for components the caller built
// (for example eventlog.Precompute of DefaultComponents, once per
// scenario).
func MeasureComponents(eng transport.TPM, comps []eventlog.Component) (*eventlog.Log, error) {
	rot, err := ima.NewTPM(eng)
	if err != nil {
		return nil, err
	}
	return eventlog.Measure(rot, comps, 0)
}

// MeasureFirmwareRTMR is MeasureFirmware for a confidential guest: the
// same components, measured into the RTMR bank by TCG PCR number
// (ima.PCRToRTMR), so an RTMR boot_aggregate covers the firmware.
func MeasureFirmwareRTMR(rt *ima.RTMR, im eventlog.Images) (*eventlog.Log, error) {
	return eventlog.Measure(ima.FirmwareExtender{R: rt}, eventlog.DefaultComponents(im), 0)
}
