package reliability_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
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
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Another normal-world FF-A endpoint (a second VM, with its own RAM) that
// attacks while the kernel boots. Its actions run at every initcall start,
// on the boot's goroutine, so the interleaving is the same on every run.
const (
	attackerID    ffa.ID = 1
	attackerOwner        = "vm1"
	attackerRAM   uint64 = 0x8000_0000
	attackerSize  uint64 = 1 << 20
)

// hostileBoot is one boot of the default preset with the attacker's action
// run at every initcall start; it returns what the boot wrote (log, binary
// list, PCR 10), the attacker's answers, and the result.
func hostileBoot(t *testing.T, attack func(a *attacker, call int, rng *rand.Rand) string) (string, []string, *kernel.Result, *imakernel.IMA) {
	t.Helper()
	sim, err := engine.OpenSimulator(engine.SimulatorOptions{Seed: seed})
	require.NoError(t, err)
	defer sim.Close()
	p, err := platform.New(platform.Config{Engine: sim, Endpoints: []spmc.Endpoint{
		{ID: 0, Owner: platform.OwnerNS}, {ID: attackerID, Owner: attackerOwner}}})
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.Bus.AddRAM("vm1-ram", attackerOwner, attackerRAM, attackerSize, phys.NonSecure))
	_, err = imakernel.MeasureFirmware(p.Engine, eventlog.Images{})
	require.NoError(t, err)
	kp, err := kerneltest.KernelPlatform(p)
	require.NoError(t, err)
	pr, _ := kernel.LookupPreset(kernel.DefaultPreset)
	spec := pr.Spec(kp)
	spec.UserspaceExecs = []string{"/init", "/bin/busybox", "/sbin/init"}
	var answers []string
	if attack != nil {
		c, err := p.SPMC.Conduit(attackerID)
		require.NoError(t, err)
		a := &attacker{c: c, mmio: p.NS(), crbBase: p.CRBBase}
		rng := rand.New(rand.NewPCG(7, 7))
		n := 0
		spec.Hooks.Event = func(ev kernel.Event) {
			if ev.Kind == kernel.EvInitcallStart {
				answers = append(answers, ev.Initcall+": "+attack(a, n, rng))
				n++
			}
		}
	}
	x := imakernel.New(imakernel.Options{Files: ima.EmbeddedFiles()})
	x.Install(&spec)
	res, err := kernel.Boot(spec)
	require.NoError(t, err)
	var out bytes.Buffer
	out.WriteString(res.FormatLog())
	if st := x.State(); st != nil {
		require.NoError(t, st.List().WriteBinary(&out, hashalg.SHA256))
	}
	rot, err := ima.NewTPM(sim)
	require.NoError(t, err)
	pcr, err := rot.Read(10, hashalg.SHA256)
	require.NoError(t, err)
	fmt.Fprintf(&out, "\nPCR10 %x", pcr)
	return out.String(), answers, res, x
}

// attacker is the second VM: its FF-A conduit and, in this model, the same
// non-secure view of the CRB window as the kernel (the platform maps the
// CRB into the normal world, not into one VM).
type attacker struct {
	c       ffa.Conduit
	mmio    phys.Accessor
	crbBase uint64
}

// start sends a DEN0138 START over DIRECT_REQ2 and returns the status.
func (a *attacker) start(q crb.Qualifier, loc int) string {
	out := a.c.Call(ffa.DirectReq2{Src: attackerID, Dst: 0x8001, UUID: crbdrv.ServiceUUID(),
		Args: [14]uint64{uint64(crb.FuncStart), uint64(q), uint64(loc)}}.Encode())
	r, err := ffa.DecodeDirectResp2(out)
	if err != nil {
		return out.String()
	}
	return crb.Status(uint32(r.Args[0])).String()
}

func (a *attacker) version() { a.c.Call(ffa.VersionReq{Version: ffa.Version1_2}.Encode()) }

func (a *attacker) w32(loc int, r crb.Reg, v uint32) {
	_ = a.mmio.Write(a.crbBase+uint64(loc)*crb.LocalityStride+uint64(r), 4, uint64(v))
}

// TestHostileEndpointDuringBoot: what a second VM can and cannot do to the
// kernel's boot through FF-A.
func TestHostileEndpointDuringBoot(t *testing.T) {
	clean, _, cleanRes, _ := hostileBoot(t, nil)
	require.NotNil(t, cleanRes.Chip, "clean boot registers tpm0")

	t.Run("malformed and hostile FF-A frames change nothing", func(t *testing.T) {
		out, answers, _, _ := hostileBoot(t, func(a *attacker, n int, rng *rand.Rand) string {
			c := a.c
			var got []string
			for k := 0; k < 20; k++ {
				var f ffa.Frame
				for i := range f {
					f[i] = rng.Uint64()
				}
				fns := ffa.Funcs()
				if rng.IntN(2) == 0 {
					f[0] = uint64(fns[rng.IntN(len(fns))].ID)
				}
				switch ffa.FuncID(f[0]) {
				case ffa.FuncMsgSendDirectReq, ffa.FuncMsgSendDirectReq64, ffa.FuncMsgSendDirectReq2:
					// Spoofing the kernel's ID (0) as sender, to the TPM partition.
					f[1] = uint64(ffa.PackIDs(0, 0x8001))
				}
				got = append(got, c.Call(f).Func().String())
			}
			return strings.Join(got, ",")
		})
		assert.Equal(t, clean, out, "log, list and PCR 10 identical to a boot without the attacker")
		t.Logf("%d initcalls, 20 frames each", len(answers))
	})

	t.Run("mapping the kernel's RX/TX buffers is refused", func(t *testing.T) {
		out, answers, _, _ := hostileBoot(t, func(at *attacker, n int, _ *rand.Rand) string {
			at.version()
			a := at.c.Call(ffa.RxTxMapReq{TX: kerneltest.RxTxBase, RX: kerneltest.RxTxBase + 0x10000, PageCount: 1}.Encode())
			b := at.c.Call(ffa.RxTxMapReq{TX: attackerRAM, RX: kerneltest.RxTxBase + 0x10000, PageCount: 1}.Encode())
			return a.String() + " / " + b.String()
		})
		assert.Equal(t, clean, out, "the kernel's boot is unchanged")
		for _, a := range answers {
			assert.Contains(t, a, "DENIED", "RXTX_MAP over the kernel's buffers: %s", a)
			assert.NotContains(t, a, "SUCCESS")
		}
	})

	t.Run("commands and relinquish at the kernel's locality are refused", func(t *testing.T) {
		out, answers, _, _ := hostileBoot(t, func(a *attacker, n int, _ *rand.Rand) string {
			// The kernel relinquishes locality 0 after each command, so
			// between initcalls nothing is active: a command there is
			// refused, and so is a relinquish of what it does not hold.
			a.version()
			cmd := a.start(crb.QualifierCommand, 0)
			a.w32(0, crb.RegLocCtrl, crb.LocCtrlRelinquish)
			rel := a.start(crb.QualifierLocalityRequest, 0)
			return "command " + cmd + ", relinquish " + rel
		})
		t.Logf("attacker's answers: %v", answers[:3])
		for _, a := range answers {
			assert.NotContains(t, a, "command OK")
			assert.NotContains(t, a, "relinquish OK")
		}
		assert.Equal(t, clean, out, "the kernel's boot is unchanged")
	})

	t.Run("a VM that takes locality 0 first and keeps it", func(t *testing.T) {
		// Requesting locality 0 before the kernel's driver probes: the
		// DEN0138 partition grants it to the first endpoint, and refuses
		// every other endpoint's command, relinquish or seize there. The
		// kernel's TPM then fails to probe and IMA runs in TPM-bypass: a
		// co-tenant can deny the kernel its TPM, though it cannot use the
		// kernel's locality or forge its measurements.
		out, answers, res, x := hostileBoot(t, func(a *attacker, n int, _ *rand.Rand) string {
			if n != 0 {
				return "-"
			}
			a.version()
			a.w32(0, crb.RegLocCtrl, crb.LocCtrlRequestAccess)
			return a.start(crb.QualifierLocalityRequest, 0)
		})
		t.Logf("attacker: %s", answers[0])
		for _, l := range grep(out, "tpm") {
			t.Logf("  %s", l)
		}
		assert.NotEqual(t, clean, out)
		assert.Nil(t, res.Chip, "no TPM chip for the kernel")
		assert.Empty(t, res.Panic)
		require.NotNil(t, x.State())
		assert.False(t, x.SawChip(), "IMA in TPM-bypass")
		assert.Contains(t, out, "ima: No TPM chip found, activating TPM-bypass!")
	})
}
