package main

import (
	"context"
	"strings"
)

const traceHelp = `
Usage: ffatpm trace [scenario flags as for boot] [--only KINDS] [--svg FILE] [--jsonl]

Boots like "ffatpm boot" and shows what happened underneath, in order: every
FF-A call the kernel made (function, registers, result), every CRB register
access (locality, register, value), and the driver core's events (initcalls
with their return values, device additions, probes, deferrals, the deferred
probe trigger, IMA's init). --svg draws a timeline of the initcall levels,
probes, deferrals and IMA init.

Examples:

  ffatpm trace
  ffatpm trace --preset seed-002-without-patches --only initcall,driver,defer,ima
  ffatpm trace --preset seed-002-without-patches --svg seed002.svg
  ffatpm trace --only ffa --jsonl | jq .
  ffatpm trace --kernel-dir /usr/lib/modules/$(uname -r) --only initcall,defer
`

var traceKinds = []string{"ffa", "crb", "initcall", "driver", "defer", "tpm", "ima", "boot"}

type traceOptions struct {
	only  string
	svg   string
	jsonl bool
}

func runTrace(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("trace")
	var sf scenarioFlags
	sf.register(fs)
	var kf kernelFlags
	kf.register(fs)
	var o traceOptions
	fs.StringVar(&o.only, "only", "", "show only these event kinds, comma separated: `KINDS` from\n"+strings.Join(traceKinds, ","))
	fs.StringVar(&o.svg, "svg", "", "also draw the boot's timeline into `FILE` (SVG)")
	fs.BoolVar(&o.jsonl, "jsonl", false, "print the events as JSON lines (the --out trace.jsonl form)")
	if done, code := parseFlags(e, fs, traceHelp, args); done {
		return code
	}
	if done, code := noArgs(e, fs); done {
		return code
	}
	var kinds map[string]bool
	if o.only != "" {
		kinds = map[string]bool{}
		for _, k := range splitList(o.only) {
			if err := checkOneOf("--only kind", k, traceKinds); err != nil {
				return report(e, "trace", usagef("%v", err))
			}
			kinds[k] = true
		}
	}
	var rep *bootReport
	if kf.given() {
		if sf.preset != "" || sf.file != "" {
			return report(e, "trace", usagef("--kernel-dir and the single-file kernel flags boot a real kernel; they do not combine with --preset or --scenario"))
		}
		flags, err := sf.overrides()
		if err != nil {
			return report(e, "trace", err)
		}
		in, err := kf.load()
		if err != nil {
			return report(e, "trace", err)
		}
		if rep, err = bootRealKernel(ctx, in, flags, bootOptions{trace: true}); err != nil {
			return report(e, "trace", err)
		}
	} else {
		sc, err := sf.resolve()
		if err != nil {
			return report(e, "trace", err)
		}
		if rep, err = bootScenario(ctx, sc, bootOptions{trace: true}); err != nil {
			return report(e, "trace", err)
		}
	}
	return printTrace(e, rep, kinds, &o)
}
