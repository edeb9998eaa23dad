package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ffatpm/ffatpm/kernel"
)

const exploreHelp = `
Usage: ffatpm explore [--filter DIM=VALUE ...] [--json] [--workers N]

Boots every configuration that decides whether IMA finds the TPM, each one
through the whole chain with the real TPM simulator:

  - every order of the relevant initcalls inside their levels
    (crb_acpi_driver_init, tpm_crb_ffa_driver_init, ffa_init at device level;
    init_ima and deferred_probe_initcall at late level),
  - y or m for each driver (ARM_FFA_TRANSPORT, TCG_CRB, TCG_ARM_CRB_FFA),
  - each patch switch: ffa_init at rootfs or device, crb_ffa_register
    (746d9e9f62a6) and its seed 002 v2 form with BUG_ON (crb_ffa_bug_on),
    and the older arm_ffa bus registration inside ffa_init
    (ffa_bus_in_ffa_init),
  - IMA late init: off, sync (CONFIG_IMA_INIT_LATE_SYNC) or retry (seed 001).

Prints the configurations grouped by verdict, and for each one that does not
end with IMA using the TPM, the smallest set of switches (keeping its link
order) that makes it do so. The boots run in worker processes, one per CPU.

Dimensions for --filter: ARM_FFA_TRANSPORT, TCG_CRB, TCG_ARM_CRB_FFA (y|m),
ffa_initcall (rootfs|device), crb_ffa_register, crb_ffa_bug_on,
ffa_bus_in_ffa_init (true|false),
ima_late (off|sync|retry), device and late (an order, a,b,c), verdict.

Examples:

  ffatpm explore
  ffatpm explore --filter ffa_initcall=device --filter ima_late=off
  ffatpm explore --filter verdict=bypass
  ffatpm explore --json | jq '.points | length'
  ffatpm explore --kernel-dir /usr/lib/modules/$(uname -r)   # what a real kernel can still change

With --kernel-dir (and the other kernel file flags of "ffatpm boot") it
explores only what the user of that kernel can still change: the Kconfig
symbols that matter and exist in its version, and the patch switches it
does not have, keeping its real link order.
`

// exploreDims are the dimensions --filter may fix, in column order.
var exploreDims = []string{"ARM_FFA_TRANSPORT", "TCG_CRB", "TCG_ARM_CRB_FFA", "ffa_initcall", "crb_ffa_register", "crb_ffa_bug_on", "ffa_bus_in_ffa_init", "ima_late", "device", "late", "verdict"}

// imaLateModes are the three IMA init forms explore covers.
var imaLateModes = []string{"off", "sync", "retry"}

// point is one configuration of the explored space.
type point struct {
	FFA            string   `json:"ARM_FFA_TRANSPORT"`
	CRB            string   `json:"TCG_CRB"`
	CRBFFA         string   `json:"TCG_ARM_CRB_FFA"`
	FFAInitcall    string   `json:"ffa_initcall"`
	CRBFFARegister bool     `json:"crb_ffa_register"`
	CRBFFABugOn    bool     `json:"crb_ffa_bug_on"`
	FFABusInit     bool     `json:"ffa_bus_in_ffa_init"`
	IMALate        string   `json:"ima_late"`
	Device         []string `json:"device"`
	Late           []string `json:"late"`
}

// switches are the dimensions a fix may change: everything but link order.
func (p point) switches() []string {
	return []string{p.FFA, p.CRB, p.CRBFFA, p.FFAInitcall, strconv.FormatBool(p.CRBFFARegister), strconv.FormatBool(p.CRBFFABugOn),
		strconv.FormatBool(p.FFABusInit), p.IMALate}
}

var switchNames = []string{"ARM_FFA_TRANSPORT", "TCG_CRB", "TCG_ARM_CRB_FFA", "ffa_initcall", "crb_ffa_register", "crb_ffa_bug_on", "ffa_bus_in_ffa_init", "ima_late"}

func (p point) dim(name string) string {
	switch name {
	case "ARM_FFA_TRANSPORT":
		return p.FFA
	case "TCG_CRB":
		return p.CRB
	case "TCG_ARM_CRB_FFA":
		return p.CRBFFA
	case "ffa_initcall":
		return p.FFAInitcall
	case "crb_ffa_register":
		return strconv.FormatBool(p.CRBFFARegister)
	case "crb_ffa_bug_on":
		return strconv.FormatBool(p.CRBFFABugOn)
	case "ffa_bus_in_ffa_init":
		return strconv.FormatBool(p.FFABusInit)
	case "ima_late":
		return p.IMALate
	case "device":
		return strings.Join(p.Device, ",")
	case "late":
		return strings.Join(p.Late, ",")
	}
	return ""
}

// scenario turns a point into the scenario that boots it.
func (p point) scenario() *scenario {
	cfg := map[string]string{"ARM_FFA_TRANSPORT": p.FFA, "TCG_CRB": p.CRB, "TCG_ARM_CRB_FFA": p.CRBFFA}
	order := map[string][]string{}
	if len(p.Device) > 0 {
		order["device"] = p.Device
	}
	if len(p.Late) > 0 {
		order["late"] = p.Late
	}
	return &scenario{
		Preset:         "explore",
		Kernel:         kernel.DefaultPreset,
		Config:         cfg,
		Order:          order,
		FFAInitcall:    p.FFAInitcall,
		CRBFFARegister: ptrTo(p.CRBFFARegister),
		CRBFFABugOn:    ptrTo(p.CRBFFABugOn),
		FFABusInit:     ptrTo(p.FFABusInit),
		IMALateSync:    ptrTo(p.IMALate == "sync"),
		IMALateRetry:   ptrTo(p.IMALate == "retry"),
		RoT:            "tpm",
	}
}

// filterFlag collects repeatable --filter DIM=VALUE values.
type filterFlag struct{ m map[string]string }

func (f *filterFlag) String() string {
	if f == nil {
		return ""
	}
	var parts []string
	for _, k := range sortedKeys(f.m) {
		parts = append(parts, k+"="+f.m[k])
	}
	return strings.Join(parts, " ")
}

func (f *filterFlag) Set(s string) error {
	dim, val, ok := strings.Cut(s, "=")
	if !ok || val == "" {
		return fmt.Errorf("want DIM=VALUE, got %q", s)
	}
	var allowed []string
	switch dim {
	case "ARM_FFA_TRANSPORT", "TCG_CRB", "TCG_ARM_CRB_FFA":
		allowed = []string{"y", "m"}
	case "ffa_initcall":
		allowed = ffaInitcallLevels
	case "crb_ffa_register", "crb_ffa_bug_on", "ffa_bus_in_ffa_init":
		allowed = []string{"true", "false"}
	case "ima_late":
		allowed = imaLateModes
	case "verdict":
		allowed = verdictNames[:]
	case "device", "late":
		val = strings.Join(splitList(val), ",")
	default:
		return fmt.Errorf("unknown dimension %q (dimensions: %s)", dim, strings.Join(exploreDims, ", "))
	}
	if allowed != nil {
		if err := checkOneOf(dim, val, allowed); err != nil {
			return err
		}
	}
	if f.m == nil {
		f.m = map[string]string{}
	}
	if _, dup := f.m[dim]; dup {
		return fmt.Errorf("dimension %s filtered twice", dim)
	}
	f.m[dim] = val
	return nil
}

func (f *filterFlag) match(p point, verdict string) bool {
	for dim, val := range f.m {
		got := p.dim(dim)
		if dim == "verdict" {
			got = verdict
		}
		if got != val {
			return false
		}
	}
	return true
}

// exploreResult is the outcome of one point.
type exploreResult struct {
	Point         point         `json:"point"`
	Verdict       string        `json:"verdict"`
	TPMRegistered *registration `json:"tpm_registered"`
	Lost          int           `json:"lost"` // measurement points lost or unprotected
	Fix           []fixChange   `json:"fix"`
	FixVerdict    string        `json:"fix_verdict,omitempty"`
	Error         string        `json:"error,omitempty"`
}

// fixChange is one switch of a fix: set Dim to To (it was From).
type fixChange struct {
	Dim  string `json:"dim"`
	From string `json:"from"`
	To   string `json:"to"`
}

func (c fixChange) String() string { return c.Dim + "=" + c.To }

type exploreOptions struct {
	filter  filterFlag
	json    bool
	workers int
}

func runExplore(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("explore")
	var o exploreOptions
	var kf kernelFlags
	kf.register(fs)
	fs.Var(&o.filter, "filter", "keep only configurations with `DIM=VALUE` (repeatable; dimensions above)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object: the dimensions, every point with its verdict and fix, the counts")
	fs.IntVar(&o.workers, "workers", 0, "worker processes (`N`; default: one per CPU; 1 runs in this process)")
	if done, code := parseFlags(e, fs, exploreHelp, args); done {
		return code
	}
	if done, code := noArgs(e, fs); done {
		return code
	}
	if o.workers < 0 {
		return report(e, "explore", usagef("--workers must be 0 or more, got %d", o.workers))
	}
	if kf.given() {
		if len(o.filter.m) > 0 {
			return report(e, "explore", usagef("--filter applies to the model's space, not to --kernel-dir"))
		}
		return exploreRealKernel(ctx, e, &kf, &o)
	}
	points, err := explorePoints()
	if err != nil {
		return report(e, "explore", err)
	}
	start := time.Now()
	results, err := runPoints(ctx, e, points, o.workers)
	if err != nil {
		return report(e, "explore", err)
	}
	elapsed := time.Since(start)
	computeFixes(results)
	var shown []exploreResult
	for _, r := range results {
		if o.filter.match(r.Point, r.Verdict) {
			shown = append(shown, r)
		}
	}
	if o.json {
		out := struct {
			Dimensions map[string][]string `json:"dimensions"`
			Total      int                 `json:"total"`
			Shown      int                 `json:"shown"`
			Counts     map[string]int      `json:"counts"`
			Points     []exploreResult     `json:"points"`
		}{exploreDimensionValues(points), len(results), len(shown), countVerdicts(shown), shown}
		if err := writeJSON(e.stdout, out); err != nil {
			return report(e, "explore", err)
		}
	} else {
		printMatrix(e.stdout, shown, len(results))
	}
	if e.stderrIsTerminal {
		fmt.Fprintf(e.stderr, "\rffatpm explore: %d configurations booted in %.1fs\n", len(results), elapsed.Seconds())
	}
	for _, r := range results {
		if r.Error != "" {
			fmt.Fprintf(e.stderr, "ffatpm explore: %d configurations failed to boot; first: %s\n", countErrors(results), r.Error)
			return exitError
		}
	}
	return exitOK
}

func countErrors(rs []exploreResult) int {
	n := 0
	for _, r := range rs {
		if r.Error != "" {
			n++
		}
	}
	return n
}

func countVerdicts(rs []exploreResult) map[string]int {
	m := map[string]int{}
	for _, v := range verdictNames {
		m[v] = 0
	}
	for _, r := range rs {
		m[r.Verdict]++
	}
	return m
}

func exploreDimensionValues(points []point) map[string][]string {
	m := map[string][]string{}
	seen := map[string]map[string]bool{}
	for _, p := range points {
		for _, d := range exploreDims[:len(exploreDims)-1] {
			v := p.dim(d)
			if seen[d] == nil {
				seen[d] = map[string]bool{}
			}
			if !seen[d][v] {
				seen[d][v] = true
				m[d] = append(m[d], v)
			}
		}
	}
	return m
}

// permutations returns every order of names, in lexicographic order of
// indexes, starting with names as given.
func permutations(names []string) [][]string {
	if len(names) <= 1 {
		return [][]string{append([]string(nil), names...)}
	}
	var out [][]string
	for i := range names {
		rest := make([]string, 0, len(names)-1)
		rest = append(rest, names[:i]...)
		rest = append(rest, names[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{names[i]}, p...))
		}
	}
	return out
}

// computeFixes finds, for each point whose verdict is not "tpm", the point
// with verdict "tpm" (or, failing that, "late") that differs in the fewest
// switches while keeping the link order: every two initcalls that both
// points build into a level run in the same relative order. Link order is
// not something a driver's developer controls, so a fix may not rely on it.
func computeFixes(rs []exploreResult) {
	for i := range rs {
		r := &rs[i]
		if r.Verdict == "tpm" || r.Error != "" {
			continue
		}
		for _, target := range []string{"tpm", "late"} {
			if target == r.Verdict {
				break
			}
			best, bestDist := -1, 0
			for j := range rs {
				if rs[j].Verdict != target || !sameRelativeOrder(r.Point, rs[j].Point) {
					continue
				}
				d := switchDistance(r.Point, rs[j].Point)
				if best < 0 || d < bestDist {
					best, bestDist = j, d
				}
			}
			if best >= 0 {
				r.Fix = switchDiff(r.Point, rs[best].Point)
				r.FixVerdict = target
				break
			}
		}
	}
}

// sameRelativeOrder reports whether the initcalls a and b both build into
// a level run in the same order in both.
func sameRelativeOrder(a, b point) bool {
	return consistent(a.Device, b.Device) && consistent(a.Late, b.Late)
}

func consistent(x, y []string) bool {
	pos := map[string]int{}
	for i, n := range y {
		pos[n] = i
	}
	last := -1
	for _, n := range x {
		if p, ok := pos[n]; ok {
			if p < last {
				return false
			}
			last = p
		}
	}
	return true
}

func switchDistance(a, b point) int {
	return len(switchDiff(a, b))
}

func switchDiff(a, b point) []fixChange {
	var out []fixChange
	sa, sb := a.switches(), b.switches()
	for i := range sa {
		if sa[i] != sb[i] {
			out = append(out, fixChange{Dim: switchNames[i], From: sa[i], To: sb[i]})
		}
	}
	return out
}

func printMatrix(w io.Writer, rs []exploreResult, total int) {
	counts := countVerdicts(rs)
	fmt.Fprintf(w, "%d configurations booted", total)
	if len(rs) != total {
		fmt.Fprintf(w, ", %d match the filter", len(rs))
	}
	fmt.Fprintf(w, ": tpm %d, late %d, bypass %d\n", counts["tpm"], counts["late"], counts["bypass"])
	groups := map[string][]exploreResult{}
	for _, r := range rs {
		groups[r.Verdict] = append(groups[r.Verdict], r)
	}
	for _, v := range []string{"tpm", "late", "bypass"} {
		g := groups[v]
		if len(g) == 0 {
			continue
		}
		sort.SliceStable(g, func(i, j int) bool { return lessPoint(g[i].Point, g[j].Point) })
		fmt.Fprintf(w, "\n== %s (%d) ==\n", verdictLine(v), len(g))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "FFA\tCRB\tCRB_FFA\tffa_init\tregister\tbug_on\tbus_in_ffa_init\tima_late\tdevice order\tlate order\ttpm0 at\tsmallest fix")
		for _, r := range g {
			p := r.Point
			reg := registeredCell(r.TPMRegistered)
			fix := fixCell(r.Fix, r.FixVerdict, v, "none keeps this order")
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%v\t%v\t%s\t%s\t%s\t%s\t%s\n", p.FFA, p.CRB, p.CRBFFA, p.FFAInitcall,
				p.CRBFFARegister, p.CRBFFABugOn, p.FFABusInit, p.IMALate, orDash(shortOrder(p.Device)), orDash(shortOrder(p.Late)), reg, fix)
		}
		tw.Flush()
	}
}

// registeredCell is the "tpm0 at" column of an explore table: the level and
// initcall where the chip registered, or "-".
func registeredCell(reg *registration) string {
	if reg == nil {
		return "-"
	}
	return reg.Level + " " + reg.Initcall
}

// fixCell is the "smallest fix" column: the changes, with the verdict they
// reach when it is not "tpm"; none when a failing point has no fix; "-" for
// a point that needs none.
func fixCell(fix []fixChange, fixVerdict, verdict, none string) string {
	if len(fix) == 0 {
		if verdict != "tpm" {
			return none
		}
		return "-"
	}
	parts := make([]string, 0, len(fix))
	for _, c := range fix {
		parts = append(parts, c.String())
	}
	out := strings.Join(parts, " ")
	if fixVerdict != "tpm" {
		out += " (-> " + fixVerdict + ")"
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shortOrder abbreviates initcall names so the matrix fits a terminal.
func shortOrder(names []string) string {
	short := map[string]string{
		"crb_acpi_driver_init":    "crb_acpi",
		"tpm_crb_ffa_driver_init": "crb_ffa",
		"ffa_init":                "ffa",
		"init_ima":                "ima",
		"deferred_probe_initcall": "deferred",
	}
	var parts []string
	for _, n := range names {
		if s, ok := short[n]; ok {
			n = s
		}
		parts = append(parts, n)
	}
	return strings.Join(parts, ",")
}

func lessPoint(a, b point) bool {
	for _, d := range exploreDims[:len(exploreDims)-1] {
		if x, y := a.dim(d), b.dim(d); x != y {
			return x > y // y before m, true before false, rootfs before device
		}
	}
	return false
}

// jobLine and resultLine are the worker protocol: one JSON object per line.
type jobLine struct {
	ID       int        `json:"id"`
	Scenario *scenario  `json:"scenario,omitempty"`
	Kernel   *kernelJob `json:"kernel,omitempty"`
}

type resultLine struct {
	ID            int           `json:"id"`
	Verdict       string        `json:"verdict"`
	TPMRegistered *registration `json:"tpm_registered"`
	Lost          int           `json:"lost"`
	Error         string        `json:"error,omitempty"`
}

func marshalLine(v any) []byte {
	b, _ := json.Marshal(v)
	return append(b, '\n')
}
