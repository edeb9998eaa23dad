package spmc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/ffatpm/ffatpm/spmc/spmctest"
)

var (
	tpmUUID  = ffa.MustParseUUID("17b862a4-1806-4faf-86b3-089a58353861")
	echoUUID = ffa.MustParseUUID("a6a5fbd0-4b3c-4d1a-9e7f-0c3b1f2e4d5a")
)

const (
	nsRAM  = 0x8000_0000
	sRAM   = 0x0e00_0000
	crbWin = 0x6000_0000
	tpmID  = ffa.ID(0x8001)
	echoID = ffa.ID(0x8002)
)

// echo answers every request with its payload.
type echo struct{}

func (echo) DirectReq(_ spmc.Call, r ffa.DirectReq) (ffa.DirectResp, error) {
	return ffa.DirectResp{Args: r.Args}, nil
}

func (echo) DirectReq2(_ spmc.Call, r ffa.DirectReq2) (ffa.DirectResp2, error) {
	return ffa.DirectResp2{Args: r.Args}, nil
}

type nopDev struct{}

func (nopDev) ReadMMIO(uint64, int) (uint64, error) { return 0, nil }
func (nopDev) WriteMMIO(uint64, int, uint64) error  { return nil }

func newBus(t testing.TB) *phys.Bus {
	b := phys.NewBus()
	require.NoError(t, b.AddRAM("ns-ram", "linux", nsRAM, 0x100_0000, phys.NonSecure))
	require.NoError(t, b.AddRAM("s-ram", "spmc", sRAM, 0x10_0000, phys.Secure))
	require.NoError(t, b.AddMMIO("crb", "tpm", crbWin, 0x5000, phys.NonSecure, nopDev{}))
	return b
}

func newSPMC(t testing.TB, mod func(*spmc.Config)) *spmc.SPMC {
	cfg := spmc.Config{
		Bus: newBus(t),
		Partitions: []spmc.Partition{
			{Name: "tpm", ID: tpmID, UUIDs: []ffa.UUID{tpmUUID}, ExecContexts: 1, Handler: echo{},
				Properties: ffa.PropDirectReqRecv | ffa.PropDirectReq2Recv | ffa.PropAArch64},
			{Name: "echo", ID: echoID, UUIDs: []ffa.UUID{echoUUID}, ExecContexts: 4, Handler: echo{},
				Properties: ffa.PropDirectReqRecv | ffa.PropAArch64},
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := spmc.New(cfg)
	require.NoError(t, err)
	return s
}

func call(c ffa.Conduit, f ffa.Frame) ffa.Frame { return c.Call(f) }

func TestDirectReqEcho(t *testing.T) {
	s := newSPMC(t, nil)
	nw := s.NormalWorld()
	require.Equal(t, uint64(ffa.Version1_2), call(nw, ffa.VersionReq{Version: ffa.Version1_2}.Encode())[0])
	out := call(nw, ffa.DirectReq{Is64: true, Src: 0, Dst: tpmID, Args: [5]uint64{1, 2, 3, 4, 5}}.Encode())
	resp, err := ffa.DecodeDirectResp(out)
	require.NoError(t, err)
	assert.Equal(t, ffa.DirectResp{Is64: true, Src: tpmID, Dst: 0, Args: [5]uint64{1, 2, 3, 4, 5}}, resp)

	out = call(nw, ffa.DirectReq2{Src: 0, Dst: tpmID, UUID: tpmUUID, Args: [14]uint64{9, 8, 7}}.Encode())
	r2, err := ffa.DecodeDirectResp2(out)
	require.NoError(t, err)
	assert.Equal(t, ffa.DirectResp2{Src: tpmID, Dst: 0, Args: [14]uint64{9, 8, 7}}, r2)
}

func TestSupportTableDrivesDispatch(t *testing.T) {
	handled := map[ffa.FuncID]bool{}
	for _, id := range spmc.HandledFuncs() {
		handled[id] = true
	}
	for _, fi := range ffa.Funcs() {
		want := fi.Supported && fi.Role == ffa.RoleCall && fi.ID != ffa.FuncVersion
		assert.Equal(t, want, handled[fi.ID], "%s: supported call without handler, or handler for an unsupported one", fi.FullName())
	}
}

// TestConformance runs the spmctest suite against this SPMC with both
// version policies.
func TestConformance(t *testing.T) {
	for _, pol := range []spmc.VersionPolicy{spmc.VersionHafnium, spmc.VersionEL3} {
		t.Run(pol.String(), func(t *testing.T) {
			spmctest.Run(t, func() (*spmctest.Fixture, error) {
				return spmctest.NewFixture(func(c *spmc.Config) { c.VersionPolicy = pol })
			})
		})
	}
}
