package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// optBool is a boolean flag that remembers whether it was given, so that
// --crb-ffa-register=false can turn off a preset's switch while leaving it
// out keeps the preset's value.
type optBool struct {
	set bool
	v   bool
}

func (b *optBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.v)
}

func (b *optBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", s)
	}
	b.set, b.v = true, v
	return nil
}

func (b *optBool) IsBoolFlag() bool { return true }

func (b *optBool) ptr() *bool {
	if !b.set {
		return nil
	}
	v := b.v
	return &v
}

// orderFlag collects repeatable --order LEVEL=a,b,c values.
type orderFlag struct {
	levels []string
	m      map[string][]string
}

func (o *orderFlag) String() string {
	if o == nil {
		return ""
	}
	var parts []string
	for _, l := range o.levels {
		parts = append(parts, l+"="+strings.Join(o.m[l], ","))
	}
	return strings.Join(parts, " ")
}

func (o *orderFlag) Set(s string) error {
	level, list, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want LEVEL=initcall,initcall,..., got %q", s)
	}
	level = normalizeLevel(level)
	if _, known := parseLevel(level); !known {
		return fmt.Errorf("unknown initcall level %q (levels: %s)", level, strings.Join(levelNames(), ", "))
	}
	names := splitList(list)
	if len(names) == 0 {
		return fmt.Errorf("level %s: no initcall names after '='", level)
	}
	if err := checkOrderNames(names); err != nil {
		return fmt.Errorf("level %s: %v", level, err)
	}
	if o.m == nil {
		o.m = map[string][]string{}
	}
	if _, dup := o.m[level]; dup {
		return fmt.Errorf("level %s given twice", level)
	}
	o.levels = append(o.levels, level)
	o.m[level] = names
	return nil
}

// configFlag collects repeatable --config SYMBOL=value values.
type configFlag struct {
	keys []string
	m    map[string]string
}

func (c *configFlag) String() string {
	if c == nil {
		return ""
	}
	var parts []string
	for _, k := range c.keys {
		parts = append(parts, k+"="+c.m[k])
	}
	return strings.Join(parts, " ")
}

func (c *configFlag) Set(s string) error {
	sym, val, ok := strings.Cut(s, "=")
	if !ok || val == "" {
		return fmt.Errorf("want SYMBOL=y|m|n, got %q", s)
	}
	if err := checkSymbolName(sym); err != nil {
		return err
	}
	if c.m == nil {
		c.m = map[string]string{}
	}
	if _, dup := c.m[sym]; !dup {
		c.keys = append(c.keys, sym)
	}
	c.m[sym] = val
	return nil
}

// scenarioFlags are the flags that choose and change a scenario; boot, trace
// and serve share them.
type scenarioFlags struct {
	preset         string
	file           string
	orders         orderFlag
	configs        configFlag
	ffaInitcall    string
	crbFFARegister optBool
	crbFFABugOn    optBool
	ffaBusInit     optBool
	imaLateSync    optBool
	imaLateRetry   optBool
	rot            string
	measure        string
}

func (f *scenarioFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.preset, "preset", "", "start from the built-in scenario `NAME` (see \"ffatpm presets\")")
	fs.StringVar(&f.file, "scenario", "", "read the scenario from `FILE` (YAML or JSON; fields in docs/cli.md)")
	fs.Var(&f.orders, "order", "link order inside a level, e.g. device=crb_acpi_driver_init,ffa_init\n(`LEVEL=a,b,c`; repeatable; LEVEL as in include/linux/init.h)")
	fs.Var(&f.configs, "config", "set a Kconfig symbol, e.g. TCG_CRB=m (`SYMBOL=y|m|n`; repeatable)")
	fs.StringVar(&f.ffaInitcall, "ffa-initcall", "", "initcall `LEVEL` of ffa_init: rootfs (upstream 0e0546eabcd6) or device")
	fs.Var(&f.crbFFARegister, "crb-ffa-register", "tpm_crb_ffa_init() registers the FF-A driver itself when built in\n(seed 002 patch 2, upstream 746d9e9f62a6); =false turns it off")
	fs.Var(&f.crbFFABugOn, "crb-ffa-bug-on", "seed 002 v2's form of that change: return ffa_register()'s result, then\nBUG_ON(!ret && !tpm_crb_ffa); =false turns it off")
	fs.Var(&f.ffaBusInit, "ffa-bus-in-ffa-init", "older kernels: ffa_init registers the arm_ffa bus itself instead of\narm_ffa_bus_init (subsys_initcall); =false turns it off")
	fs.Var(&f.imaLateSync, "ima-late-sync", "CONFIG_IMA_INIT_LATE_SYNC: init_ima runs at late_initcall_sync; =false turns it off")
	fs.Var(&f.imaLateRetry, "ima-late-retry", "seed 001's RFC: with no TPM at late_initcall, init_ima retries at late_initcall_sync")
	fs.StringVar(&f.rot, "rot", "", "IMA root of trust `NAME`: "+strings.Join(rootsOfTrust(), " or ")+" (seed 004)")
	fs.StringVar(&f.measure, "measure", "", "measure the files under `DIR` after boot (default: a small embedded file set)")
}

// resolve builds the scenario: the preset (or the default scenario), then the
// scenario file, then the flags, each overriding the one before.
func (f *scenarioFlags) resolve() (*scenario, error) {
	var file *scenario
	if f.file != "" {
		data, err := os.ReadFile(f.file)
		if err != nil {
			return nil, usagef("--scenario: %v", unwrapPathError(err))
		}
		file, err = parseScenario(data)
		if err != nil {
			return nil, usagef("scenario %s: %v", f.file, err)
		}
		if file.Measure != "" && !filepath.IsAbs(file.Measure) {
			file.Measure = filepath.Join(filepath.Dir(f.file), file.Measure)
		}
	}
	presetName := f.preset
	if presetName == "" && file != nil {
		presetName = file.Preset
	}
	base, err := baseScenario(presetName)
	if err != nil {
		return nil, err
	}
	if file != nil {
		file.Preset = ""
		base = overlay(base, file)
	}
	flags, err := f.overrides()
	if err != nil {
		return nil, err
	}
	return withKernelDefaults(overlay(base, flags))
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}

// overlay returns base with every field that top sets replaced; Config is
// merged symbol by symbol and Order level by level.
func overlay(base, top *scenario) *scenario {
	out := *base
	out.Config = map[string]string{}
	for k, v := range base.Config {
		out.Config[k] = v
	}
	for k, v := range top.Config {
		out.Config[k] = v
	}
	out.Order = map[string][]string{}
	for k, v := range base.Order {
		out.Order[k] = v
	}
	for k, v := range top.Order {
		out.Order[k] = v
	}
	if top.Preset != "" {
		out.Preset = top.Preset
	}
	if top.Description != "" {
		out.Description = top.Description
	}
	if top.Kernel != "" {
		out.Kernel = top.Kernel
	}
	if top.CRBFFABugOn != nil {
		out.CRBFFABugOn = top.CRBFFABugOn
	}
	if top.FFABusInit != nil {
		out.FFABusInit = top.FFABusInit
	}
	if top.FFAInitcall != "" {
		out.FFAInitcall = top.FFAInitcall
	}
	if top.CRBFFARegister != nil {
		out.CRBFFARegister = top.CRBFFARegister
	}
	if top.IMALateSync != nil {
		out.IMALateSync = top.IMALateSync
	}
	if top.IMALateRetry != nil {
		out.IMALateRetry = top.IMALateRetry
	}
	if top.RoT != "" {
		out.RoT = top.RoT
	}
	if top.Measure != "" {
		out.Measure = top.Measure
	}
	if top.Modprobe != nil {
		out.Modprobe = top.Modprobe
	}
	if top.Expect != "" {
		out.Expect = top.Expect
	}
	return &out
}

// normalizeLevel accepts a level as init.h names its macro too:
// "device_initcall" is "device", "late_initcall_sync" is "late_sync".
func normalizeLevel(s string) string {
	s = strings.TrimSpace(s)
	if base, ok := strings.CutSuffix(s, "_initcall_sync"); ok {
		return base + "_sync"
	}
	return strings.TrimSuffix(s, "_initcall")
}

// overrides returns the scenario fields the flags set, and nothing else.
func (f *scenarioFlags) overrides() (*scenario, error) {
	if f.ffaInitcall != "" {
		if err := checkOneOf("--ffa-initcall", f.ffaInitcall, ffaInitcallLevels); err != nil {
			return nil, usagef("%v", err)
		}
	}
	if f.rot != "" {
		if err := checkOneOf("--rot", f.rot, rootsOfTrust()); err != nil {
			return nil, usagef("%v", err)
		}
	}
	flags := &scenario{
		Config:         f.configs.m,
		Order:          f.orders.m,
		FFAInitcall:    f.ffaInitcall,
		CRBFFARegister: f.crbFFARegister.ptr(),
		CRBFFABugOn:    f.crbFFABugOn.ptr(),
		FFABusInit:     f.ffaBusInit.ptr(),
		IMALateSync:    f.imaLateSync.ptr(),
		IMALateRetry:   f.imaLateRetry.ptr(),
		RoT:            f.rot,
		Measure:        f.measure,
	}
	// --crb-ffa-register=false turns off both forms of the change.
	if f.crbFFARegister.set && !f.crbFFARegister.v && !f.crbFFABugOn.set {
		flags.CRBFFABugOn = ptrTo(false)
	}
	return flags, nil
}
