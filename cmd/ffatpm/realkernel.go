package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kbuild"
	"github.com/ffatpm/ffatpm/kernel/kbuild/verdict"
)

// kernelFlags name a real kernel's build outputs (issue 11): a
// /usr/lib/modules/<version> directory and single files that override
// what is found there.
type kernelFlags struct {
	opts kbuild.Options
}

func (k *kernelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.opts.Dir, "kernel-dir", "", "boot a real kernel's configuration and link order, read from `DIR`\n(/usr/lib/modules/<version> or a build tree; see docs/real-kernels.md)")
	fs.StringVar(&k.opts.KernelConfig, "kernel-config", "", "the kernel's .config (`FILE`, also gzip'd as /proc/config.gz)")
	fs.StringVar(&k.opts.ModulesBuiltin, "modules-builtin", "", "modules.builtin `FILE` (built-in objects in link order)")
	fs.StringVar(&k.opts.ModulesOrder, "modules-order", "", "modules.order `FILE`")
	fs.StringVar(&k.opts.SystemMap, "system-map", "", "System.map `FILE` (the initcall tables' order)")
	fs.StringVar(&k.opts.Vmlinux, "vmlinux", "", "uncompressed vmlinux `FILE` (ELF; the initcall tables themselves)")
}

func (k *kernelFlags) given() bool { return k.opts != (kbuild.Options{}) }

// load reads the named files; a file that cannot be read or parsed is a
// usage error naming it.
func (k *kernelFlags) load() (*kbuild.Inputs, error) {
	in, err := kbuild.Load(k.opts)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return in, nil
}

// realKernelSpec is the kernel Spec of a loaded kernel with the explicit
// scenario flags (--config, --order, patch switches) applied on top.
func realKernelSpec(in *kbuild.Inputs, flags *scenario) (kernel.Spec, error) {
	spec, err := verdict.Spec(in)
	if err != nil {
		return kernel.Spec{}, usagef("%v", err)
	}
	if err := applyScenario(&spec, flags); err != nil {
		return kernel.Spec{}, err
	}
	return spec, nil
}

// realKernelReport is the "kernel" key of boot --json for a real kernel.
type realKernelReport struct {
	Version string               `json:"version"`
	Files   []kbuild.FileUse     `json:"files"`
	Why     *verdict.Explanation `json:"why"`
	Inputs  kbuild.Summary       `json:"inputs"` // Kconfig values, link order and facts read, with provenance
	Notes   []string             `json:"warnings,omitempty"`
	in      *kbuild.Inputs
}

// bootRealKernel boots a loaded kernel and explains its verdict: the
// Kconfig values and link-order facts that decided it and the smallest
// change that makes IMA find the TPM, each checked by booting the model
// (on this process's simulator, power-cycled between boots).
func bootRealKernel(ctx context.Context, in *kbuild.Inputs, flags *scenario, opt bootOptions) (*bootReport, error) {
	im, err := imaInputsOf(flags)
	if err != nil {
		return nil, err
	}
	spec, err := realKernelSpec(in, flags)
	if err != nil {
		return nil, err
	}
	sim, err := engine.OpenSimulator(engine.SimulatorOptions{})
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	opt.sim = sim
	b, err := bootSpec(ctx, spec, im, opt)
	if err != nil {
		return nil, err
	}
	booter := func(s kernel.Spec) (verdict.Outcome, error) {
		if err := applyScenario(&s, flags); err != nil {
			return verdict.Outcome{}, err
		}
		r, err := bootSpec(ctx, s, im, bootOptions{quiet: true, sim: sim})
		if err != nil {
			return verdict.Outcome{}, err
		}
		return outcomeOf(r), nil
	}
	ex, err := verdict.Explain(in, booter)
	if err != nil {
		return nil, err
	}
	rep := b.report
	rep.Preset = "kernel-dir"
	sc := *flags
	sc.Description = fmt.Sprintf("Linux %s from %s", orDash(in.Version), orDash(in.Dir))
	rep.Scenario = &sc
	rep.Kernel = &realKernelReport{Version: in.Version, Files: in.Files, Why: ex, Inputs: in.Summary(), in: in}
	for _, w := range in.Warnings {
		rep.Kernel.Notes = append(rep.Kernel.Notes, fmt.Sprint(w))
	}
	return rep, nil
}

// outcomeOf says whether IMA found a TPM chip when init_ima ran.
func outcomeOf(b *booted) verdict.Outcome {
	o := verdict.Outcome{Result: b.result}
	at, done := b.ima.Initialized()
	switch {
	case !done:
		o.Detail = "init_ima did not complete (IMA not built in)"
	case b.ima.SawChip():
		o.TPMAtIMA = true
		o.Detail = fmt.Sprintf("TPM chip registered before init_ima (%s %s)", at.Level, at.Initcall)
	default:
		o.Detail = "no TPM chip when init_ima ran: TPM-bypass"
	}
	return o
}

// printWhy writes the why section of a real kernel's boot.
func printWhy(w io.Writer, k *realKernelReport) {
	fmt.Fprintf(w, "\nKernel %s, read from:\n", orDash(k.Version))
	for _, f := range k.Files {
		use := "used"
		if !f.Used {
			use = "not used"
		}
		line := fmt.Sprintf("  %-16s %s (%s, %s)", f.Role, f.Path, f.How, use)
		if f.Note != "" {
			line += ": " + f.Note
		}
		fmt.Fprintln(w, line)
	}
	for _, n := range k.Notes {
		fmt.Fprintf(w, "  warning: %s\n", n)
	}
	fmt.Fprintln(w, "\nWhy:")
	var b strings.Builder
	if err := k.Why.WriteWhy(&b, k.in); err != nil {
		fmt.Fprintf(w, "  (cannot explain: %v)\n", err)
		return
	}
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintf(w, "  %s\n", l)
	}
}
