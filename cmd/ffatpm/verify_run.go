package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/eventlog"
	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// verifyJSON is the --json form of verify; docs/cli.md lists its keys.
type verifyJSON struct {
	OK            bool                  `json:"ok"`
	Entries       int                   `json:"entries"`
	ListAlgorithm string                `json:"list_algorithm"`
	Banks         map[string]bankResult `json:"banks"`
	BootAggregate verifyAggregate       `json:"boot_aggregate"`
	Bypass        bool                  `json:"bypass"`
	Late          bool                  `json:"late"`
	EventLog      *verifyEventLog       `json:"eventlog"`
	Checks        []verifyCheck         `json:"checks"`
}

type bankResult struct {
	PCR10Matched bool   `json:"pcr10_matched"`
	Replayed     string `json:"replayed"` // PCR 10 as the list replays it
	TPM          string `json:"tpm"`      // PCR 10 as the PCR file gives it
}

type verifyAggregate struct {
	Name   string `json:"name"`
	Digest string `json:"digest"` // "<algo>:<hex>"
	OK     bool   `json:"ok"`
}

type verifyEventLog struct {
	Replayed       bool  `json:"replayed"`
	MismatchedPCRs []int `json:"mismatched_pcrs"`
}

type verifyCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// listAlgorithm infers the template-digest algorithm of a binary list from
// its file name: binary_runtime_measurements_<alg>, otherwise SHA-1 (the
// un-suffixed file every kernel writes).
func listAlgorithm(path string) hashalg.Alg {
	base := filepath.Base(path)
	if i := strings.LastIndexByte(base, '_'); i >= 0 {
		if a, err := hashalg.Parse(base[i+1:]); err == nil {
			return a
		}
	}
	return hashalg.SHA1
}

func verifyFiles(_ context.Context, e *env, o *verifyOptions) int {
	fail := func(err error) int { return report(e, "verify", err) }
	raw, err := os.ReadFile(o.list)
	if err != nil {
		return fail(usagef("--list: %v", unwrapPathError(err)))
	}
	la := listAlgorithm(o.list)
	recs, err := ima.ParseBinary(raw, la.Size())
	if err != nil {
		return fail(fmt.Errorf("--list %s: %v", o.list, err))
	}
	ev := ima.Evidence{Lists: map[hashalg.Alg][]ima.Record{la: recs}, PCRs: map[hashalg.Alg]ima.PCRValues{}}
	for _, p := range o.pcrs.items {
		alg, err := hashalg.Parse(p.alg)
		if err != nil {
			return fail(usagef("--pcrs: %v", err))
		}
		data, err := os.ReadFile(p.file)
		if err != nil {
			return fail(usagef("--pcrs: %v", unwrapPathError(err)))
		}
		vals, err := ima.ParsePCRFile(data)
		if err != nil {
			return fail(fmt.Errorf("--pcrs %s,%s: %v", p.alg, p.file, err))
		}
		ev.PCRs[alg] = vals
	}
	if o.eventlog != "" {
		data, err := os.ReadFile(o.eventlog)
		if err != nil {
			return fail(usagef("--eventlog: %v", unwrapPathError(err)))
		}
		if ev.EventLog, err = eventlog.Parse(data); err != nil {
			return fail(fmt.Errorf("--eventlog %s: %v", o.eventlog, err))
		}
	}
	rep := ima.Verify(ev)
	out := summarizeVerify(rep, ev, la, recs)
	if o.json {
		if err := writeJSON(e.stdout, out); err != nil {
			return fail(err)
		}
	} else {
		fmt.Fprintf(e.stdout, "%d entries (%s template digests) from %s\n", len(recs), la, o.list)
		fmt.Fprint(e.stdout, rep.String())
		if rep.OK() {
			fmt.Fprintln(e.stdout, "verify: every check holds")
		}
	}
	if !rep.OK() {
		var reasons []string
		for _, c := range rep.Failed() {
			reasons = append(reasons, c.Name+": "+c.Detail)
		}
		fmt.Fprintf(e.stderr, "ffatpm verify: %d of %d checks failed: %s\n", len(reasons), len(rep.Checks), strings.Join(reasons, "; "))
		return exitError
	}
	return exitOK
}

func summarizeVerify(rep *ima.Report, ev ima.Evidence, la hashalg.Alg, recs []ima.Record) verifyJSON {
	out := verifyJSON{OK: rep.OK(), Entries: rep.Entries, ListAlgorithm: la.String(), Banks: map[string]bankResult{},
		Bypass: rep.Bypass, Late: rep.Late}
	for _, c := range rep.Checks {
		out.Checks = append(out.Checks, verifyCheck{c.Name, c.OK, c.Detail})
	}
	for bank, pcrs := range ev.PCRs {
		if !bank.Available() {
			continue
		}
		replayed, err := ima.ReplayList(recs, la, bank)
		br := bankResult{}
		if err == nil {
			br.Replayed = hex.EncodeToString(replayed[ima.DefaultPCR])
			br.TPM = hex.EncodeToString(pcrs[ima.DefaultPCR])
			br.PCR10Matched = replayed[ima.DefaultPCR] != nil && bytes.Equal(replayed[ima.DefaultPCR], pcrs[ima.DefaultPCR])
		}
		out.Banks[bank.String()] = br
	}
	if len(recs) > 0 {
		out.BootAggregate.Name = recs[0].Name()
		if algo, d, ok := recs[0].FileDigest(); ok {
			out.BootAggregate.Digest = algo + ":" + hex.EncodeToString(d)
		}
		out.BootAggregate.OK = !rep.Bypass
		for _, c := range rep.Checks {
			if strings.HasPrefix(c.Name, "boot_aggregate") && !c.OK {
				out.BootAggregate.OK = false
			}
		}
	}
	if ev.EventLog != nil {
		el := &verifyEventLog{MismatchedPCRs: []int{}}
		if replayed, err := ev.EventLog.Replay(); err == nil {
			el.Replayed = true
			touched := map[int]bool{}
			for _, e := range ev.EventLog.Events {
				if e.Type != eventlog.EvNoAction && e.PCR < eventlog.NumPCRs {
					touched[int(e.PCR)] = true
				}
			}
			bad := map[int]bool{}
			for bank, pcrs := range ev.PCRs {
				p, ok := replayed[bank]
				if !ok {
					continue
				}
				for i := range touched {
					if got, ok := pcrs[i]; ok && !bytes.Equal(got, p[i]) {
						bad[i] = true
					}
				}
			}
			for i := 0; i < eventlog.NumPCRs; i++ {
				if bad[i] {
					el.MismatchedPCRs = append(el.MismatchedPCRs, i)
				}
			}
		}
		out.EventLog = el
	}
	return out
}
