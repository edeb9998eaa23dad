package main

import (
	"context"
	"fmt"
	"strings"
)

const verifyHelp = `
Usage: ffatpm verify --list FILE --pcrs ALG,FILE [--pcrs ALG,FILE ...] [--eventlog FILE] [--json]

Checks a binary IMA measurement list the way an attestation server does:
replays it and compares PCR 10 per bank, recomputes boot_aggregate from the
PCRs (SHA-1: PCR 0..7, other banks: PCR 0..9) or from the replayed firmware
event log, says when the kernel ran in TPM-bypass (a boot_aggregate of zeros),
and replays the TCG firmware event log against the PCRs. The list may be one
that "ffatpm boot --out" wrote or one copied from a real machine's
/sys/kernel/security/ima/. PCR files are in evmctl's form, one
"PCR-NN: <hex>" line per PCR.

Examples:

  ffatpm boot --out /tmp/m
  ffatpm verify --list /tmp/m/sys/kernel/security/ima/binary_runtime_measurements_sha256 \
      --pcrs sha256,/tmp/m/pcrs-sha256.txt \
      --eventlog /tmp/m/sys/kernel/security/tpm0/binary_bios_measurements
  ffatpm verify --list binary_runtime_measurements --pcrs sha1,pcrs-sha1.txt --pcrs sha256,pcrs-sha256.txt --json

Exit status: 0 when every check holds, 1 when one fails (the reason on
stderr), 2 on a usage error.
`

// pcrsFlag collects repeatable --pcrs ALG,FILE values.
type pcrsFlag struct {
	items []pcrsArg
}

type pcrsArg struct{ alg, file string }

var verifyBanks = []string{"sha1", "sha256", "sha384", "sha512"}

func (p *pcrsFlag) String() string {
	if p == nil {
		return ""
	}
	var parts []string
	for _, it := range p.items {
		parts = append(parts, it.alg+","+it.file)
	}
	return strings.Join(parts, " ")
}

func (p *pcrsFlag) Set(s string) error {
	alg, file, ok := strings.Cut(s, ",")
	if !ok || file == "" {
		return fmt.Errorf("want ALG,FILE (e.g. sha256,pcrs-sha256.txt), got %q", s)
	}
	alg = strings.ToLower(alg)
	if err := checkOneOf("hash algorithm", alg, verifyBanks); err != nil {
		return err
	}
	for _, it := range p.items {
		if it.alg == alg {
			return fmt.Errorf("bank %s given twice", alg)
		}
	}
	p.items = append(p.items, pcrsArg{alg, file})
	return nil
}

type verifyOptions struct {
	list     string
	pcrs     pcrsFlag
	eventlog string
	json     bool
}

func runVerify(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet("verify")
	var o verifyOptions
	fs.StringVar(&o.list, "list", "", "binary measurement list `FILE` (binary_runtime_measurements[_ALG])")
	fs.Var(&o.pcrs, "pcrs", "PCR values of one bank in evmctl form (`ALG,FILE`; repeatable)")
	fs.StringVar(&o.eventlog, "eventlog", "", "TCG firmware event log `FILE` (binary_bios_measurements) to replay")
	fs.BoolVar(&o.json, "json", false, "print one JSON object with every check")
	if done, code := parseFlags(e, fs, verifyHelp, args); done {
		return code
	}
	if done, code := noArgs(e, fs); done {
		return code
	}
	if o.list == "" {
		return report(e, "verify", usagef("--list FILE is required"))
	}
	if len(o.pcrs.items) == 0 {
		return report(e, "verify", usagef("at least one --pcrs ALG,FILE is required"))
	}
	return verifyFiles(ctx, e, &o)
}
