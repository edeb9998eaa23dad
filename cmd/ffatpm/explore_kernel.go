package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kbuild"
	"github.com/ffatpm/ffatpm/kernel/kbuild/verdict"
)

// "ffatpm explore --kernel-dir DIR" explores only what the user of a real
// kernel can still change: the Kconfig symbols that matter and exist in its
// version, and the patch switches it does not have (verdict.Knobs), keeping
// the kernel's own link order. Kconfig's rules decide what each combination
// really builds; combinations that build the same kernel are booted once.

// kernelChange is one combination: symbol values and patches, in the
// order of the knobs.
type kernelChange struct {
	Values  map[string]string `json:"kconfig"`
	Patches []string          `json:"patches"`
}

func (c kernelChange) change(current map[string]string) verdict.Change {
	var ch verdict.Change
	for _, sym := range sortedKeys(c.Values) {
		if c.Values[sym] == current[sym] {
			continue
		}
		t, err := kbuild.ParseTristate(c.Values[sym])
		if err != nil {
			continue
		}
		ch.Kconfig = append(ch.Kconfig, kbuild.Override{Name: sym, Value: kbuild.TriValue(t)})
	}
	ch.Patches = append(ch.Patches, c.Patches...)
	return ch
}

// kernelExploreResult is one distinct kernel the combinations build.
type kernelExploreResult struct {
	Change        kernelChange      `json:"change"`
	Effective     map[string]string `json:"effective"` // the knobs' values after Kconfig's rules
	Combinations  int               `json:"combinations"`
	Verdict       string            `json:"verdict"`
	TPMRegistered *registration     `json:"tpm_registered"`
	Fix           []fixChange       `json:"fix"`
	FixVerdict    string            `json:"fix_verdict,omitempty"`
	Error         string            `json:"error,omitempty"`
}

func knobCurrent(knobs []verdict.Knob) map[string]string {
	cur := map[string]string{}
	for _, k := range knobs {
		if k.Symbol != "" {
			cur[k.Symbol] = k.Current.String()
		}
	}
	return cur
}

// kernelCombinations enumerates every value of every knob.
func kernelCombinations(knobs []verdict.Knob) []kernelChange {
	out := []kernelChange{{Values: map[string]string{}}}
	for _, k := range knobs {
		var next []kernelChange
		for _, c := range out {
			if k.Symbol != "" {
				for _, v := range k.Values {
					n := kernelChange{Values: map[string]string{}, Patches: c.Patches}
					for s, x := range c.Values {
						n.Values[s] = x
					}
					n.Values[k.Symbol] = v.String()
					next = append(next, n)
				}
				continue
			}
			next = append(next, c)
			next = append(next, kernelChange{Values: c.Values, Patches: append(append([]string(nil), c.Patches...), k.Patch)})
		}
		out = next
	}
	return out
}

// effectiveKey describes what a spec builds, for merging combinations.
func effectiveKey(spec kernel.Spec, knobs []verdict.Knob) (string, map[string]string) {
	eff := map[string]string{}
	var parts []string
	for _, k := range knobs {
		if k.Symbol != "" {
			v := spec.Config.Tristate(k.Symbol).String()
			eff[k.Symbol] = v
			parts = append(parts, k.Symbol+"="+v)
		}
	}
	p := spec.Patches
	parts = append(parts, fmt.Sprintf("rootfs=%v register=%v bugon=%v bus=%v", p.FFAInitRootfs, p.CRBFFARegister, p.CRBFFABugOn, p.FFABusInFFAInit), spec.Order.String())
	return strings.Join(parts, " "), eff
}

func exploreRealKernel(ctx context.Context, e *env, kf *kernelFlags, o *exploreOptions) int {
	in, err := kf.load()
	if err != nil {
		return report(e, "explore", err)
	}
	knobs := verdict.Knobs(in)
	cur := knobCurrent(knobs)
	combos := kernelCombinations(knobs)
	var results []kernelExploreResult
	index := map[string]int{}
	undone := 0
	for _, c := range combos {
		spec, _, ok, err := verdict.WhatIf(in, c.change(cur))
		if err != nil {
			return report(e, "explore", err)
		}
		if !ok {
			undone++
			continue
		}
		key, eff := effectiveKey(spec, knobs)
		if i, seen := index[key]; seen {
			results[i].Combinations++
			continue
		}
		index[key] = len(results)
		results = append(results, kernelExploreResult{Change: c, Effective: eff, Combinations: 1})
	}
	jobs := make([]jobLine, len(results))
	for i, r := range results {
		ch := r.Change
		jobs[i] = jobLine{ID: i, Kernel: &kernelJob{Options: kf.opts, Current: cur, Change: ch}}
	}
	answers, err := runJobs(ctx, e, jobs, o.workers)
	if err != nil {
		return report(e, "explore", err)
	}
	for i, a := range answers {
		results[i].Verdict, results[i].TPMRegistered, results[i].Error = a.Verdict, a.TPMRegistered, a.Error
	}
	kernelFixes(results, knobs)
	if o.json {
		out := struct {
			Kernel       string                `json:"kernel"`
			Knobs        []verdict.Knob        `json:"knobs"`
			Combinations int                   `json:"combinations"`
			Undone       int                   `json:"undone_by_kconfig"`
			Distinct     int                   `json:"distinct"`
			Counts       map[string]int        `json:"counts"`
			Points       []kernelExploreResult `json:"points"`
		}{in.Version, knobs, len(combos), undone, len(results), countKernelVerdicts(results), results}
		if err := writeJSON(e.stdout, out); err != nil {
			return report(e, "explore", err)
		}
	} else {
		fmt.Fprintf(e.stdout, "Linux %s from %s: %d combinations of what can still change, %d undone by Kconfig's rules, %d distinct kernels booted (link order kept)\n",
			orDash(in.Version), orDash(in.Dir), len(combos), undone, len(results))
		printKernelMatrix(e.stdout, results, knobs, cur)
	}
	for _, r := range results {
		if r.Error != "" {
			fmt.Fprintf(e.stderr, "ffatpm explore: a configuration failed to boot: %s\n", r.Error)
			return exitError
		}
	}
	return exitOK
}

func countKernelVerdicts(rs []kernelExploreResult) map[string]int {
	m := map[string]int{"tpm": 0, "late": 0, "bypass": 0}
	for _, r := range rs {
		m[r.Verdict]++
	}
	return m
}

// kernelDims are the knob names: symbols, then patches.
func kernelDims(knobs []verdict.Knob) []string {
	var dims []string
	for _, k := range knobs {
		if k.Symbol != "" {
			dims = append(dims, k.Symbol)
		} else {
			dims = append(dims, k.Patch)
		}
	}
	return dims
}

func (r kernelExploreResult) dim(k verdict.Knob) string {
	if k.Symbol != "" {
		return r.Effective[k.Symbol]
	}
	for _, p := range r.Change.Patches {
		if p == k.Patch {
			return "on"
		}
	}
	return "off"
}

// kernelFixes finds for each failing kernel the distinct kernel with verdict
// tpm (else late) that differs in the fewest knobs.
func kernelFixes(rs []kernelExploreResult, knobs []verdict.Knob) {
	for i := range rs {
		r := &rs[i]
		if r.Verdict == "tpm" || r.Error != "" {
			continue
		}
		for _, target := range []string{"tpm", "late"} {
			if target == r.Verdict {
				break
			}
			best, bestN := -1, 0
			for j := range rs {
				if rs[j].Verdict != target {
					continue
				}
				n := 0
				for _, k := range knobs {
					if r.dim(k) != rs[j].dim(k) {
						n++
					}
				}
				if best < 0 || n < bestN {
					best, bestN = j, n
				}
			}
			if best >= 0 {
				for _, k := range knobs {
					if a, b := r.dim(k), rs[best].dim(k); a != b {
						name := k.Symbol
						if name == "" {
							name = k.Patch
						}
						r.Fix = append(r.Fix, fixChange{Dim: name, From: a, To: b})
					}
				}
				r.FixVerdict = target
				break
			}
		}
	}
}

func printKernelMatrix(w io.Writer, rs []kernelExploreResult, knobs []verdict.Knob, cur map[string]string) {
	groups := map[string][]kernelExploreResult{}
	for _, r := range rs {
		groups[r.Verdict] = append(groups[r.Verdict], r)
	}
	dims := kernelDims(knobs)
	for _, v := range []string{"tpm", "late", "bypass"} {
		g := groups[v]
		if len(g) == 0 {
			continue
		}
		sort.SliceStable(g, func(i, j int) bool {
			for _, k := range knobs {
				if a, b := g[i].dim(k), g[j].dim(k); a != b {
					return a > b
				}
			}
			return false
		})
		fmt.Fprintf(w, "\n== %s (%d) ==\n", verdictLine(v), len(g))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\ttpm0 at\tsmallest fix\n", strings.Join(dims, "\t"))
		for _, r := range g {
			var cols []string
			same := true
			for _, k := range knobs {
				val := r.dim(k)
				if k.Symbol != "" && val != cur[k.Symbol] || k.Symbol == "" && val == "on" {
					same = false
				}
				cols = append(cols, val)
			}
			reg := registeredCell(r.TPMRegistered)
			fix := fixCell(r.Fix, r.FixVerdict, v, "none")
			if same {
				fix += "   <- this kernel"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.Join(cols, "\t"), reg, fix)
		}
		tw.Flush()
	}
}

// kernelJob is a worker job for a real kernel: the files to load (each
// worker loads them once) and the combination to boot.
type kernelJob struct {
	Options kbuild.Options    `json:"options"`
	Current map[string]string `json:"current"`
	Change  kernelChange      `json:"change"`
}

// kernelJobRunner boots kernel jobs in one process, loading each kernel's
// files once.
type kernelJobRunner struct {
	loaded map[kbuild.Options]*kbuild.Inputs
}

func (r *kernelJobRunner) run(ctx context.Context, id int, j *kernelJob, sim *engine.Simulator) resultLine {
	if r.loaded == nil {
		r.loaded = map[kbuild.Options]*kbuild.Inputs{}
	}
	in := r.loaded[j.Options]
	if in == nil {
		var err error
		if in, err = kbuild.Load(j.Options); err != nil {
			return resultLine{ID: id, Error: oneLine(err.Error())}
		}
		r.loaded[j.Options] = in
	}
	spec, _, ok, err := verdict.WhatIf(in, j.Change.change(j.Current))
	if err != nil || !ok {
		return resultLine{ID: id, Error: fmt.Sprintf("what-if not buildable: %v", err)}
	}
	b, err := bootSpec(ctx, spec, imaInputs{rot: "tpm", files: defaultFiles()}, bootOptions{quiet: true, sim: sim})
	if err != nil {
		return resultLine{ID: id, Error: oneLine(err.Error())}
	}
	return resultLine{ID: id, Verdict: b.report.Verdict, TPMRegistered: b.report.TPMRegistered, Lost: len(b.report.LostMeasurements)}
}
