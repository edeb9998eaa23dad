// Package reliability_test boots the whole chain (firmware, FF-A, SPMC, TPM
// partition, CRB, TPM engine, the kernel model and IMA) with faults injected
// through crb/crbtest's fakes, and checks what the kernel reports, whether
// the boot goes on as Linux's would, and what the measurement list written
// during the boot replays to.
package reliability_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbtest"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/eventlog"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imakernel"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/require"
)

const (
	seed        = 0x1ab
	ccPCRExtend = 0x182
)

// phase is when a fault is armed during the boot.
type phase int

const (
	atProbe     phase = iota + 1 // from power-on until tpm0 is registered (driver probe, auto-startup)
	atIMA                        // from init_ima on (boot_aggregate and every measurement)
	atAggregate                  // while init_ima runs (boot_aggregate's PCR reads and extend)
	atMeasure                    // while IMA measures bootFault.path
)

func (p phase) String() string {
	return map[phase]string{atProbe: "probe", atIMA: "ima", atAggregate: "boot_aggregate", atMeasure: "measure"}[p]
}

// bootFault is one fault for a whole boot.
type bootFault struct {
	phase phase
	// rule is the partition fault (crbtest.Injector) while armed.
	rule func(r crbtest.FaultRequest, cc uint32) crbtest.FaultAction
	// faulty is the engine PCR_Extend commands go to while armed.
	faulty func(normal transport.TPM) transport.TPM
	// extendOnly limits rule to START(command) carrying TPM2_PCR_Extend.
	extendOnly bool
	// path is the measurement point atMeasure faults.
	path string
	// interrupt: while armed, the next n direct requests come back as
	// FFA_INTERRUPT (the driver resumes them with FFA_RUN).
	interrupt int
	// spmc, when set, answers for the SPMC: it sees each normal-world call
	// while armed and returns (answer, true) to replace the SPMC's.
	spmc func(in ffa.Frame) (ffa.Frame, bool)
}

// spmcFault puts a bootFault's SPMC answers in front of the conduit.
type spmcFault struct {
	inner ffa.Conduit
	armed func() bool
	f     func(ffa.Frame) (ffa.Frame, bool)
}

func (s spmcFault) Call(in ffa.Frame) ffa.Frame {
	if s.armed() {
		if out, ok := s.f(in); ok {
			return out
		}
	}
	return s.inner.Call(in)
}

// bootRun is what one boot produced.
type bootRun struct {
	res    *kernel.Result
	x      *imakernel.IMA
	eng    *ima.TPM // the TPM seen directly, as a verifier's quote sees it
	elog   *eventlog.Log
	log    string
	inj    *crbtest.Injector
	engine *crbtest.SwitchEngine
	ic     *crbtest.InterruptingConduit
}

// bootWith boots the default preset (v6.17: both seed-002 fixes, so the TPM
// chip is registered before init_ima) with the fault armed during its phase.
func bootWith(t *testing.T, f *bootFault) *bootRun {
	t.Helper()
	sim, err := engine.OpenSimulator(engine.SimulatorOptions{Seed: seed})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	sw := &crbtest.SwitchEngine{Normal: sim, Faulty: sim}
	if f != nil && f.phase != atProbe {
		sw.Match = func(cc uint32) bool { return cc == ccPCRExtend }
	}
	inj := &crbtest.Injector{}
	var p *platform.Platform
	if f != nil {
		if f.faulty != nil {
			sw.Faulty = f.faulty(sim)
		}
		if f.rule != nil {
			inj.Rule = func(r crbtest.FaultRequest) crbtest.FaultAction {
				cc := commandCode(p)
				// A transient fault hits the START that carries the extend
				// (and its retries), not the cmdReady/goIdle STARTs around it.
				if f.extendOnly && (!r.IsCommand() || cc != ccPCRExtend || p.Device.Snapshot(0).CtrlReq != 0) {
					return crbtest.FaultPass
				}
				return f.rule(r, cc)
			}
		}
	}
	p, err = platform.New(platform.Config{Engine: sw, WrapHandler: inj.Wrap})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	inj.Device = func() *crb.Device { return p.Device }

	r := &bootRun{inj: inj, engine: sw}
	r.elog, err = imakernel.MeasureFirmware(p.Engine, eventlog.Images{})
	require.NoError(t, err)
	kp, err := kerneltest.KernelPlatform(p)
	require.NoError(t, err)
	r.ic = &crbtest.InterruptingConduit{Inner: kp.Conduit}
	kp.Conduit = r.ic
	var spmcArmed atomic.Bool
	if f != nil && f.spmc != nil {
		kp.Conduit = spmcFault{inner: r.ic, armed: spmcArmed.Load, f: f.spmc}
	}
	pr, ok := kernel.LookupPreset(kernel.DefaultPreset)
	require.True(t, ok)
	spec := pr.Spec(kp)
	spec.UserspaceExecs = []string{"/init", "/bin/busybox", "/sbin/init"}
	arm := func() {
		inj.Arm()
		sw.Arm()
		spmcArmed.Store(true)
		if f != nil && f.interrupt > 0 {
			r.ic.Interrupt(f.interrupt)
		}
	}
	disarm := func() { inj.Disarm(); sw.Disarm(); spmcArmed.Store(false) }
	if f != nil {
		switch f.phase {
		case atProbe:
			arm()
			spec.Hooks.Event = func(ev kernel.Event) {
				if ev.Kind == kernel.EvChipRegister || (ev.Kind == kernel.EvInitcallStart && ev.Initcall == imakernel.InitcallInitIMA) {
					disarm()
				}
			}
		case atIMA, atAggregate:
			spec.Hooks.Event = func(ev kernel.Event) {
				if ev.Initcall != imakernel.InitcallInitIMA {
					return
				}
				switch {
				case ev.Kind == kernel.EvInitcallStart:
					arm()
				case ev.Kind == kernel.EvInitcallReturn && f.phase == atAggregate:
					disarm()
				}
			}
		}
	}
	r.x = imakernel.New(imakernel.Options{Files: ima.EmbeddedFiles()})
	r.x.Install(&spec)
	if f != nil && f.phase == atMeasure {
		inner := spec.Hooks.Measure
		spec.Hooks.Measure = func(k *kernel.Kernel, m kernel.Measurement) {
			if m.Path == f.path {
				arm()
				defer disarm()
			}
			inner(k, m)
		}
	}
	r.res, err = kernel.Boot(spec)
	require.NoError(t, err, "the kernel model itself must not fail")
	disarm()
	r.log = r.res.FormatLog()
	r.eng, err = ima.NewTPM(sim)
	require.NoError(t, err)
	return r
}

// commandCode reads the command code in locality 0's CRB buffer with the
// partition's (secure) view.
func commandCode(p *platform.Platform) uint32 {
	if p == nil {
		return 0
	}
	s := p.Bus.Accessor(phys.Secure)
	a := p.Device.BufferAddr(0)
	lo, err1 := s.Read(a+4, 4) // bytes 4..7, little endian
	hi, err2 := s.Read(a+8, 4) // bytes 8..11
	if err1 != nil || err2 != nil {
		return 0
	}
	b := []byte{byte(lo >> 16), byte(lo >> 24), byte(hi), byte(hi >> 8)} // bytes 6..9
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// pcr10 is what PCR 10 (SHA-256 bank) holds after the boot.
func (r *bootRun) pcr10(t *testing.T) []byte {
	t.Helper()
	v, err := r.eng.Read(10, hashalg.SHA256)
	require.NoError(t, err)
	return v
}

// replay10 replays the list's PCR 10 entries in the SHA-256 bank, leaving
// out the entries whose index is in skip.
func (r *bootRun) replay10(skip map[int]bool) []byte {
	st := r.x.State()
	pcr := make([]byte, 32)
	if st == nil {
		return pcr
	}
	l := st.List()
	for i, e := range l.Entries() {
		if e.PCR != 10 || skip[i] {
			continue
		}
		h := sha256.New()
		h.Write(pcr)
		h.Write(e.Digest(l, hashalg.SHA256))
		pcr = h.Sum(nil)
	}
	return pcr
}

// failedEntries maps list indices to true for measurement points IMA
// reports as Failed (listed, extend failed). The list holds boot_aggregate
// first, then measured points in order.
func (r *bootRun) failedEntries() map[int]bool {
	out := map[int]bool{}
	st := r.x.State()
	if st == nil {
		return out
	}
	names := map[string][]int{}
	for i, e := range st.List().Entries() {
		n := entryName(e)
		names[n] = append(names[n], i)
	}
	for _, p := range r.x.Points() {
		if p.Status == imakernel.Failed {
			for _, i := range names[p.Path] {
				out[i] = true
			}
		}
	}
	return out
}

func entryName(e ima.Entry) string {
	for _, f := range e.Fields {
		if f.ID == ima.FieldNNG || f.ID == ima.FieldN {
			return strings.TrimRight(string(f.Data), "\x00")
		}
	}
	return ""
}

// verify checks the binary list as a remote verifier would, against the
// TPM's PCRs and the firmware event log.
func (r *bootRun) verify(t *testing.T) *ima.Report {
	t.Helper()
	var bin bytes.Buffer
	require.NoError(t, r.x.State().List().WriteBinary(&bin, hashalg.SHA1))
	recs, err := ima.ParseBinary(bin.Bytes(), 20)
	require.NoError(t, err)
	ev := ima.Evidence{Lists: map[hashalg.Alg][]ima.Record{hashalg.SHA1: recs}, PCRs: map[hashalg.Alg]ima.PCRValues{}, EventLog: r.elog}
	all, err := ima.ReadAll(r.eng, 24)
	require.NoError(t, err)
	for a, vals := range all {
		p := ima.PCRValues{}
		for i, v := range vals {
			p[i] = v
		}
		ev.PCRs[a] = p
	}
	return ima.Verify(ev)
}

func (r *bootRun) verdict() string {
	switch {
	case r.x.State() == nil:
		return "no-ima"
	case !r.x.SawChip():
		return "bypass"
	}
	return "tpm"
}

func (r *bootRun) counts() string {
	var parts []string
	for _, s := range []imakernel.Status{imakernel.Measured, imakernel.Unprotected, imakernel.Lost, imakernel.Failed} {
		parts = append(parts, fmt.Sprintf("%s=%d", s, r.x.Count(s)))
	}
	return strings.Join(parts, " ")
}

// grep returns the log lines containing s.
func grep(log, s string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

var tableFile = flag.String("reliability.table", "", "append each boot fault's observed outcome as a Markdown table row to this file (docs/reliability.md)")

// appendRow appends one Markdown table row to -reliability.table.
func appendRow(t *testing.T, cells ...string) {
	t.Helper()
	if *tableFile == "" {
		return
	}
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(strings.ReplaceAll(c, "|", "\\|"), "\n", "; ")
	}
	f, err := os.OpenFile(*tableFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer f.Close()
	_, err = fmt.Fprintf(f, "| %s |\n", strings.Join(cells, " | "))
	require.NoError(t, err)
}

var errEngine = errors.New("injected engine error: swtpm socket reset")
