package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const bootHelp = `
Usage: ffatpm boot [--preset NAME | --scenario FILE] [overrides] [--json] [--out DIR] [--expect VERDICT]

Boots the emulated machine once: firmware measures itself into the TPM, the
kernel runs its initcalls (arm_ffa, tpm_crb, tpm_crb_ffa, the driver core's
deferred probing, init_ima) against the FF-A secure world, and IMA measures
files. Prints the kernel log in dmesg form, then a summary: the verdict (tpm,
bypass or late), where the TPM chip was registered, which probes were deferred
and when they ran, boot_aggregate per bank, and how many measurements were
recorded or lost.

With no flags it boots the default scenario, in which the whole chain works.
A preset or scenario file sets everything; the other flags override single
fields. Initcall names are Linux's function names; a name the configuration
does not build is accepted and noted, an unknown name is an error.

Examples:

  ffatpm boot
  ffatpm boot --preset seed-002-without-patches --expect bypass
  ffatpm boot --preset seed-002-without-patches --crb-ffa-register --ffa-initcall rootfs
  ffatpm boot --preset v6.17 --config TCG_CRB=m
  ffatpm boot --order device=ffa_init,tpm_crb_ffa_driver_init,crb_acpi_driver_init
  ffatpm boot --preset v6.17 --crb-ffa-register=false
  ffatpm boot --scenario my.yaml --json | jq .verdict
  ffatpm boot --kernel-dir /usr/lib/modules/$(uname -r)     # a real kernel: verdict and why
  ffatpm boot --out /tmp/m && evmctl ima_measurement --pcrs sha256,/tmp/m/pcrs-sha256.txt \
      /tmp/m/sys/kernel/security/ima/binary_runtime_measurements

Exit status: 0 when the boot was emulated (whatever its verdict), 1 on an
error, 2 on a usage error, 3 when --expect was given and the verdict differs.
`

// outputOptions are the flags that decide what a boot writes.
type outputOptions struct {
	json         bool
	out          string
	expect       string
	showScenario bool
}

func runBoot(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("boot")
	var sf scenarioFlags
	sf.register(fs)
	var kf kernelFlags
	kf.register(fs)
	var o outputOptions
	fs.BoolVar(&o.json, "json", false, "print one JSON object instead of the log and summary")
	fs.StringVar(&o.out, "out", "", "write the files a real machine exposes (securityfs lists, event log,\nACPI TPM2, PCRs in evmctl form, dmesg.txt, trace.jsonl) under `DIR`")
	fs.StringVar(&o.expect, "expect", "", "exit 3 unless the verdict is `VERDICT` (tpm, bypass or late)")
	fs.BoolVar(&o.showScenario, "show-scenario", false, "print the resolved scenario as YAML and stop (no boot)")
	if done, code := parseFlags(e, fs, bootHelp, args); done {
		return code
	}
	if done, code := noArgs(e, fs); done {
		return code
	}
	if o.expect != "" {
		if err := checkOneOf("--expect", o.expect, verdictNames[:]); err != nil {
			return report(e, "boot", usagef("%v", err))
		}
	}
	var rep *bootReport
	if kf.given() {
		if sf.preset != "" || sf.file != "" {
			return report(e, "boot", usagef("--kernel-dir and the single-file kernel flags boot a real kernel; they do not combine with --preset or --scenario"))
		}
		flags, err := sf.overrides()
		if err != nil {
			return report(e, "boot", err)
		}
		if o.showScenario {
			e.stdout.Write(marshalScenario(flags))
			return exitOK
		}
		in, err := kf.load()
		if err != nil {
			return report(e, "boot", err)
		}
		if rep, err = bootRealKernel(ctx, in, flags, bootOptions{trace: o.out != ""}); err != nil {
			return report(e, "boot", err)
		}
	} else {
		sc, err := sf.resolve()
		if err != nil {
			return report(e, "boot", err)
		}
		if o.expect == "" {
			o.expect = sc.Expect
		}
		if o.showScenario {
			e.stdout.Write(marshalScenario(sc))
			return exitOK
		}
		if rep, err = bootScenario(ctx, sc, bootOptions{trace: o.out != ""}); err != nil {
			return report(e, "boot", err)
		}
	}
	if o.out != "" {
		if err := writeOut(o.out, rep); err != nil {
			return report(e, "boot", err)
		}
	}
	if o.json {
		if err := writeJSON(e.stdout, rep); err != nil {
			return report(e, "boot", err)
		}
	} else {
		for _, l := range rep.Log {
			fmt.Fprintln(e.stdout, l)
		}
		fmt.Fprintln(e.stdout)
		printSummary(e.stdout, rep, o.out)
		if rep.Kernel != nil {
			printWhy(e.stdout, rep.Kernel)
		}
	}
	if o.expect != "" && rep.Verdict != o.expect {
		fmt.Fprintf(e.stderr, "ffatpm boot: verdict is %s, --expect %s\n", rep.Verdict, o.expect)
		return exitMismatch
	}
	return exitOK
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// verdictLine explains a verdict in words.
func verdictLine(v string) string {
	switch v {
	case "tpm":
		return "tpm: IMA found the TPM at init_ima; boot_aggregate and PCR 10 are in the TPM"
	case "bypass":
		return "bypass: IMA found no TPM chip and ran in TPM-bypass; nothing was extended into the TPM"
	case "late":
		return "late: IMA found the TPM only at late_initcall_sync; measurements before it were not protected"
	}
	return v
}

// verdictText is verdictLine for a boot, naming a root of trust other
// than the TPM.
func verdictText(r *bootReport) string {
	if r.RoT == "" || r.RoT == "tpm" || r.Verdict == "bypass" {
		return verdictLine(r.Verdict)
	}
	at := "late_initcall"
	if r.Verdict == "late" {
		at = "late_initcall_sync"
	}
	return fmt.Sprintf("%s: IMA initialised at %s with root of trust %s; the list is extended into its registers, not the TPM", r.Verdict, at, r.RoT)
}

func printSummary(w io.Writer, r *bootReport, outDir string) {
	fmt.Fprintf(w, "ffatpm: scenario %s", r.Preset)
	if r.Scenario != nil && r.Scenario.Description != "" {
		fmt.Fprintf(w, " (%s)", r.Scenario.Description)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  verdict          %s\n", verdictText(r))
	total, direct := 0, 0
	for name, n := range r.FFACalls {
		total += n
		if strings.HasPrefix(name, "FFA_MSG_SEND_DIRECT_REQ") {
			direct += n
		}
	}
	fmt.Fprintf(w, "  chain            %d FF-A calls by the kernel, %d of them direct requests to the TPM partition (DEN0138 START and friends)\n", total, direct)
	if r.TPMRegistered != nil {
		fmt.Fprintf(w, "  tpm0 registered  at %s initcall %s", r.TPMRegistered.Level, r.TPMRegistered.Initcall)
		if r.TPMRegistered.Time != "" {
			fmt.Fprintf(w, " [%s]", r.TPMRegistered.Time)
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "  tpm0 registered  never during boot\n")
	}
	if len(r.Deferred) == 0 {
		fmt.Fprintf(w, "  deferred probes  none\n")
	}
	for i, d := range r.Deferred {
		label := ""
		if i == 0 {
			label = "deferred probes"
		}
		fmt.Fprintf(w, "  %-16s %s (%s) deferred at %s %s [%s], ", label, d.Device, d.Driver, d.DeferredAt.Level, d.DeferredAt.Initcall, d.DeferredAt.Time)
		if d.ProbedAt != nil {
			res := retString(d.Result)
			if res == "0" {
				res = "bound"
			}
			fmt.Fprintf(w, "probed at %s %s [%s]: %s\n", d.ProbedAt.Level, d.ProbedAt.Initcall, d.ProbedAt.Time, res)
		} else {
			fmt.Fprintf(w, "never probed\n")
		}
	}
	if r.BootAggregate != nil && r.RoT != "" && r.RoT != "tpm" {
		fmt.Fprintf(w, "  %-16s %s (root of trust %s)\n", r.BootAggregate.Name, r.BootAggregate.Entry, r.RoT)
	} else if r.BootAggregate != nil {
		fmt.Fprintf(w, "  %-16s sha1:%s\n", r.BootAggregate.Name, r.BootAggregate.SHA1)
		fmt.Fprintf(w, "  %-16s sha256:%s\n", "", r.BootAggregate.SHA256)
	} else {
		fmt.Fprintf(w, "  boot_aggregate   none (IMA is not built)\n")
	}
	lost, unprotected := 0, 0
	for _, l := range r.LostMeasurements {
		if l.Status == "lost" {
			lost++
		} else {
			unprotected++
		}
	}
	fmt.Fprintf(w, "  measurements     %d in the list; %d lost before init_ima, %d listed without TPM protection\n", r.Measurements, lost, unprotected)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note             %s\n", n)
	}
	if outDir != "" {
		fmt.Fprintf(w, "  files            %s (check: evmctl ima_measurement --pcrs sha256,%s %s)\n", outDir,
			filepath.Join(outDir, "pcrs-sha256.txt"), filepath.Join(outDir, imaDir, "binary_runtime_measurements"))
	}
	switch {
	case r.Kernel != nil:
	case r.Verdict == "tpm":
		fmt.Fprintf(w, "\nSee a failing chain: ffatpm boot --preset seed-002-without-patches\n")
		fmt.Fprintf(w, "See every configuration: ffatpm explore\n")
	default:
		fmt.Fprintf(w, "\nWhy, call by call: ffatpm trace (same flags); what fixes it: ffatpm explore\n")
	}
}

func retString(v any) string {
	switch x := v.(type) {
	case nil:
		return "0"
	case int:
		return fmt.Sprint(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

const (
	imaDir  = "sys/kernel/security/ima"
	tpmDir  = "sys/kernel/security/tpm0"
	acpiDir = "sys/firmware/acpi/tables"
)

// writeOut writes the boot's files under dir, at the paths a real machine
// uses, plus PCR values in evmctl's form, the log and the trace.
func writeOut(dir string, r *bootReport) error {
	a := r.artifacts
	if a == nil {
		return fmt.Errorf("--out: this boot produced no files")
	}
	files := []struct {
		path string
		data []byte
	}{
		{filepath.Join(imaDir, "ascii_runtime_measurements"), a.asciiSHA1},
		{filepath.Join(imaDir, "ascii_runtime_measurements_sha256"), a.asciiSHA256},
		{filepath.Join(imaDir, "binary_runtime_measurements"), a.binarySHA1},
		{filepath.Join(imaDir, "binary_runtime_measurements_sha256"), a.binarySHA256},
		{filepath.Join(tpmDir, "binary_bios_measurements"), a.eventLog},
		{filepath.Join(acpiDir, "TPM2"), a.acpiTPM2},
		{"pcrs-sha1.txt", pcrFile(a.pcrs["sha1"])},
		{"pcrs-sha256.txt", pcrFile(a.pcrs["sha256"])},
		{"dmesg.txt", []byte(strings.Join(r.Log, "\n") + "\n")},
		{"trace.jsonl", traceJSONL(r.trace)},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("--out: %v", unwrapPathError(err))
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return fmt.Errorf("--out: %v", unwrapPathError(err))
		}
	}
	return nil
}

// pcrFile formats PCR values as evmctl reads them: "PCR-00: <hex>" per line.
func pcrFile(pcrs [][]byte) []byte {
	var b strings.Builder
	for i, v := range pcrs {
		fmt.Fprintf(&b, "PCR-%02d: %s\n", i, hex.EncodeToString(v))
	}
	return []byte(b.String())
}

func traceJSONL(evs []traceEvent) []byte {
	var b strings.Builder
	for _, ev := range evs {
		line, _ := json.Marshal(ev)
		b.Write(line)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
