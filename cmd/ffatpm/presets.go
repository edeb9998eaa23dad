package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/ffatpm/ffatpm/kernel"
)

// defaultScenarioYAML is the scenario of a plain "ffatpm boot": the
// configuration in which the whole chain works.
//
//go:embed default.yaml
var defaultScenarioYAML []byte

// preset is a built-in scenario: a kernel preset of the kernel model (a
// real kernel's configuration, link order and patches), optionally with IMA
// switches or Kconfig changes on top, and where it comes from.
type preset struct {
	name    string
	summary string // one line for "ffatpm presets"
	source  string // the kernel, commit or mail thread it models
	s       scenario
}

func ptrTo[T any](v T) *T { return &v }

// presets returns the built-in scenarios: the kernel model's presets first
// (oldest kernel first), then the CLI's variations of them.
func presets() []preset {
	var out []preset
	for _, name := range []string{"before-v6.17", "seed002-v2", "v6.17", "mainline"} {
		kp, ok := kernel.LookupPreset(name)
		if !ok {
			continue
		}
		out = append(out, preset{name: kp.Name, summary: kp.Description, source: kp.Source + " (Linux " + kp.Kernel + ")",
			s: scenario{Kernel: kp.Name}})
	}
	for _, kp := range kernel.Presets() {
		if _, listed := lookupIn(out, kp.Name); !listed {
			out = append(out, preset{name: kp.Name, summary: kp.Description, source: kp.Source, s: scenario{Kernel: kp.Name}})
		}
	}
	return append(out,
		preset{
			name:    "seed-002-without-patches",
			summary: "seed 002's failing build: device order crb_acpi, tpm_crb_ffa, ffa_init; init_ima before deferred probing; no patch",
			source:  "seed 002, [PATCH v2 0/2] fix failure of integration IMA with tpm_crb_ffa (Yeoreum Yun, 2025): the kernel it patches",
			s:       scenario{Kernel: "before-v6.17"},
		},
		preset{
			name:    "seed-001-late-retry",
			summary: "seed 001's RFC on the failing build: init_ima defers and retries at late_initcall_sync",
			source:  "seed 001, [RFC PATCH v3 2/4] security: ima: call ima_init() again at late_initcall_sync (J. McDowell, 2026)",
			s:       scenario{Kernel: "before-v6.17", IMALateRetry: ptrTo(true)},
		},
		preset{
			name:    "mainline-ima-late-sync",
			summary: "mainline with CONFIG_IMA_INIT_LATE_SYNC=y: init_ima runs at late_initcall_sync",
			source:  "the merged form of seed 003's Kconfig opt-in (CONFIG_IMA_INIT_LATE_SYNC, 2026) on mainline",
			s:       scenario{Kernel: "mainline", IMALateSync: ptrTo(true)},
		},
		preset{
			name:    "tcg-crb-module",
			summary: "v6.17 with TCG_CRB=m: the TPM driver is a module and loads after init_ima",
			source:  "seed 002's cover letter: tpm_crb and tpm_crb_ffa must be built in for IMA to find the TPM",
			s:       scenario{Kernel: "v6.17", Config: map[string]string{"TCG_CRB": "m"}},
		},
		preset{
			name:    "seed-004-rtmr",
			summary: "seed 002's failing build, IMA extending an RTMR-like register bank instead of the TPM",
			source:  "seed 004, ima: rot: pluggable root of trust (TPM, TDX, VirtCCA), each with its default register",
			// An RTMR bank is SHA-384 (TDX RTMRs are 48-byte registers), so
			// IMA hashes with SHA-384 too; with another ima_hash the boot
			// aggregate finds no matching bank and is recorded as zeros.
			s: scenario{Kernel: "before-v6.17", RoT: "rtmr", Config: map[string]string{"IMA_DEFAULT_HASH": "sha384"}},
		},
	)
}

func lookupIn(ps []preset, name string) (preset, bool) {
	for _, p := range ps {
		if p.name == name {
			return p, true
		}
	}
	return preset{}, false
}

func lookupPreset(name string) (preset, bool) { return lookupIn(presets(), name) }

func presetNames() []string {
	var out []string
	for _, p := range presets() {
		out = append(out, p.name)
	}
	return out
}

// baseScenario returns the named preset, or the default scenario when name
// is empty, with the kernel preset's patch switches and link order spelled
// out so that --show-scenario shows what will boot.
func baseScenario(name string) (*scenario, error) {
	var s *scenario
	if name == "" {
		def, err := parseScenario(defaultScenarioYAML)
		if err != nil {
			return nil, fmt.Errorf("embedded default scenario: %v", err)
		}
		if def.Preset == "" {
			return nil, errors.New("embedded default scenario names no preset")
		}
		p, ok := lookupPreset(def.Preset)
		if !ok {
			return nil, fmt.Errorf("embedded default scenario names unknown preset %q", def.Preset)
		}
		base := p.s
		s = overlay(&base, &scenario{Preset: p.name, Description: def.Description})
	} else {
		p, ok := lookupPreset(name)
		if !ok {
			return nil, usagef("unknown preset %q (presets: %s)", name, strings.Join(presetNames(), ", "))
		}
		base := p.s
		s = overlay(&base, &scenario{Preset: p.name, Description: p.summary})
	}
	return s, nil
}

// resolvedPreset is a preset with every field filled in.
func resolvedPreset(name string) (*scenario, error) {
	s, err := baseScenario(name)
	if err != nil {
		return nil, err
	}
	return withKernelDefaults(s)
}

// withKernelDefaults fills the fields s leaves open from its kernel preset.
func withKernelDefaults(s *scenario) (*scenario, error) {
	if s.Kernel == "" {
		s.Kernel = kernel.DefaultPreset
	}
	kp, ok := kernel.LookupPreset(s.Kernel)
	if !ok {
		return nil, usagef("unknown kernel %q (kernels: %s)", s.Kernel, strings.Join(kernelPresetNames(), ", "))
	}
	out := *s
	if out.FFAInitcall == "" {
		out.FFAInitcall = "device"
		if kp.Patches.FFAInitRootfs {
			out.FFAInitcall = "rootfs"
		}
	}
	if out.CRBFFARegister == nil {
		out.CRBFFARegister = ptrTo(kp.Patches.CRBFFARegister || kp.Patches.CRBFFABugOn)
	}
	if out.CRBFFABugOn == nil {
		out.CRBFFABugOn = ptrTo(kp.Patches.CRBFFABugOn)
	}
	if out.FFABusInit == nil {
		out.FFABusInit = ptrTo(kp.Patches.FFABusInFFAInit)
	}
	if out.IMALateSync == nil {
		out.IMALateSync = ptrTo(kp.Config.Builtin("IMA_INIT_LATE_SYNC"))
	}
	if out.IMALateRetry == nil {
		out.IMALateRetry = ptrTo(false)
	}
	if out.RoT == "" {
		out.RoT = "tpm"
	}
	order := map[string][]string{}
	for l, names := range kp.Order {
		order[l.String()] = names
	}
	for l, names := range out.Order {
		order[l] = names
	}
	out.Order = order
	return &out, nil
}

func kernelPresetNames() []string {
	var out []string
	for _, p := range kernel.Presets() {
		out = append(out, p.Name)
	}
	return out
}

const presetsHelp = `
Usage: ffatpm presets [--json] [--show NAME]

Lists the built-in scenarios, one line each, with the kernel or mail thread
each one models. Use a name with "ffatpm boot --preset NAME". The default
scenario (a plain "ffatpm boot") is marked with *.

Examples:

  ffatpm presets
  ffatpm presets --show seed-002-without-patches > my.yaml   # a scenario file to edit
  ffatpm boot --scenario my.yaml
`

func runPresets(_ context.Context, e *env, args []string) int {
	fs := newFlagSet("presets")
	asJSON := fs.Bool("json", false, "print a JSON list of {name, summary, source, scenario}")
	show := fs.String("show", "", "print preset `NAME` as a scenario file (YAML)")
	if done, code := parseFlags(e, fs, presetsHelp, args); done {
		return code
	}
	if done, code := noArgs(e, fs); done {
		return code
	}
	def, err := baseScenario("")
	if err != nil {
		return report(e, "presets", err)
	}
	if *show != "" {
		s, err := resolvedPreset(*show)
		if err != nil {
			return report(e, "presets", err)
		}
		p, _ := lookupPreset(*show)
		fmt.Fprintf(e.stdout, "# %s: %s\n# from: %s\n", p.name, p.summary, p.source)
		e.stdout.Write(marshalScenario(s))
		return exitOK
	}
	if *asJSON {
		type item struct {
			Name     string    `json:"name"`
			Summary  string    `json:"summary"`
			Source   string    `json:"source"`
			Default  bool      `json:"default"`
			Scenario *scenario `json:"scenario"`
		}
		var items []item
		for _, p := range presets() {
			s, err := resolvedPreset(p.name)
			if err != nil {
				return report(e, "presets", err)
			}
			items = append(items, item{p.name, p.summary, p.source, p.name == def.Preset, s})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(items); err != nil {
			return report(e, "presets", err)
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, p := range presets() {
		mark := " "
		if p.name == def.Preset {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s %s\t%s\n", mark, p.name, p.summary)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "\n* default. Sources: \"ffatpm presets --json\"; a preset as a file: \"ffatpm presets --show NAME\".\n")
	return exitOK
}
