package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/eventlog"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imakernel"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/google/go-tpm/tpm2/transport"
)

// bootOptions tune a boot beyond its scenario.
type bootOptions struct {
	// trace records FF-A calls and CRB register accesses as well as the
	// driver-core events.
	trace bool
	// quiet skips the log (explore's fast path); the verdict and facts
	// are still computed.
	quiet bool
	// sim, when set, is a simulator this process keeps open: it is
	// power-cycled before the boot instead of opened and closed.
	sim *engine.Simulator
	// engine, when set, is the TPM behind the partition (serve's backend);
	// it is used as it is, neither reset nor closed.
	engine transport.TPM
}

// rxtxBase is where the kernel puts its FF-A RX/TX buffers in the
// platform's normal-world RAM.
const rxtxBase = platform.DefaultNSRAMBase + 0x10_0000

// kernelSpec turns a scenario into the kernel model's inputs. Unknown
// Kconfig symbols, values and initcall names are usage errors.
func kernelSpec(sc *scenario) (kernel.Spec, error) {
	kname := sc.Kernel
	if kname == "" {
		kname = kernel.DefaultPreset
	}
	kp, ok := kernel.LookupPreset(kname)
	if !ok {
		return kernel.Spec{}, usagef("unknown kernel %q (kernels: %s)", kname, strings.Join(kernelPresetNames(), ", "))
	}
	spec := kp.Spec(kernel.Platform{})
	spec.Name = sc.Preset
	if err := applyScenario(&spec, sc); err != nil {
		return kernel.Spec{}, err
	}
	return spec, nil
}

// applyScenario changes spec by what sc sets: Kconfig values, link orders
// (level by level), patch switches, IMA_INIT_LATE_SYNC and the modprobe
// order. Fields sc leaves open keep spec's values.
func applyScenario(spec *kernel.Spec, sc *scenario) error {
	cfg := kernel.DefaultConfig()
	if spec.Config != nil {
		cfg = spec.Config.Clone()
	}
	for _, sym := range sortedKeys(sc.Config) {
		name := strings.TrimPrefix(sym, "CONFIG_")
		if _, ok := kernel.LookupSymbol(name); !ok {
			return usagef("unknown Kconfig symbol %s (the model knows: %s)", sym, strings.Join(knownSymbols(), ", "))
		}
		if err := cfg.SetValue(name, sc.Config[sym]); err != nil {
			return usagef("Kconfig %s=%s: %v", sym, sc.Config[sym], err)
		}
	}
	if sc.IMALateSync != nil {
		v := kernel.N
		if *sc.IMALateSync {
			v = kernel.Y
		}
		cfg.Set("IMA_INIT_LATE_SYNC", v)
	}
	known := map[string]bool{}
	for _, ic := range kernel.KnownInitcalls() {
		known[ic.Name] = true
	}
	known["tpm_crb_ffa_driver_init"] = true // no initcall when built in with crb_ffa_register
	for _, n := range imaInitcallNames() {
		known[n] = true
	}
	order := spec.Order.Clone()
	if order == nil {
		order = kernel.Order{}
	}
	for _, lname := range sortedKeys(sc.Order) {
		l, err := kernel.ParseLevel(lname)
		if err != nil {
			return usagef("%v", err)
		}
		for _, n := range sc.Order[lname] {
			if !known[n] {
				return usagef("order %s: unknown initcall %q (the model knows: %s)", lname, n, strings.Join(sortedKeys(known), ", "))
			}
		}
		order.Set(l, sc.Order[lname]...)
	}
	if sc.FFAInitcall != "" {
		spec.Patches.FFAInitRootfs = sc.FFAInitcall == "rootfs"
	}
	if sc.CRBFFARegister != nil {
		spec.Patches.CRBFFARegister = *sc.CRBFFARegister
	}
	if sc.CRBFFABugOn != nil {
		spec.Patches.CRBFFABugOn = *sc.CRBFFABugOn
	}
	if sc.FFABusInit != nil {
		spec.Patches.FFABusInFFAInit = *sc.FFABusInit
	}
	spec.Config = cfg
	spec.Order = order
	if sc.Modprobe != nil {
		spec.Modprobe = sc.Modprobe
	}
	return nil
}

func knownSymbols() []string {
	var out []string
	for _, s := range kernel.Symbols() {
		out = append(out, s.Name)
	}
	return out
}

// bootScenario runs one boot of sc through the whole chain and describes
// it: firmware measures itself into the TPM, the kernel boots with IMA
// composed in, and the files a real machine exposes are rendered.
func bootScenario(ctx context.Context, sc *scenario, opt bootOptions) (*bootReport, error) {
	spec, err := kernelSpec(sc)
	if err != nil {
		return nil, err
	}
	im, err := imaInputsOf(sc)
	if err != nil {
		return nil, err
	}
	b, err := bootSpec(ctx, spec, im, opt)
	if err != nil {
		return nil, err
	}
	rep := b.report
	rep.Preset, rep.Scenario, rep.RoT = sc.Preset, sc, sc.RoT
	if rep.Preset == "" {
		rep.Preset = "custom"
	}
	return rep, nil
}

// imaInputs is what IMA needs for a boot beyond the kernel's config.
type imaInputs struct {
	lateRetry bool
	rot       string
	files     []ima.File
	// firmware is what the firmware measures, digests computed once per
	// scenario (nil: eventlog.DefaultComponents, hashed at each boot).
	firmware []eventlog.Component
}

// defaultFirmware is the default firmware's components with their digests
// for every bank a TPM may have, so that boots of one scenario do not hash
// the same images again.
func defaultFirmware() []eventlog.Component {
	return eventlog.Precompute(eventlog.DefaultComponents(eventlog.Images{}), hashalg.Known())
}

func imaInputsOf(sc *scenario) (imaInputs, error) {
	im := imaInputs{lateRetry: sc.IMALateRetry != nil && *sc.IMALateRetry, rot: sc.RoT, files: ima.EmbeddedFiles(), firmware: defaultFirmware()}
	if im.rot == "" {
		im.rot = "tpm"
	}
	if sc.Measure != "" {
		files, err := ima.LoadDir(sc.Measure)
		if err != nil {
			return im, usagef("--measure: %v", err)
		}
		im.files = files
	}
	return im, nil
}

// booted is one boot's report with the model's own results.
type booted struct {
	report *bootReport
	result *kernel.Result
	ima    *imakernel.IMA
}

// bootSpec boots spec (its Config, Order, Patches, Version) on a fresh
// machine: the FF-A secure world with the TPM partition, firmware that
// measures itself into the TPM, the kernel with IMA composed in.
func bootSpec(ctx context.Context, spec kernel.Spec, im imaInputs, opt bootOptions) (*booted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	files := im.files
	eng := opt.engine
	switch {
	case eng != nil:
	case opt.sim != nil:
		if err := opt.sim.Reset(); err != nil {
			return nil, fmt.Errorf("power-cycling the TPM simulator: %w", err)
		}
		eng = opt.sim
	default:
		sim, err := engine.OpenSimulator(engine.SimulatorOptions{})
		if err != nil {
			return nil, err
		}
		defer sim.Close()
		eng = sim
	}
	plat, err := platform.New(platform.Config{Engine: eng})
	if err != nil {
		return nil, err
	}
	defer plat.Close()

	// Firmware: measured boot into PCR 0..9 and the TCG event log. It runs
	// before the kernel, in the secure world's view of the TPM.
	firmware := im.firmware
	if firmware == nil {
		firmware = eventlog.DefaultComponents(eventlog.Images{})
	}
	elog, err := imakernel.MeasureComponents(plat.Engine, firmware)
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	tpm2, err := plat.TPM2Table()
	if err != nil {
		return nil, fmt.Errorf("firmware: %w", err)
	}
	spec.Platform = kernel.Platform{
		Name:        "arm64-ffa-crb",
		ACPITables:  map[string][]byte{"TPM2": tpm2},
		ACPIDevices: []kernel.ACPIDevice{{HID: "MSFT0101", Resources: []kernel.MemResource{{Base: plat.CRBBase, Size: crb.WindowSize}}}},
		Conduit:     plat.Conduit(),
		Mem:         plat.NS(),
		RxTxBase:    rxtxBase,
	}
	spec.Measurements = bootMeasurements()
	spec.UserspaceExecs = userspaceExecs(files)
	spec.Trace = opt.trace
	spec.Quiet = opt.quiet
	x := imakernel.New(imakernel.Options{RFCLateRetry: im.lateRetry, RoT: im.rot, Files: files})
	x.Install(&spec) // after spec.Config is final: it reads IMA_INIT_LATE_SYNC

	res, err := kernel.Boot(spec)
	if err != nil {
		return nil, fmt.Errorf("kernel model: %w", err)
	}
	if x.State() != nil {
		measureUserFiles(x, files)
	}
	if err := x.Err(); err != nil {
		return nil, fmt.Errorf("ima: %w", err)
	}
	rep := &bootReport{Preset: spec.Name, RoT: im.rot, Notes: res.Notes}
	fillKernelFacts(rep, res, opt.quiet)
	fillIMAFacts(rep, x, spec.Config)
	b := &booted{report: rep, result: res, ima: x}
	if opt.quiet {
		return b, nil
	}
	art, err := renderArtifacts(x.State(), plat, elog, tpm2)
	if err != nil {
		return nil, err
	}
	rep.artifacts = art
	rep.trace = traceEvents(res.Events)
	return b, nil
}

func fillKernelFacts(rep *bootReport, res *kernel.Result, quiet bool) {
	if !quiet {
		for _, l := range res.Log {
			rep.Log = append(rep.Log, l.String())
		}
	}
	if rep.Log == nil {
		rep.Log = []string{}
	}
	for _, ic := range res.Initcalls {
		rep.Initcalls = append(rep.Initcalls, initcallInfo{Level: ic.Level.String(), Name: ic.Name, Ret: errnoValue(ic.Ret)})
	}
	rep.FFACalls = map[string]int{}
	for k, v := range res.FFACalls {
		rep.FFACalls[k] = v
	}
	if res.Chip != nil {
		rep.TPMRegistered = &registration{Level: res.Chip.At.Level.String(), Initcall: res.Chip.At.Initcall, Time: timeString(res.Chip.At.T)}
	}
	rep.Deferred = []deferral{}
	for _, d := range res.Deferred {
		df := deferral{Device: d.Device, Driver: d.Driver, Attempts: d.Attempts, Result: errnoValue(d.Result),
			DeferredAt: &registration{Level: d.First.Level.String(), Initcall: d.First.Initcall, Time: timeString(d.First.T)}}
		if d.Resolved != nil {
			df.ProbedAt = &registration{Level: d.Resolved.Level.String(), Initcall: d.Resolved.Initcall, Time: timeString(d.Resolved.T)}
		}
		rep.Deferred = append(rep.Deferred, df)
	}
	if res.Panic != "" {
		rep.Notes = append(rep.Notes, "kernel panic: "+res.Panic)
	}
}

func fillIMAFacts(rep *bootReport, x *imakernel.IMA, cfg *kernel.Config) {
	rep.LostMeasurements = []lostInfo{}
	for _, p := range x.Points() {
		if p.Status == imakernel.Lost || p.Status == imakernel.Unprotected {
			rep.LostMeasurements = append(rep.LostMeasurements, lostInfo{Status: p.Status.String(), Event: p.Func + " " + p.Path, At: pointString(p.At), Reason: p.Reason})
		}
	}
	m := x.State()
	at, done := x.Initialized()
	switch {
	case m == nil:
		rep.Verdict = "bypass"
		if !cfg.Builtin("IMA") {
			rep.Notes = append(rep.Notes, "IMA is not built in: nothing is measured")
		} else {
			rep.Notes = append(rep.Notes, "init_ima did not complete")
		}
		return
	case m.Bypass():
		rep.Verdict = "bypass"
	case done && at.Level == kernel.LevelLateSync:
		rep.Verdict = "late"
	default:
		rep.Verdict = "tpm"
	}
	rep.Measurements = m.List().Len()
	agg := &aggregateInfo{Name: x.AggregateName()}
	agg.SHA1, agg.SHA256 = aggregateDigests(m)
	if ents := m.List().Entries(); len(ents) > 0 && len(ents[0].Fields) > 0 {
		agg.Entry = entryDigest(ents[0].Fields[0].Data)
	}
	rep.BootAggregate = agg
	if name := m.RootOfTrust(); name != nil && name.Name() != "tpm" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("root of trust %s (seed 004): IMA extends its register %d, not a TPM PCR; the TPM chip %s",
			name.Name(), m.PCR(), map[bool]string{true: "was there at init_ima", false: "was not there at init_ima"}[x.SawChip()]))
	}
}

// aggregateDigests returns boot_aggregate per bank as Linux computes it
// (SHA-1 over PCR 0..7, SHA-256 over PCR 0..9), or zeros in TPM-bypass,
// as the list records it.
func aggregateDigests(m *ima.IMA) (sha1, sha256 string) {
	zero1, zero256 := strings.Repeat("0", 40), strings.Repeat("0", 64)
	if m.Bypass() {
		return zero1, zero256
	}
	rot := m.RootOfTrust()
	tpm, _ := rot.(*ima.TPM)
	bank := func(alg hashalg.Alg, zero string) string {
		if !hasBank(rot, alg) {
			return zero
		}
		if tpm != nil {
			if d, ok := batchedAggregate(tpm, alg); ok {
				return hex.EncodeToString(d)
			}
		}
		if d, err := ima.BootAggregate(rot, alg); err == nil {
			return hex.EncodeToString(d)
		}
		return zero
	}
	return bank(hashalg.SHA1, zero1), bank(hashalg.SHA256, zero256)
}

func hasBank(rot ima.RootOfTrust, a hashalg.Alg) bool {
	for _, b := range rot.Banks() {
		if b == a {
			return true
		}
	}
	return false
}

func errnoValue(e kernel.Errno) any {
	if e == 0 {
		return 0
	}
	return e.String()
}

func timeString(ns int64) string {
	us := ns / 1000
	return fmt.Sprintf("%d.%06d", us/1000000, us%1000000)
}

// renderArtifacts renders the files of --out: the measurement lists, the
// firmware event log, the ACPI table and the PCR values, read back from
// the TPM after boot.
func renderArtifacts(m *ima.IMA, plat *platform.Platform, elog *eventlog.Log, tpm2 []byte) (*artifacts, error) {
	a := &artifacts{eventLog: elog.Marshal(), acpiTPM2: tpm2, pcrs: map[string][][]byte{}}
	if m != nil {
		files, err := m.List().ExportFiles(true)
		if err != nil {
			return nil, err
		}
		a.binarySHA1 = files[ima.BinaryFileName(hashalg.SHA1, false)]
		a.asciiSHA1 = files[ima.ASCIIFileName(hashalg.SHA1, false)]
		a.binarySHA256 = files[ima.BinaryFileName(hashalg.SHA256, true)]
		a.asciiSHA256 = files[ima.ASCIIFileName(hashalg.SHA256, true)]
	}
	rot, err := ima.NewTPM(plat.Engine)
	if err != nil {
		return nil, err
	}
	all, err := ima.ReadAll(rot, ima.TPMPCRs)
	if err != nil {
		return nil, err
	}
	for alg, vals := range all {
		a.pcrs[alg.String()] = vals
	}
	return a, nil
}

// traceEvents converts the kernel's event stream to trace lines.
func traceEvents(evs []kernel.Event) []traceEvent {
	out := make([]traceEvent, 0, len(evs))
	for i, ev := range evs {
		te := traceEvent{Seq: i, TimeNS: int64(ev.T), Kind: ev.Kind.String(), Group: traceGroup(ev.Kind),
			Level: ev.Level.String(), Initcall: ev.Initcall, Bus: ev.Bus, Device: ev.Device, Driver: ev.Driver, Detail: ev.Detail}
		if ev.Err != 0 {
			te.Result = ev.Err.String()
		} else if ev.Kind == kernel.EvInitcallReturn || ev.Kind == kernel.EvProbeReturn {
			te.Result = "0"
		}
		out = append(out, te)
	}
	return out
}

// traceGroup puts an event kind in one of the groups --only selects.
func traceGroup(k kernel.EventKind) string {
	switch k {
	case kernel.EvFFACall:
		return "ffa"
	case kernel.EvMMIO:
		return "crb"
	case kernel.EvInitcallStart, kernel.EvInitcallReturn:
		return "initcall"
	case kernel.EvDefer, kernel.EvTrigger, kernel.EvDeferredRetry, kernel.EvDeferredEnable:
		return "defer"
	case kernel.EvChipRegister, kernel.EvTPMCommand:
		return "tpm"
	case kernel.EvMeasure:
		return "ima"
	case kernel.EvModuleLoad, kernel.EvUserspace, kernel.EvPanic:
		return "boot"
	}
	return "driver"
}

func pointString(p kernel.Point) string {
	if p.Initcall == "" {
		return p.Level.String()
	}
	return fmt.Sprintf("%s %s", p.Level, p.Initcall)
}

// entryDigest renders a d-ng field ("<algo>:" NUL digest) or a bare SHA-1
// digest (template "ima") as "<algo>:<hex>".
func entryDigest(d []byte) string {
	if i := bytes.IndexByte(d, 0); i > 0 && d[i-1] == ':' {
		return string(d[:i]) + hex.EncodeToString(d[i+1:])
	}
	return "sha1:" + hex.EncodeToString(d)
}
