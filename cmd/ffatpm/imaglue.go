package main

import (
	"fmt"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/policy"
	"github.com/ffatpm/ffatpm/kernel"
)

// imaBoot composes IMA into a kernel boot: init_ima as the initcall(s) IMA
// contributes, and the measurement points the kernel reports. It keeps what
// the CLI reports: where init_ima found (or did not find) a TPM, and which
// measurement points came before IMA could protect them.
//
// Provisional: this is the CLI's own composition of ima.Init with the kernel
// model, kept until the ima package ships its kernel initcalls; the rules
// follow security/integrity/ima/ima_main.c and seed 001.
type imaBoot struct {
	cfg      ima.Config
	lateSync bool   // CONFIG_IMA_INIT_LATE_SYNC: init_ima at late_initcall_sync
	retry    bool   // seed 001's RFC: defer at late, retry at late_sync
	rotName  string // "tpm" or "rtmr"
	files    map[string]ima.File

	m        *ima.IMA
	sawChip  bool
	at       *kernel.Point
	aggName  string
	lost     []lostInfo
	measured int
	err      error
}

const (
	aggregateName     = "boot_aggregate"
	aggregateLateName = "boot_aggregate_late"
	imaObject         = "security/integrity/ima/ima_main.o"
)

func newIMABoot(cfg *kernel.Config, sc *scenario, files []ima.File) *imaBoot {
	b := &imaBoot{
		cfg:      ima.Config{Policy: policy.TCB()},
		lateSync: cfg.Builtin("IMA_INIT_LATE_SYNC"),
		retry:    sc.IMALateRetry != nil && *sc.IMALateRetry,
		rotName:  sc.RoT,
		files:    map[string]ima.File{},
	}
	for _, f := range files {
		b.files[f.Path] = f
	}
	return b
}

// imaInitcallNames are the names the IMA composition may contribute.
var imaInitcallNames = []string{"init_ima", "init_ima_late_sync"}

func (b *imaBoot) initcalls() []kernel.Initcall {
	if b.lateSync {
		return []kernel.Initcall{{Name: "init_ima", Level: kernel.LevelLateSync, Object: imaObject, Symbol: "IMA",
			Fn: func(k *kernel.Kernel) error { return b.init(k, true) }}}
	}
	calls := []kernel.Initcall{{Name: "init_ima", Level: kernel.LevelLate, Object: imaObject, Symbol: "IMA",
		Fn: func(k *kernel.Kernel) error { return b.init(k, false) }}}
	if b.retry {
		calls = append(calls, kernel.Initcall{Name: "init_ima_late_sync", Level: kernel.LevelLateSync, Object: imaObject, Symbol: "IMA",
			Fn: func(k *kernel.Kernel) error { return b.init(k, true) }})
	}
	return calls
}

// init is init_ima. late is true when it runs at late_initcall_sync.
func (b *imaBoot) init(k *kernel.Kernel, late bool) error {
	if b.m != nil {
		return nil // the first attempt found the TPM (seed 001)
	}
	chip := k.DefaultChip()
	if chip == nil && b.retry && !late && k.Config().Enabled("TCG_TPM") {
		// pr_debug("TPM not available, will try later")
		return kernel.EPROBE_DEFER
	}
	name := aggregateName
	if late {
		name = aggregateLateName
	}
	var rot ima.RootOfTrust
	switch {
	case b.rotName == "rtmr":
		rot = ima.NewRTMR()
	case chip != nil:
		t, err := ima.NewTPM(chip)
		if err != nil {
			k.Printf("ima: Error Communicating to TPM chip, result: %v", err)
		} else {
			rot = t
		}
	}
	m, err := ima.Init(b.cfg, rot, name, func(line string) { k.Printf("%s", line) })
	if err != nil {
		b.err = err
		return kernel.EINVAL
	}
	p := k.Current()
	b.m, b.sawChip, b.at, b.aggName = m, chip != nil, &p, name
	return nil
}

// measure is the kernel's measurement hook: a point IMA's policy could
// measure.
func (b *imaBoot) measure(k *kernel.Kernel, mp kernel.Measurement) {
	what := mp.Func + " " + mp.Path
	if b.m == nil {
		b.lost = append(b.lost, lostInfo{Event: what, At: pointString(mp.At), Reason: "before init_ima: not measured"})
		return
	}
	f, ok := b.files[mp.Path]
	if !ok {
		f = ima.File{Path: mp.Path, Data: []byte(mp.Path), Req: ima.Classify(mp.Path, mp.Func == "BPRM_CHECK", policy.RamfsMagic)}
	}
	b.record(f, what, pointString(mp.At))
}

func (b *imaBoot) record(f ima.File, what, at string) {
	out, err := b.m.Measure(f)
	if err != nil {
		b.err = err
		return
	}
	if out == ima.Measured {
		b.measured++
		if b.m.Bypass() {
			b.lost = append(b.lost, lostInfo{Event: what, At: at, Reason: "TPM-bypass: listed but not extended into the TPM"})
		}
	}
}

func pointString(p kernel.Point) string {
	if p.Initcall == "" {
		return p.Level.String()
	}
	return fmt.Sprintf("%s %s", p.Level, p.Initcall)
}
