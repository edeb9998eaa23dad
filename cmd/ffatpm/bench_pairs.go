package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/mssim"
	"github.com/ffatpm/ffatpm/crb/mssim/loopback"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imakernel"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
)

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

// benchCommand is one go-tpm command measured by P1 and P2.
type benchCommand struct {
	name string
	run  func(t transport.TPM, i int) error
}

var benchDigest = sha256.Sum256([]byte("ffatpm bench"))

func benchGetRandom(t transport.TPM, _ int) error {
	_, err := tpm2.GetRandom{BytesRequested: 32}.Execute(t)
	return err
}

func benchPCRExtend(t transport.TPM, _ int) error {
	_, err := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(16), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: benchDigest[:]}}},
	}.Execute(t)
	return err
}

func benchPCRRead(t transport.TPM, _ int) error {
	_, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(16)}}}}.Execute(t)
	return err
}

// benchCreatePrimary creates the TCG ECC P-256 SRK under the owner
// hierarchy and flushes it (both commands count as one operation).
func benchCreatePrimary(t transport.TPM, _ int) error {
	rsp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(t)
	if err != nil {
		return err
	}
	_, err = tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}.Execute(t)
	return err
}

// benchEnv holds what the measurements share: the process's one
// simulator, swtpm when installed, and the options.
type benchEnv struct {
	ctx   context.Context
	quick bool
	self  string // the ffatpm executable, for explore's worker processes ("" in tests)

	sim    *engine.Simulator
	swtpm  *loopback.Swtpm
	noSw   string // why swtpm is not available ("" when it is or was not wanted yet)
	swPath string // --swtpm

	serveHow  string   // how P2 ran "ffatpm serve"
	serveEnv  []string // --serve-env: added to the serve process's environment
	serveArgs []string // --serve-arg: added to its command line
}

func (be *benchEnv) simulator() (*engine.Simulator, error) {
	if be.sim != nil {
		return be.sim, nil
	}
	s, err := engine.OpenSimulator(engine.SimulatorOptions{})
	if err != nil {
		return nil, err
	}
	be.sim = s
	return s, nil
}

// closeSimulator releases the simulator (P7 opens its own per boot, as
// "ffatpm boot" does).
func (be *benchEnv) closeSimulator() {
	if be.sim != nil {
		be.sim.Close()
		be.sim = nil
	}
}

// swtpmAddr starts swtpm on first use; "" with be.noSw set when it cannot.
func (be *benchEnv) swtpmAddr() string {
	if be.swtpm != nil {
		return be.swtpm.Addr
	}
	if be.noSw != "" {
		return ""
	}
	p, err := startSwtpm(be.swPath)
	if err != nil {
		be.noSw = err.Error()
		return ""
	}
	be.swtpm = p
	return p.Addr
}

func (be *benchEnv) close() {
	be.closeSimulator()
	if be.swtpm != nil {
		be.swtpm.Stop()
		be.swtpm = nil
	}
}

// chainOn builds the machine around eng and brings the normal world's
// driver up (as "ffatpm serve" does); its Send goes normal world -> FF-A
// -> SPMC -> TPM partition -> CRB -> eng.
func chainOn(eng transport.TPM) (*crbdrv.Chip, *platform.Platform, error) {
	p, err := platform.New(platform.Config{Engine: eng})
	if err != nil {
		return nil, nil, err
	}
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea(), Clock: &crbdrv.VirtualClock{}})
	if err != nil {
		p.Close()
		return nil, nil, err
	}
	return chip, p, nil
}

// p1Sides: the same go-tpm command directly on the simulator and through
// the whole chain in front of the same simulator.
func p1Sides(be *benchEnv, c benchCommand) ([]benchSide, func(), error) {
	sim, err := be.simulator()
	if err != nil {
		return nil, nil, err
	}
	chip, p, err := chainOn(sim)
	if err != nil {
		return nil, nil, err
	}
	return []benchSide{
		{name: "direct", op: func(i int) error { return c.run(sim, i) }},
		{name: "chain", op: func(i int) error { return c.run(chip, i) }},
	}, func() { p.Close() }, nil
}

// serveInProcess runs the "ffatpm serve" server (mssim protocol, the chain
// in front of eng) on a free loopback port pair in this process and
// returns a go-tpm client of it.
func serveInProcess(eng transport.TPM) (transport.TPM, func(), error) {
	ch, err := serveChain(eng, "simulator")
	if err != nil {
		return nil, nil, err
	}
	srv, err := mssim.NewServer(mssim.Config{TPM: ch.tpm})
	if err != nil {
		ch.close()
		return nil, nil, err
	}
	cmdLn, platLn, err := mssim.Listen("127.0.0.1:0")
	if err != nil {
		ch.close()
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = srv.Serve(ctx, cmdLn, platLn)
	}()
	cl, err := mssim.Dial(ctx, cmdLn.Addr().String(), mssim.ClientConfig{PowerOn: true})
	stop := func() {
		if cl != nil {
			cl.Close()
		}
		cancel()
		wg.Wait()
		ch.close()
	}
	if err != nil {
		stop()
		return nil, nil, err
	}
	return cl, stop, nil
}

// serveProcess starts "ffatpm serve --addr 127.0.0.1:PORT" (self is the
// ffatpm executable) and returns a go-tpm client of it.
func serveProcess(ctx context.Context, self string, env, args []string) (transport.TPM, func(), int, error) {
	port, err := loopback.FreePortPair()
	if err != nil {
		return nil, nil, 0, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(cctx, self, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Args[0] = "ffatpm"
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	out := &loopback.Output{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, nil, 0, fmt.Errorf("starting ffatpm serve: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() {
		cancel()
		<-done
	}
	if err := loopback.WaitListening("ffatpm serve", addr, done, out); err != nil {
		stop()
		return nil, nil, 0, err
	}
	cl, err := mssim.Dial(ctx, addr, mssim.ClientConfig{PowerOn: true})
	if err != nil {
		stop()
		return nil, nil, 0, err
	}
	return cl, func() {
		cl.Close()
		stop()
	}, cmd.Process.Pid, nil
}

// p2Sides: one go-tpm client against "ffatpm serve" (loopback), against
// `swtpm socket` (loopback) and against the chain in process.
func p2Sides(be *benchEnv, c benchCommand) ([]benchSide, func(), error) {
	sim, err := be.simulator()
	if err != nil {
		return nil, nil, err
	}
	addr := be.swtpmAddr()
	if addr == "" {
		return nil, nil, errSkip("swtpm not available (see the swtpm line)")
	}
	var (
		served    transport.TPM
		stopServe func()
		servePID  int
	)
	if be.self != "" {
		served, stopServe, servePID, err = serveProcess(be.ctx, be.self, be.serveEnv, be.serveArgs)
		be.serveHow = "\"ffatpm serve\" run as its own process (simulator backend)"
		if extra := append(append([]string(nil), be.serveEnv...), be.serveArgs...); len(extra) > 0 {
			be.serveHow += " with " + strings.Join(extra, " ")
		}
	} else {
		served, stopServe, err = serveInProcess(sim)
		be.serveHow = "serve's server run in this process (no ffatpm executable: go test)"
	}
	if err != nil {
		return nil, nil, err
	}
	sw, err := mssim.Dial(be.ctx, addr, mssim.ClientConfig{NoPlatform: true})
	if err != nil {
		stopServe()
		return nil, nil, err
	}
	chip, p, err := chainOn(sim)
	if err != nil {
		sw.Close()
		stopServe()
		return nil, nil, err
	}
	return []benchSide{
			{name: "swtpm", op: func(i int) error { return c.run(sw, i) }, pid: be.swtpm.Pid},
			{name: "serve", op: func(i int) error { return c.run(served, i) }, pid: servePID},
			{name: "in-process", op: func(i int) error { return c.run(chip, i) }},
		}, func() {
			p.Close()
			sw.Close()
			stopServe()
		}, nil
}

// imaChain boots the default kernel (v6.17) with IMA on a machine whose
// TPM partition uses eng, and returns IMA's state: each measurement goes
// hash -> template -> list -> TPM core -> tpm_crb -> FF-A -> SPMC ->
// partition -> CRB -> eng.
func imaChain(eng transport.TPM) (*ima.IMA, func(), error) {
	p, err := platform.New(platform.Config{Engine: eng})
	if err != nil {
		return nil, nil, err
	}
	kp, err := kerneltest.KernelPlatform(p)
	if err != nil {
		p.Close()
		return nil, nil, err
	}
	pr, _ := kernel.LookupPreset(kernel.DefaultPreset)
	spec := pr.Spec(kp)
	spec.Quiet = true
	x := imakernel.New(imakernel.Options{})
	x.Install(&spec)
	if _, err := kernel.Boot(spec); err != nil {
		p.Close()
		return nil, nil, err
	}
	m := x.State()
	if m == nil || m.Bypass() {
		p.Close()
		return nil, nil, errorf("IMA did not come up with the TPM")
	}
	return m, func() { p.Close() }, nil
}

// measureOp measures a 4 KiB file whose content changes with i (so every
// measurement is new and reaches the TPM).
func measureOp(m *ima.IMA) func(i int) error {
	data := make([]byte, 4096)
	n := uint64(0)
	return func(int) error {
		n++ // its own counter: every call measures new content
		binary.LittleEndian.PutUint64(data, n+uint64(m.List().Len())<<32)
		out, err := m.MeasureData("/usr/bin/bench", data, nil, ima.TemplateIMANG, 10)
		if err != nil {
			return err
		}
		if out != ima.Measured {
			return errorf("measurement %d: %v", n, out)
		}
		if e := m.ExtendErrors(); e > 0 {
			return errorf("measurement %d: %d extends refused, last: %v", n, e, m.LastExtendError())
		}
		return nil
	}
}

// rawExtendOp is TPM2_PCR_Extend of PCR 10 with every bank of eng, through
// go-tpm, straight into eng.
func rawExtendOp(eng transport.TPM) (func(i int) error, []hashalg.Alg, error) {
	banks, err := ima.TPMBanks(eng)
	if err != nil {
		return nil, nil, err
	}
	vals := tpm2.TPMLDigestValues{}
	for _, a := range banks {
		vals.Digests = append(vals.Digests, tpm2.TPMTHA{HashAlg: tpm2.TPMIAlgHash(a), Digest: make([]byte, a.Size())})
	}
	n := uint64(0)
	return func(int) error {
		n++
		binary.LittleEndian.PutUint64(vals.Digests[0].Digest, n)
		_, err := tpm2.PCRExtend{PCRHandle: tpm2.AuthHandle{Handle: 10, Auth: tpm2.PasswordAuth(nil)}, Digests: vals}.Execute(eng)
		return err
	}, banks, nil
}

// p3Sides: IMA measurements end to end (simulator engine) vs the raw
// PCR_Extend of the same banks on the simulator, and vs the same
// measurements with swtpm as the engine (when installed).
func p3Sides(be *benchEnv) ([]benchSide, string, func(), error) {
	sim, err := be.simulator()
	if err != nil {
		return nil, "", nil, err
	}
	m, closeM, err := imaChain(sim)
	if err != nil {
		return nil, "", nil, err
	}
	raw, banks, err := rawExtendOp(sim)
	if err != nil {
		closeM()
		return nil, "", nil, err
	}
	rot, err := ima.NewTPM(sim, ima.WithPrebuiltExtend(true))
	if err != nil {
		closeM()
		return nil, "", nil, err
	}
	ds := make([]hashalg.Digest, 0, len(banks))
	for _, a := range banks {
		ds = append(ds, hashalg.Digest{Alg: a, Digest: make([]byte, a.Size())})
	}
	nb := uint64(0)
	rawBytes := func(int) error {
		nb++
		binary.LittleEndian.PutUint64(ds[0].Digest, nb)
		return rot.Extend(10, ds)
	}
	note := fmt.Sprintf("banks %v", banks)
	sides := []benchSide{
		{name: "raw-extend-gotpm", op: raw},
		{name: "measure", op: measureOp(m)},
		{name: "raw-extend-bytes", op: rawBytes},
	}
	cleanup := []func(){closeM}
	if addr := be.swtpmAddr(); addr != "" {
		sw, err := mssim.Dial(be.ctx, addr, mssim.ClientConfig{NoPlatform: true})
		if err != nil {
			closeM()
			return nil, "", nil, err
		}
		ms, closeS, err := imaChain(sw)
		if err != nil {
			sw.Close()
			closeM()
			return nil, "", nil, err
		}
		swBanks, _ := ima.TPMBanks(sw)
		note += fmt.Sprintf("; swtpm banks %v", swBanks)
		sides = append(sides, benchSide{name: "measure-swtpm", op: measureOp(ms)})
		cleanup = append(cleanup, closeS, func() { sw.Close() })
	} else {
		note += "; swtpm side skipped (see the swtpm line)"
	}
	return sides, note, func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}, nil
}

// recorder passes commands to eng and keeps a copy of each while on.
type recorder struct {
	eng  transport.TPM
	on   bool
	cmds [][]byte
	rcs  []uint32 // each command's response code
}

func (r *recorder) Send(cmd []byte) ([]byte, error) {
	rsp, err := r.eng.Send(cmd)
	if r.on && err == nil {
		r.cmds = append(r.cmds, append([]byte(nil), cmd...))
		r.rcs = append(r.rcs, responseCode(rsp))
	}
	return rsp, err
}

func responseCode(rsp []byte) uint32 {
	if len(rsp) < 10 {
		return 0xFFFFFFFF
	}
	return binary.BigEndian.Uint32(rsp[6:10])
}

// p4Measurements is how many files P4's boot measures after init.
const p4Measurements = 100

// p4Sides: one whole boot (power-cycle the TPM, firmware measurements,
// TPM startup, kernel with IMA, the default file set, then 100 more
// measurements) vs its TPM work alone: the same command bytes, recorded
// from the boot, sent straight to the power-cycled simulator.
func p4Sides(be *benchEnv) ([]benchSide, string, func(), error) {
	sim, err := be.simulator()
	if err != nil {
		return nil, "", nil, err
	}
	sc, err := resolvedPreset("")
	if err != nil {
		return nil, "", nil, err
	}
	spec, err := kernelSpec(sc)
	if err != nil {
		return nil, "", nil, err
	}
	im, err := imaInputsOf(sc)
	if err != nil {
		return nil, "", nil, err
	}
	rec := &recorder{eng: sim}
	data := make([]byte, 4096)
	boot := func(i int) error {
		if err := sim.Reset(); err != nil {
			return err
		}
		b, err := bootSpec(be.ctx, spec, im, bootOptions{engine: rec, quiet: true})
		if err != nil {
			return err
		}
		m := b.ima.State()
		if m == nil || m.Bypass() {
			return errorf("boot ended without IMA on the TPM (verdict %s)", b.report.Verdict)
		}
		for k := 0; k < p4Measurements; k++ {
			binary.LittleEndian.PutUint64(data, uint64(k))
			if _, err := m.MeasureData(fmt.Sprintf("/bench/%d", k), data, nil, ima.TemplateIMANG, 10); err != nil {
				return err
			}
		}
		return nil
	}
	rec.on = true
	if err := boot(0); err != nil {
		return nil, "", nil, err
	}
	rec.on = false
	cmds, rcs := rec.cmds, rec.rcs
	replay := func(int) error {
		if err := sim.Reset(); err != nil {
			return err
		}
		for i, c := range cmds {
			rsp, err := sim.Send(c)
			if err != nil {
				return err
			}
			// The replay must do the boot's work, not fail early.
			if rc := responseCode(rsp); rc != rcs[i] {
				return errorf("replayed command %d answered %#x, the boot got %#x", i, rc, rcs[i])
			}
		}
		return nil
	}
	return []benchSide{{name: "tpm-work-alone", op: replay}, {name: "boot", op: boot}},
		fmt.Sprintf("%d TPM commands per boot (log off, as explore boots)", len(cmds)), func() {}, nil
}

// p6Ops: an FF-A direct request round trip in its three forms, each
// answered by the TPM partition (DEN0138 GET_INTERFACE_VERSION), and the
// whole CRB command path with an engine that answers at once.
func p6Ops() ([]benchSide, func(), error) {
	rsp := make([]byte, 10)
	binary.BigEndian.PutUint16(rsp, 0x8001)
	binary.BigEndian.PutUint32(rsp[2:], 10)
	canned := engine.Func(func([]byte) ([]byte, error) { return rsp, nil })
	chip, p, err := chainOn(canned)
	if err != nil {
		return nil, nil, err
	}
	if err := chip.RequestLocality(0); err != nil {
		p.Close()
		return nil, nil, err
	}
	nw := p.Conduit()
	uuid := ffa.MustParseUUID(crb.ServiceUUIDString)
	dst := ffa.ID(p.PartitionID)
	fn := uint64(crb.FuncGetInterfaceVersion)
	req2 := ffa.DirectReq2{Src: 0, Dst: dst, UUID: uuid, Args: [14]uint64{fn}}.Encode()
	req64 := ffa.DirectReq{Is64: true, Src: 0, Dst: dst, Args: [5]uint64{fn}}.Encode()
	check := func(out ffa.Frame) error {
		if ffa.FuncID(out[0]) == ffa.FuncError {
			return errorf("FFA_ERROR %v", ffa.Status(int32(out[2])))
		}
		return nil
	}
	cmd := make([]byte, 10)
	binary.BigEndian.PutUint16(cmd, 0x8001)
	binary.BigEndian.PutUint32(cmd[2:], 10)
	binary.BigEndian.PutUint32(cmd[6:], 0x17B) // TPM2_GetRandom's code; the canned engine ignores it
	return []benchSide{
		{name: "DIRECT_REQ2 (SPMC)", op: func(int) error { return check(nw.Call(req2)) }},
		{name: "DIRECT_REQ_64 (SPMC)", op: func(int) error { return check(nw.Call(req64)) }},
		{name: "ffa.Client+crbdrv GET_INTERFACE_VERSION", op: func(int) error { _, _, err := chip.FFA().GetInterfaceVersion(); return err }},
		{name: "crbdrv Send (whole CRB command, instant engine)", op: func(int) error { _, err := chip.Send(cmd); return err }},
	}, func() { p.Close() }, nil
}

// errSkipT marks a measurement that cannot run here (swtpm missing).
type errSkipT struct{ why string }

func (e errSkipT) Error() string { return "skipped: " + e.why }

func errSkip(why string) error { return errSkipT{why} }
