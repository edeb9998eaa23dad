package reliability_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ffatpm/ffatpm/crb/crbtest"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ima/imakernel"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pcrWant says what PCR 10 holds after the boot, relative to the list.
type pcrWant int

const (
	pcrAll            pcrWant = iota + 1 // replay of the whole list (nothing half-recorded)
	pcrMinusFailed                       // replay of the list without the entries IMA reports as Failed
	pcrZero                              // TPM-bypass: nothing extended
	pcrRanFaulted                        // replay(list - failed entries + the faulted one): it ran, later ones did not
	pcrMinusAggregate                    // replay(list without boot_aggregate)
)

func (p pcrWant) String() string {
	return map[pcrWant]string{pcrAll: "replay(list)", pcrMinusFailed: "replay(list - failed entries)", pcrZero: "zero (bypass)", pcrRanFaulted: "replay(list - failed + faulted)", pcrMinusAggregate: "replay(list - boot_aggregate)"}[p]
}

type bootCase struct {
	name  string
	linux string // what Linux does, and where
	fault *bootFault
	// Both Linux and the model: the boot's verdict, kernel log lines, the
	// failed extend's error, and PCR 10.
	verdict    string // tpm | bypass
	wantLog    []string
	failReason string // substring of the faulted point's Failed reason
	failed     int    // number of Failed points (-1: at least one)
	pcr        pcrWant
	// modelPCR, when set, is what the model gives instead of pcr, for the
	// reason in modelWhy (a reported difference from Linux); the test
	// checks it unless RELIABILITY_STRICT=1, which checks pcr.
	modelPCR    pcrWant
	modelFailed int
	modelWhy    string
	// linuxOnly are lines Linux prints that the model may lack (reported,
	// not asserted); divergence, when set, names a known difference from
	// Linux: the case then reports and skips instead of failing, unless
	// RELIABILITY_STRICT=1.
	linuxOnly  []string
	divergence string
	// runs: FFA_RUN calls the driver must have made after FFA_INTERRUPT.
	runs int
}

// every applies a to each request the rule sees while armed.
func every(a crbtest.FaultAction) func(crbtest.FaultRequest, uint32) crbtest.FaultAction {
	return func(crbtest.FaultRequest, uint32) crbtest.FaultAction { return a }
}

func firstN(n int32, a crbtest.FaultAction) func(crbtest.FaultRequest, uint32) crbtest.FaultAction {
	var c atomic.Int32
	return func(crbtest.FaultRequest, uint32) crbtest.FaultAction {
		if c.Add(1) <= n {
			return a
		}
		return crbtest.FaultPass
	}
}

func onCommands(a crbtest.FaultAction) func(crbtest.FaultRequest, uint32) crbtest.FaultAction {
	return func(r crbtest.FaultRequest, _ uint32) crbtest.FaultAction {
		if r.IsCommand() {
			return a
		}
		return crbtest.FaultPass
	}
}

const target = "/bin/busybox" // the second measurement after boot_aggregate

func bootCases() []bootCase {
	engErr := func(transport.TPM) transport.TPM { return crbtest.ErrorEngine(errEngine) }
	return []bootCase{
		{name: "no fault", verdict: "tpm", pcr: pcrAll,
			linux: "baseline: v6.17 registers tpm0 before init_ima"},
		// ---- at probe ----
		{name: "ffa_init: SPMC answers RETRY to PARTITION_INFO_GET_REGS", fault: &bootFault{phase: atProbe,
			spmc: func(in ffa.Frame) (ffa.Frame, bool) {
				if in.Func() == ffa.FuncPartitionInfoGetRegs {
					return ffa.ErrorFrame(ffa.ErrRetry), true
				}
				return ffa.Frame{}, false
			}},
			linux:   "__ffa_partition_info_get_regs returns ffa_to_linux_errno(RETRY); ffa_init: \"failed to setup partitions\"; no FF-A devices, tpm_crb stays deferred; TPM-bypass",
			wantLog: []string{"failed to setup partitions", "ima: No TPM chip found, activating TPM-bypass!"},
			verdict: "bypass", pcr: pcrZero},
		{name: "ffa_init: firmware without FF-A (FFA_VERSION NOT_SUPPORTED)", fault: &bootFault{phase: atProbe,
			spmc: func(in ffa.Frame) (ffa.Frame, bool) {
				if in.Func() == ffa.FuncVersion {
					return ffa.Frame{uint64(0xffffffff)}, true // NOT_SUPPORTED in w0
				}
				return ffa.Frame{}, false
			}},
			linux:   "ffa_init: \"FFA_VERSION returned not supported\", -EOPNOTSUPP; no FF-A bus devices; TPM-bypass",
			wantLog: []string{"FFA_VERSION returned not supported", "ima: No TPM chip found, activating TPM-bypass!"},
			verdict: "bypass", pcr: pcrZero},
		{name: "probe: partition BUSY 3 times", fault: &bootFault{phase: atProbe, rule: firstN(3, crbtest.FaultBusy)},
			linux:   "tpm_crb_ffa retries -EBUSY within busy_timeout_ms: the boot is unchanged",
			verdict: "tpm", pcr: pcrAll},
		{name: "probe: partition BUSY beyond busy_timeout_ms", fault: &bootFault{phase: atProbe, rule: every(crbtest.FaultBusy)},
			linux: "tpm_crb_ffa_probe: GET_INTERFACE_VERSION -EBUSY after busy_timeout_ms, probe -EINVAL; tpm_crb_ffa_init -ENODEV, crb_acpi_add fails; init_ima: TPM-bypass",
			wantLog: []string{"Busy retry timed out", "failed to get crb interface version. rc:-16", "probe with driver ffa-crb failed with error -22",
				"ima: No TPM chip found, activating TPM-bypass!"},
			verdict: "bypass", pcr: pcrZero},
		{name: "probe: SPMC RETRY", fault: &bootFault{phase: atProbe, rule: every(crbtest.FaultRetry)},
			linux:   "ffa_to_linux_errno(RETRY) = -EAGAIN, not retried: probe fails as above",
			wantLog: []string{"failed to get crb interface version. rc:-11", "ima: No TPM chip found, activating TPM-bypass!"},
			verdict: "bypass", pcr: pcrZero},
		{name: "probe: SPMC INTERRUPTED", fault: &bootFault{phase: atProbe, rule: every(crbtest.FaultInterrupted)},
			linux:   "ffa_to_linux_errno(INTERRUPTED) = -EINTR: probe fails",
			wantLog: []string{"failed to get crb interface version. rc:-4", "ima: No TPM chip found, activating TPM-bypass!"},
			verdict: "bypass", pcr: pcrZero},
		{name: "probe: SPMC answers FFA_INTERRUPT 5 times", fault: &bootFault{phase: atProbe, interrupt: 5},
			linux:   "arm_ffa ffa_msg_send_direct_req: while (ret.a0 == FFA_INTERRUPT) FFA_RUN: the boot is unchanged",
			verdict: "tpm", pcr: pcrAll, runs: 5},
		{name: "probe: partition aborts mid-command", fault: &bootFault{phase: atProbe, rule: onCommands(crbtest.FaultAbortBefore)},
			linux: "START(command) -> FFA_ERROR(ABORTED) -> -ECANCELED from crb_send; tpm_chip_register fails; no TPM",
			wantLog: []string{"tpm_try_transmit: send(): error -125", "probe with driver tpm_crb failed with error -125",
				"ima: No TPM chip found, activating TPM-bypass!"},
			verdict: "bypass", pcr: pcrZero},
		{name: "probe: CTRL_START never cleared", fault: &bootFault{phase: atProbe, rule: onCommands(crbtest.FaultSwallow)},
			linux:   "tpm_try_transmit times out: \"Operation Timed out\", -ETIME; crb_acpi_add fails with -62",
			wantLog: []string{"Operation Timed out", "probe with driver tpm_crb failed with error -62", "ima: No TPM chip found, activating TPM-bypass!"},
			verdict: "bypass", pcr: pcrZero},
		{name: "probe: TPM engine error", fault: &bootFault{phase: atProbe, faulty: engErr},
			// tpm2_do_selftest does not stop at a negative error: it sends
			// SelfTest(full) next, and returns that result. A service whose
			// CRB is in its fatal error state refuses the START (DENIED,
			// -EACCES), so the probe ends with -13, not the first -5.
			linux: "the TPM enters its fatal error state: crb_recv -EIO (\"tpm_transmit: tpm_recv: error -5\"); tpm2_do_selftest retries with fullTest, whose START is DENIED (-EACCES); probe fails with -13; no TPM",
			wantLog: []string{"tpm_transmit: tpm_recv: error -5", "tpm_try_transmit: send(): error -13",
				"probe with driver tpm_crb failed with error -13", "ima: No TPM chip found, activating TPM-bypass!"},
			verdict: "bypass", pcr: pcrZero},
		// ---- at init_ima (boot_aggregate) ----
		{name: "boot_aggregate: partition BUSY 3 times", fault: &bootFault{phase: atAggregate, rule: firstN(3, crbtest.FaultBusy)},
			linux: "retried within busy_timeout_ms: unchanged", verdict: "tpm", pcr: pcrAll},
		{name: "boot_aggregate: extend BUSY beyond busy_timeout_ms", fault: &bootFault{phase: atAggregate, extendOnly: true, rule: every(crbtest.FaultBusy)},
			linux: "ima_add_template_entry ignores the extend result (ima_queue.c): \"ima: Error Communicating to TPM chip, result: -16\", " +
				"boot_aggregate stays in the list and IMA runs with the TPM; PCR 10 lacks boot_aggregate",
			wantLog: []string{"Busy retry timed out", "ima: Error Communicating to TPM chip, result: -16"},
			verdict: "tpm", failed: 0, pcr: pcrMinusAggregate,
		},
		// ---- one measurement (/bin/busybox) ----
		{name: "measure: extend BUSY beyond busy_timeout_ms", fault: &bootFault{phase: atMeasure, path: target, extendOnly: true, rule: every(crbtest.FaultBusy)},
			linux:      "\"Busy retry timed out\"; IMA keeps the entry, \"Error Communicating to TPM chip, result: -16\"; later measurements extend",
			wantLog:    []string{"Busy retry timed out", "ima: Error Communicating to TPM chip, result: -16"},
			failReason: "EBUSY", failed: 1, verdict: "tpm", pcr: pcrMinusFailed},
		{name: "measure: SPMC RETRY", fault: &bootFault{phase: atMeasure, path: target, extendOnly: true, rule: every(crbtest.FaultRetry)},
			linux:      "-EAGAIN from tpm_pcr_extend: \"Error Communicating to TPM chip, result: -11\"",
			wantLog:    []string{"ima: Error Communicating to TPM chip, result: -11"},
			failReason: "EAGAIN", failed: 1, verdict: "tpm", pcr: pcrMinusFailed},
		{name: "measure: SPMC INTERRUPTED", fault: &bootFault{phase: atMeasure, path: target, extendOnly: true, rule: every(crbtest.FaultInterrupted)},
			linux:      "-EINTR from tpm_pcr_extend",
			wantLog:    []string{"ima: Error Communicating to TPM chip, result: -4"},
			failReason: "EINTR", failed: 1, verdict: "tpm", pcr: pcrMinusFailed},
		{name: "measure: SPMC answers FFA_INTERRUPT 3 times", fault: &bootFault{phase: atMeasure, path: target, interrupt: 3},
			linux:   "resumed with FFA_RUN: measured as usual",
			verdict: "tpm", pcr: pcrAll, runs: 3},
		{name: "measure: partition aborts before the TPM runs the extend", fault: &bootFault{phase: atMeasure, path: target, extendOnly: true, rule: every(crbtest.FaultAbortBefore)},
			linux:      "-ECANCELED; the PCR was not extended: the list has an entry PCR 10 lacks (IMA flags it only in the log/audit)",
			wantLog:    []string{"tpm_try_transmit: send(): error -125", "ima: Error Communicating to TPM chip, result: -125"},
			failReason: "ECANCELED", failed: 1, verdict: "tpm", pcr: pcrMinusFailed},
		{name: "measure: partition aborts after the TPM ran the extend", fault: &bootFault{phase: atMeasure, path: target, extendOnly: true, rule: every(crbtest.FaultAbortAfter)},
			linux:      "-ECANCELED although the TPM extended: the list still replays to PCR 10, but IMA reports a failure",
			wantLog:    []string{"ima: Error Communicating to TPM chip"},
			failReason: "ECANCELED", failed: 1, verdict: "tpm", pcr: pcrAll},
		{name: "measure: CTRL_START never cleared", fault: &bootFault{phase: atMeasure, path: target, extendOnly: true, rule: every(crbtest.FaultSwallow)},
			linux:      "\"Operation Timed out\", -ETIME; \"Error Communicating to TPM chip, result: -62\"",
			wantLog:    []string{"Operation Timed out", "ima: Error Communicating to TPM chip, result: -62"},
			failReason: "ETIME", failed: 1, verdict: "tpm", pcr: pcrMinusFailed},
		{name: "measure: TPM engine error", fault: &bootFault{phase: atMeasure, path: target, faulty: engErr},
			linux:      "fatal error state: crb_recv -EIO; every later command is refused: later measurements fail too",
			wantLog:    []string{"tpm_transmit: tpm_recv: error -5", "ima: Error Communicating to TPM chip, result: -5"},
			failReason: "EIO", failed: -1, verdict: "tpm", pcr: pcrMinusFailed},
		{name: "measure: TPM engine truncated response", fault: &bootFault{phase: atMeasure, path: target,
			faulty: func(n transport.TPM) transport.TPM { return crbtest.TruncatingEngine(n, 12) }},
			linux:      "the extend ran but its response is cut: fatal error state, -EIO; PCR 10 includes the faulted entry, later entries fail",
			wantLog:    []string{"ima: Error Communicating to TPM chip"},
			failReason: "EIO", failed: -1, verdict: "tpm", pcr: pcrRanFaulted},
		{name: "measure: TPM response code TPM_RC_FAILURE", fault: &bootFault{phase: atMeasure, path: target,
			faulty: func(transport.TPM) transport.TPM { return crbtest.RCEngine(0x101) }},
			linux:      "tpm_transmit_cmd: \"A TPM error (257) occurred attempting extend a PCR value\"; IMA \"result: 257\"",
			wantLog:    []string{"tpm tpm0: A TPM error (257) occurred attempting extend a PCR value", "ima: Error Communicating to TPM chip, result: 257"},
			failReason: "TPM_RC_FAILURE", failed: 1, verdict: "tpm", pcr: pcrMinusFailed},
	}
}

// TestBootFaults boots the whole chain with each fault and checks the
// kernel's report, the boot's outcome and what the IMA list replays to.
func TestBootFaults(t *testing.T) {
	strict := os.Getenv("RELIABILITY_STRICT") == "1"
	for _, tc := range bootCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := bootWith(t, tc.fault)
			var reasons []string
			for _, p := range r.x.Points() {
				if p.Status == imakernel.Failed {
					reasons = append(reasons, p.Path+": "+p.Reason)
				}
			}
			t.Logf("linux: %s", tc.linux)
			t.Logf("observed: verdict=%s %s chip=%v end=%v ima-err=%v", r.verdict(), r.counts(), r.res.Chip != nil, r.res.End, r.x.Err())
			for _, l := range grep(r.log, "tpm") {
				t.Logf("  %s", l)
			}
			for _, l := range grep(r.log, "ima:") {
				t.Logf("  %s", l)
			}
			var gaps []string
			for _, l := range tc.linuxOnly {
				if !strings.Contains(r.log, l) {
					t.Logf("GAP: Linux prints %q; the model does not", l)
					gaps = append(gaps, "`"+l+"`")
				}
			}
			var shown []string
			for _, l := range strings.Split(r.log, "\n") {
				for _, k := range []string{"failed with error", "Busy retry", "timed out", "Timed out", "ima: No TPM", "ima: Error", "A TPM error", "failed to get"} {
					if strings.Contains(l, k) {
						if i := strings.Index(l, "] "); i >= 0 {
							l = l[i+2:]
						}
						shown = append(shown, "`"+l+"`")
						break
					}
				}
			}
			if len(shown) > 4 {
				shown = append(shown[:4], fmt.Sprintf("(+%d more)", len(shown)-4))
			}
			defer func() {
				if t.Failed() {
					return
				}
				pcrDesc := "="
				pcr := r.pcr10(t)
				switch {
				case r.verdict() == "bypass" && bytes.Equal(pcr, make([]byte, 32)):
					pcrDesc = "zero (TPM-bypass, list unprotected)"
				case bytes.Equal(pcr, r.replay10(nil)):
					pcrDesc = "replay(list)"
				case bytes.Equal(pcr, r.replay10(r.failedEntries())):
					pcrDesc = "replay(list - Failed entries)"
				case tc.pcr == pcrRanFaulted:
					pcrDesc = "replay(list - Failed entries + the faulted one, which ran)"
				default:
					pcrDesc = "other"
				}
				diff := tc.divergence
				if diff == "" {
					diff = tc.modelWhy
				}
				appendRow(t, tc.name, r.verdict(), fmt.Sprint(r.x.Count(imakernel.Failed)), strings.Join(shown, " "), pcrDesc,
					strings.Join(gaps, " "), diff, "`TestBootFaults/"+tc.name+"`")
			}()
			if tc.divergence != "" && !strict {
				t.Skipf("known divergence from Linux (set RELIABILITY_STRICT=1 to enforce): %s", tc.divergence)
			}
			require.Empty(t, r.res.Panic, "no kernel panic")
			assert.Equal(t, tc.runs, r.ic.Runs(), "FFA_RUN after FFA_INTERRUPT")
			assert.NotZero(t, r.res.End, "the boot reaches /init")
			assert.Equal(t, tc.verdict, r.verdict(), "IMA verdict")
			for _, l := range tc.wantLog {
				assert.Contains(t, r.log, l)
			}
			nf := r.x.Count(imakernel.Failed)
			wantFailed, wantPCR := tc.failed, tc.pcr
			if tc.modelWhy != "" && !strict {
				t.Logf("DIFFERENCE from Linux (model checked; RELIABILITY_STRICT=1 checks Linux's): %s", tc.modelWhy)
				if tc.modelPCR != 0 {
					wantPCR = tc.modelPCR
				}
				if tc.modelFailed != 0 {
					wantFailed = tc.modelFailed
				}
			}
			switch {
			case wantFailed < 0:
				assert.Positive(t, nf, "failed measurements")
			default:
				assert.Equal(t, wantFailed, nf, "failed measurements: %v", reasons)
			}
			if tc.failReason != "" {
				found := false
				for _, rs := range reasons {
					if strings.HasPrefix(rs, target+":") {
						found = true
						assert.Contains(t, rs, tc.failReason)
					}
				}
				assert.True(t, found, "%s is reported Failed", target)
			}
			if tc.verdict == "bypass" {
				assert.Contains(t, r.log, "ima: No TPM chip found, activating TPM-bypass!")
			}
			pcr := r.pcr10(t)
			t.Logf("PCR 10 check: %v", wantPCR)
			switch wantPCR {
			case pcrAll:
				assert.True(t, bytes.Equal(pcr, r.replay10(nil)), "PCR 10 = replay of the whole list")
				if nf == 0 {
					rep := r.verify(t)
					assert.True(t, rep.OK(), "verifier: %v", rep.Failed())
				}
			case pcrMinusFailed:
				assert.True(t, bytes.Equal(pcr, r.replay10(r.failedEntries())), "PCR 10 = replay of the list without the failed entries")
				if nf > 0 {
					assert.False(t, bytes.Equal(pcr, r.replay10(nil)), "the failed entries are not in PCR 10")
				}
			case pcrRanFaulted:
				skip := r.failedEntries()
				for i, e := range r.x.State().List().Entries() {
					if entryName(e) == target {
						delete(skip, i)
					}
				}
				assert.True(t, bytes.Equal(pcr, r.replay10(skip)), "PCR 10 = replay of the list up to and including the faulted extend")
			case pcrMinusAggregate:
				assert.True(t, bytes.Equal(pcr, r.replay10(map[int]bool{0: true})), "PCR 10 = replay of the list without boot_aggregate")
			case pcrZero:
				assert.Equal(t, make([]byte, 32), pcr, "PCR 10 untouched in TPM-bypass")
				rep := r.verify(t)
				assert.True(t, rep.Bypass, "the verifier sees TPM-bypass")
			}
		})
	}
}
