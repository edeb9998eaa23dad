package reliability_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/crbtest"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Linux errno values the faults end in (include/uapi/asm-generic/errno*.h).
const (
	eINTR      = -4
	eIO        = -5
	eAGAIN     = -11
	eBUSY      = -16
	eNOEXEC    = -8
	eACCES     = -13
	eTIME      = -62
	eCANCELED  = -125
	tpmRCCancl = 0x909
	rcFailure  = 0x101 // TPM_RC_FAILURE
)

// faultCase is one injected fault at the layers below the kernel: the TPM
// partition behind the SPMC, the SPMC's answer, the CRB protocol, or the
// TPM engine. The fault is armed for exactly one PCR_Extend (IMA's
// measurement "file-1"), after a clean extend ("boot_aggregate") and before
// a clean one ("file-2"), so each case also shows whether the chip recovers
// and what PCR 10 holds afterwards.
type faultCase struct {
	name string
	// linux says what tpm_crb / tpm_crb_ffa / the TPM core do, with the
	// kernel source the expectation comes from.
	linux   string
	rule    func(r crbtest.FaultRequest) crbtest.FaultAction // partition fault while armed
	engine  func(normal transport.TPM) transport.TPM         // engine for PCR_Extend while armed
	conduit bool                                             // FFA_INTERRUPT + FFA_RUN instead of a partition fault
	busyTO  time.Duration
	idle    bool
	cancel  crbtest.FaultAction // with cancelAt: the action for the cancel's START
	// cancelAt > 0: the chip's cancel (sysfs "cancel") runs at the n-th
	// poll sleep of the armed command.
	cancelAt int

	wantErrno int    // 0: the extend succeeds
	wantRC    uint32 // TPM response code go-tpm reports (0: none)
	wantLog   string // a log line Linux prints ("" = none required)
	noLog     string // a log line that must not appear
	minTime   time.Duration
	// tpmExtended says whether the TPM extended PCR 10 with file-1 even
	// though the fault happened.
	tpmExtended bool
	// recovers: file-2 goes through afterwards; otherwise it fails with
	// afterErrno and, when fatal, CTRL_STS.tpmSts is set.
	recovers   bool
	afterErrno int
	fatal      bool
}

func faultCases() []faultCase {
	cmdOnly := func(a crbtest.FaultAction) func(crbtest.FaultRequest) crbtest.FaultAction {
		return func(r crbtest.FaultRequest) crbtest.FaultAction {
			if r.IsCommand() {
				return a
			}
			return crbtest.FaultPass
		}
	}
	var busyN atomic.Int32
	return []faultCase{
		{
			name:  "partition BUSY 3 times",
			linux: "tpm_crb_ffa.c __tpm_crb_ffa_send_receive retries -EBUSY within busy_timeout_ms (usleep_range(50,100))",
			rule: func(r crbtest.FaultRequest) crbtest.FaultAction {
				if r.IsCommand() && busyN.Add(1) <= 3 {
					return crbtest.FaultBusy
				}
				return crbtest.FaultPass
			},
			noLog: "Busy retry timed out", tpmExtended: true, recovers: true,
			minTime: 300 * time.Microsecond,
		},
		{
			name:      "partition BUSY beyond busy_timeout_ms (default 2000 ms)",
			linux:     "tpm_crb_ffa.c: dev_warn \"Busy retry timed out\", -EBUSY; tpm-interface.c tpm_try_transmit: \"send(): error -16\"",
			rule:      cmdOnly(crbtest.FaultBusy),
			wantErrno: eBUSY, wantLog: "tpm_try_transmit: send(): error -16", minTime: crbdrv.DefaultBusyTimeout,
			recovers: true,
		},
		{
			name:      "partition BUSY beyond busy_timeout_ms=50",
			linux:     "same, with the module parameter busy_timeout_ms=50",
			rule:      cmdOnly(crbtest.FaultBusy),
			busyTO:    50 * time.Millisecond,
			wantErrno: eBUSY, wantLog: "Busy retry timed out", minTime: 50 * time.Millisecond,
			recovers: true,
		},
		{
			name:      "SPMC FFA_ERROR(RETRY)",
			linux:     "arm_ffa driver.c ffa_to_linux_errno: RETRY -> -EAGAIN; tpm_crb_ffa retries only -EBUSY",
			rule:      cmdOnly(crbtest.FaultRetry),
			wantErrno: eAGAIN, wantLog: "send(): error -11", recovers: true,
		},
		{
			name:      "SPMC FFA_ERROR(INTERRUPTED)",
			linux:     "ffa_to_linux_errno: INTERRUPTED -> -EINTR",
			rule:      cmdOnly(crbtest.FaultInterrupted),
			wantErrno: eINTR, wantLog: "send(): error -4", recovers: true,
		},
		{
			name:        "SPMC FFA_INTERRUPT, resumed with FFA_RUN",
			linux:       "arm_ffa driver.c ffa_msg_send_direct_req: while (ret.a0 == FFA_INTERRUPT) FFA_RUN",
			conduit:     true,
			tpmExtended: true, recovers: true,
		},
		{
			name:      "partition aborts before the TPM runs the command",
			linux:     "SPMC answers FFA_ERROR(ABORTED) -> -ECANCELED; CTRL_START stays set",
			rule:      cmdOnly(crbtest.FaultAbortBefore),
			wantErrno: eCANCELED, wantLog: "send(): error -125", recovers: true,
		},
		{
			name:      "partition aborts after the TPM ran the command",
			linux:     "-ECANCELED to the caller although the TPM extended the PCR",
			rule:      cmdOnly(crbtest.FaultAbortAfter),
			wantErrno: eCANCELED, wantLog: "send(): error -125", tpmExtended: true, recovers: true,
		},
		{
			name:      "CTRL_START never cleared",
			linux:     "tpm_try_transmit polls crb_status for the ordinal duration (PCR_Extend: TPM2_DURATION_MEDIUM 750 ms), then ops->cancel, \"Operation Timed out\", -ETIME",
			rule:      cmdOnly(crbtest.FaultSwallow),
			wantErrno: eTIME, wantLog: "Operation Timed out", minTime: crbdrv.DurationMedium,
			recovers: true,
		},
		{
			name:  "cmdReady never cleared (idle patch)",
			linux: "tpm_crb.c __crb_cmd_ready: crb_wait_for_reg_32(ctrl_req, CRB_CTRL_REQ_CMD_READY, 0, TPM2_TIMEOUT_C) fails: \"cmdReady timed out\", -ETIME",
			idle:  true,
			rule: func(r crbtest.FaultRequest) crbtest.FaultAction {
				if r.IsCtrlReq() {
					return crbtest.FaultSwallow
				}
				return crbtest.FaultPass
			},
			wantErrno: eTIME, wantLog: "cmdReady timed out", minTime: crbdrv.TimeoutC,
			// A later CTRL_REQ request supersedes the one the TPM did not
			// take, so the next command goes through.
			recovers: true,
		},
		{
			name:      "cancel during a command; the TPM ignores it",
			linux:     "tpm_try_transmit: req_canceled (CTRL_CANCEL reads 1) before completion: \"Operation Canceled\", -ECANCELED",
			rule:      cmdOnly(crbtest.FaultSwallow),
			cancelAt:  3,
			cancel:    crbtest.FaultSwallow,
			wantErrno: eCANCELED, wantLog: "Operation Canceled", recovers: true,
		},
		{
			name:        "cancel during a command; the TPM honours it",
			linux:       "the TPM completes with TPM_RC_CANCELED; tpm_transmit_cmd returns the RC (0x909)",
			rule:        cmdOnly(crbtest.FaultSwallow),
			cancelAt:    3,
			cancel:      crbtest.FaultPass,
			wantRC:      tpmRCCancl,
			noLog:       "Operation Canceled",
			tpmExtended: false, recovers: true,
		},
		{
			name:  "TPM engine error",
			linux: "the TPM enters its fatal error state (CTRL_STS.tpmSts); crb_recv -EIO: \"tpm_transmit: tpm_recv: error -5\"; later STARTs are DENIED (-EACCES) until a reset",
			engine: func(transport.TPM) transport.TPM {
				return crbtest.ErrorEngine(errors.New("injected engine error: connection reset"))
			},
			wantErrno: eIO, wantLog: "tpm_recv: error -5", afterErrno: eACCES, fatal: true,
		},
		{
			name:      "TPM engine truncated response",
			linux:     "the partition refuses a response shorter than its header says: fatal error state, crb_recv -EIO",
			engine:    func(n transport.TPM) transport.TPM { return crbtest.TruncatingEngine(n, 12) },
			wantErrno: eIO, wantLog: "tpm_recv: error -5", tpmExtended: true, afterErrno: eACCES, fatal: true,
		},
		{
			name:      "TPM engine response shorter than a header",
			linux:     "as above",
			engine:    func(n transport.TPM) transport.TPM { return crbtest.TruncatingEngine(n, 4) },
			wantErrno: eIO, wantLog: "tpm_recv: error -5", afterErrno: eACCES, fatal: true,
		},
		{
			name:     "TPM response code from the engine (TPM_RC_FAILURE)",
			linux:    "not a transport error: tpm_transmit_cmd returns the RC; the caller (tpm2_pcr_extend) reports it",
			engine:   func(transport.TPM) transport.TPM { return crbtest.RCEngine(rcFailure) },
			wantRC:   rcFailure,
			recovers: true,
		},
	}
}

// TestFaultsBelowKernel injects each fault into the chain below the kernel
// and checks what the Linux driver model reports.
func TestFaultsBelowKernel(t *testing.T) {
	for _, tc := range faultCases() {
		t.Run(tc.name, func(t *testing.T) {
			cfg := rigConfig{idle: tc.idle, busyTimeout: tc.busyTO, faulty: tc.engine}
			var cancelPhase atomic.Bool
			if tc.rule != nil {
				cfg.rule = func(r crbtest.FaultRequest) crbtest.FaultAction {
					if cancelPhase.Load() && r.Func == crb.FuncStart && r.Qualifier == crb.QualifierCommand {
						return tc.cancel
					}
					return tc.rule(r)
				}
			}
			r, err := newRig(t, cfg)
			require.NoError(t, err, "open the chip (faults are armed later)")
			require.NoError(t, extend(r.chip, 10, "boot_aggregate"))

			var armed atomic.Bool
			if tc.cancelAt > 0 {
				r.clock.mu.Lock()
				base := r.clock.sleeps
				r.clock.onSleep = func(n int) {
					if armed.Load() && n == base+tc.cancelAt {
						cancelPhase.Store(true)
						_ = r.chip.Cancel()
					}
				}
				r.clock.mu.Unlock()
			}
			if tc.conduit {
				r.ic.Interrupt(3)
			}
			t0 := r.clock.Now()
			armed.Store(true)
			r.arm()
			ferr := extend(r.chip, 10, "file-1")
			r.disarm()
			armed.Store(false)
			cancelPhase.Store(false)
			elapsed := r.clock.Now() - t0
			t.Logf("injector: %v", r.inj.Log())

			errno := crbdrv.Errno(ferr)
			var rc tpm2.TPMRC
			hasRC := errors.As(ferr, &rc)
			if hasRC {
				errno = 0
			}
			t.Logf("observed: err=%v errno=%d (%s) rc=%#x virtual-time=%v", ferr, errno, crbdrv.ErrnoName(errno), uint32(rc), elapsed)
			t.Logf("driver log:\n%s", r.logText())
			outcome := "ok"
			switch {
			case hasRC:
				outcome = fmt.Sprintf("TPM RC %#x to the caller", uint32(rc))
			case ferr != nil:
				outcome = fmt.Sprintf("%d (%s)", errno, crbdrv.ErrnoName(errno))
			}
			var lines []string
			for _, l := range strings.Split(r.logText(), "\n") {
				if strings.HasPrefix(l, "err: ") || strings.HasPrefix(l, "warn: ") {
					lines = append(lines, "`"+l+"`")
				}
			}
			next, after := "", ""
			defer func() {
				if !t.Failed() {
					appendRow(t, tc.name, outcome, strings.Join(lines, " "), elapsed.String(), next, after, "`TestFaultsBelowKernel/"+tc.name+"`")
				}
			}()

			switch {
			case tc.wantRC != 0:
				require.True(t, hasRC, "want TPM RC %#x, got %v", tc.wantRC, ferr)
				assert.Equal(t, tc.wantRC, uint32(rc))
			case tc.wantErrno != 0:
				require.Error(t, ferr)
				var de *crbdrv.Error
				require.True(t, errors.As(ferr, &de), "the driver's *crbdrv.Error reaches the caller: %v", ferr)
				assert.Equal(t, tc.wantErrno, errno, "errno (%s)", crbdrv.ErrnoName(tc.wantErrno))
			default:
				require.NoError(t, ferr)
			}
			if tc.wantLog != "" {
				assert.Contains(t, r.logText(), tc.wantLog)
			}
			if tc.noLog != "" {
				assert.NotContains(t, r.logText(), tc.noLog)
			}
			assert.GreaterOrEqual(t, elapsed, tc.minTime, "virtual time spent")
			if tc.conduit {
				assert.Equal(t, 3, r.ic.Runs(), "FFA_RUN calls after FFA_INTERRUPT")
			}

			// Recovery: the next measurement.
			rerr := extend(r.chip, 10, "file-2")
			t.Logf("recovery extend: %v", rerr)
			next = "ok"
			if rerr != nil {
				next = fmt.Sprintf("%d (%s)", crbdrv.Errno(rerr), crbdrv.ErrnoName(crbdrv.Errno(rerr)))
				if r.p.Device.Snapshot(0).CtrlSts&crb.CtrlStsTPMSts != 0 {
					next += ", TPM in fatal error"
				}
			}
			if tc.recovers {
				require.NoError(t, rerr, "the chip recovers")
			} else {
				require.Error(t, rerr, "the chip does not recover")
				assert.Equal(t, tc.afterErrno, crbdrv.Errno(rerr), "errno of the next command")
				st := r.p.Device.Snapshot(0)
				assert.Equal(t, tc.fatal, st.CtrlSts&crb.CtrlStsTPMSts != 0, "CTRL_STS.tpmSts (fatal error)")
				return
			}
			// What PCR 10 holds: does a list with or without file-1 replay?
			pcr, err := readPCR(r.chip, 10)
			require.NoError(t, err)
			with := replay("boot_aggregate", "file-1", "file-2")
			without := replay("boot_aggregate", "file-2")
			switch {
			case bytes.Equal(pcr, with):
				t.Logf("PCR 10 = replay(boot_aggregate, file-1, file-2)")
				after = "has file-1"
				assert.True(t, tc.tpmExtended, "file-1 reached the TPM")
			case bytes.Equal(pcr, without):
				t.Logf("PCR 10 = replay(boot_aggregate, file-2)")
				after = "lacks file-1"
				assert.False(t, tc.tpmExtended, "file-1 did not reach the TPM")
			default:
				t.Fatalf("PCR 10 %x matches no replay", pcr)
			}
		})
	}
}

// TestFaultDeterminism: the same fault twice gives the same driver log and
// virtual time, byte for byte.
func TestFaultDeterminism(t *testing.T) {
	run := func() string {
		r, err := newRig(t, rigConfig{rule: func(q crbtest.FaultRequest) crbtest.FaultAction {
			if q.IsCommand() {
				return crbtest.FaultBusy
			}
			return crbtest.FaultPass
		}, busyTimeout: 10 * time.Millisecond})
		require.NoError(t, err)
		r.arm()
		err = extend(r.chip, 10, "x")
		r.disarm()
		out := fmt.Sprintf("%v|%v|%s", err, r.clock.Now(), r.logText())
		require.NoError(t, r.p.Close())
		return out
	}
	a, b := run(), run()
	require.Equal(t, a, b)
}

// TestCRBTestFaults drives the crb engineer's own fakes (crbtest.Faults)
// from power-on: these faults are active while the driver probes, so they
// show what probing does with them.
func TestCRBTestFaults(t *testing.T) {
	cases := []struct {
		name      string
		faults    func() *crbtest.Faults
		openErrno int    // 0: Open succeeds
		openLog   string // a line the driver prints
		extErrno  int    // errno of the first extend after Open
	}{
		{name: "BusyFirst=3", faults: func() *crbtest.Faults { return &crbtest.Faults{BusyFirst: 3} }},
		{name: "BusyAlways (probe)", faults: func() *crbtest.Faults { return &crbtest.Faults{BusyAlways: true} },
			openErrno: -22, openLog: "failed to get crb interface version. rc:-16"},
		{name: "AbortCommand=1", faults: func() *crbtest.Faults { return &crbtest.Faults{AbortCommand: 1} }, extErrno: eCANCELED},
		{name: "SwallowCommands (Init's locality/cmd path still works)", faults: func() *crbtest.Faults { return &crbtest.Faults{SwallowCommands: true} }, extErrno: eTIME},
		{name: "Status=DENIED on every START", faults: func() *crbtest.Faults { return &crbtest.Faults{Status: crb.StatusDenied} },
			openErrno: eACCES},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.faults()
			p, err := platform.New(platform.Config{SimulatorSeed: seed, WrapHandler: f.Wrap})
			require.NoError(t, err)
			defer p.Close()
			var logs []string
			chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea(),
				Log: func(l, m string) { logs = append(logs, l+": "+m) }})
			calls, busy := f.Counts()
			t.Logf("open: err=%v errno=%d; %d requests, %d BUSY; log %q", err, crbdrv.Errno(err), calls, busy, logs)
			if tc.openErrno != 0 {
				require.Error(t, err)
				assert.Equal(t, tc.openErrno, crbdrv.Errno(err))
				if tc.openLog != "" {
					assert.Contains(t, strings.Join(logs, "\n"), tc.openLog)
				}
				return
			}
			require.NoError(t, err)
			err = extend(chip, 10, "file-1")
			t.Logf("extend: %v", err)
			if tc.extErrno == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.extErrno, crbdrv.Errno(err))
		})
	}
}
