package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
)

// defaultScenarioYAML is the scenario of a plain "ffatpm boot": the
// configuration in which the whole chain works.
//
//go:embed default.yaml
var defaultScenarioYAML []byte

// preset is a built-in scenario with the place it comes from.
type preset struct {
	name    string
	summary string // one line for "ffatpm presets"
	source  string // the kernel, commit or mail thread it models
	s       scenario
}

func ptrTo[T any](v T) *T { return &v }

// seed002Order is the link order seed 002 quotes from a real build: in the
// device level crb_acpi_driver_init and tpm_crb_ffa_driver_init link before
// ffa_init (drivers/char before drivers/firmware), and in the late level
// security/ links before drivers/, so init_ima runs before
// deferred_probe_initcall.
func seed002Order() map[string][]string {
	return map[string][]string{
		"device": {"crb_acpi_driver_init", "tpm_crb_ffa_driver_init", "ffa_init"},
		"late":   {"init_ima", "deferred_probe_initcall"},
	}
}

func allBuiltIn() map[string]string {
	return map[string]string{"ARM_FFA_TRANSPORT": "y", "TCG_TPM": "y", "TCG_CRB": "y", "TCG_ARM_CRB_FFA": "y", "IMA": "y"}
}

// presets returns the built-in scenarios, oldest kernel first.
func presets() []preset {
	return []preset{
		{
			name:    "pre-v6.17",
			summary: "kernels before v6.17: ffa_init at device level, nothing registers the FF-A TPM driver early",
			source:  "Linux before 0e0546eabcd6 and 746d9e9f62a6 (drivers/firmware/arm_ffa/driver.c, drivers/char/tpm/tpm_crb_ffa.c)",
			s: scenario{Config: allBuiltIn(), Order: seed002Order(), FFAInitcall: "device",
				CRBFFARegister: ptrTo(false), IMALateSync: ptrTo(false), IMALateRetry: ptrTo(false), RoT: "tpm"},
		},
		{
			name:    "seed-002-without-patches",
			summary: "seed 002's failing build: device order crb_acpi, tpm_crb_ffa, ffa_init; init_ima before deferred probing",
			source:  "seed 002, [PATCH v2 0/2] fix failure of integration IMA with tpm_crb_ffa (Yeoreum Yun, 2025), the kernel it patches",
			s: scenario{Config: allBuiltIn(), Order: seed002Order(), FFAInitcall: "device",
				CRBFFARegister: ptrTo(false), IMALateSync: ptrTo(false), IMALateRetry: ptrTo(false), RoT: "tpm"},
		},
		{
			name:    "seed-002-v2",
			summary: "seed 002's v2 series applied: ffa_init at rootfs and tpm_crb_ffa_init() calls ffa_register()",
			source:  "seed 002, [PATCH v2 1/2] and [PATCH v2 2/2]",
			s: scenario{Config: allBuiltIn(), Order: seed002Order(), FFAInitcall: "rootfs",
				CRBFFARegister: ptrTo(true), IMALateSync: ptrTo(false), IMALateRetry: ptrTo(false), RoT: "tpm"},
		},
		{
			name:    "v6.17",
			summary: "v6.17 with both fixes: ffa_init at rootfs (0e0546eabcd6), built-in tpm_crb_ffa registers itself (746d9e9f62a6)",
			source:  "Linux v6.17: commits 0e0546eabcd6 and 746d9e9f62a6",
			s: scenario{Config: allBuiltIn(), Order: seed002Order(), FFAInitcall: "rootfs",
				CRBFFARegister: ptrTo(true), IMALateSync: ptrTo(false), IMALateRetry: ptrTo(false), RoT: "tpm"},
		},
		{
			name:    "mainline",
			summary: "current mainline as the Linux tree shows it: ffa_init at rootfs, 746d9e9f62a6 reverted by 677042afb97a",
			source:  "Linux mainline after commit 677042afb97a (revert of 746d9e9f62a6)",
			s: scenario{Config: allBuiltIn(), Order: seed002Order(), FFAInitcall: "rootfs",
				CRBFFARegister: ptrTo(false), IMALateSync: ptrTo(false), IMALateRetry: ptrTo(false), RoT: "tpm"},
		},
		{
			name:    "mainline-ima-late-sync",
			summary: "mainline with CONFIG_IMA_INIT_LATE_SYNC=y: init_ima runs at late_initcall_sync",
			source:  "the merged form of seed 003's Kconfig opt-in (CONFIG_IMA_INIT_LATE_SYNC, 2026)",
			s: scenario{Config: allBuiltIn(), Order: seed002Order(), FFAInitcall: "rootfs",
				CRBFFARegister: ptrTo(false), IMALateSync: ptrTo(true), IMALateRetry: ptrTo(false), RoT: "tpm"},
		},
		{
			name:    "seed-001-late-retry",
			summary: "seed 001's RFC on the failing build: init_ima defers and retries at late_initcall_sync",
			source:  "seed 001, [RFC PATCH v3 2/4] security: ima: call ima_init() again at late_initcall_sync (J. McDowell, 2026)",
			s: scenario{Config: allBuiltIn(), Order: seed002Order(), FFAInitcall: "device",
				CRBFFARegister: ptrTo(false), IMALateSync: ptrTo(false), IMALateRetry: ptrTo(true), RoT: "tpm"},
		},
		{
			name:    "tcg-crb-module",
			summary: "v6.17 with TCG_CRB=m: the TPM driver is a module and loads after init_ima",
			source:  "seed 002's cover letter: tpm_crb and tpm_crb_ffa must be built in for IMA",
			s: scenario{Config: withConfig(allBuiltIn(), "TCG_CRB", "m"), Order: seed002Order(), FFAInitcall: "rootfs",
				CRBFFARegister: ptrTo(true), IMALateSync: ptrTo(false), IMALateRetry: ptrTo(false), RoT: "tpm"},
		},
	}
}

func withConfig(m map[string]string, sym, val string) map[string]string {
	m[sym] = val
	return m
}

func lookupPreset(name string) (preset, bool) {
	for _, p := range presets() {
		if p.name == name {
			return p, true
		}
	}
	return preset{}, false
}

func presetNames() []string {
	var out []string
	for _, p := range presets() {
		out = append(out, p.name)
	}
	return out
}

// baseScenario returns the named preset, or the default scenario when name
// is empty.
func baseScenario(name string) (*scenario, error) {
	if name == "" {
		def, err := parseScenario(defaultScenarioYAML)
		if err != nil {
			return nil, fmt.Errorf("embedded default scenario: %v", err)
		}
		if def.Preset == "" {
			return def, nil
		}
		p, ok := lookupPreset(def.Preset)
		if !ok {
			return nil, fmt.Errorf("embedded default scenario names unknown preset %q", def.Preset)
		}
		s := p.s
		s.Preset = p.name
		return overlay(&s, &scenario{Description: def.Description}), nil
	}
	p, ok := lookupPreset(name)
	if !ok {
		return nil, usagef("unknown preset %q (presets: %s)", name, strings.Join(presetNames(), ", "))
	}
	s := p.s
	s.Preset = p.name
	s.Description = p.summary
	return overlay(&s, &scenario{}), nil
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
		s, err := baseScenario(*show)
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
			s, _ := baseScenario(p.name)
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
