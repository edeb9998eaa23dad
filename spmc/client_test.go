package spmc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
	"github.com/ffatpm/ffatpm/spmc"
)

func lines(r *ffa.InitReport) []string {
	var out []string
	for _, l := range r.Log {
		out = append(out, l.Text)
	}
	return out
}

// The Linux arm_ffa driver's ffa_init against our SPMC: what it prints and
// what it learns.
func TestClientInitLikeLinux(t *testing.T) {
	cases := []struct {
		name     string
		drv      ffa.Version
		fw       ffa.Version
		policy   spmc.VersionPolicy
		wantLog  []string
		wantVer  ffa.Version
		regs     bool
		req2     bool
		descUUID bool
	}{
		{"driver-1.2-fw-1.2", ffa.Version1_2, ffa.Version1_2, spmc.VersionHafnium, []string{
			"Driver version 1.2", "Firmware version 1.2 found", "Notification setup failed -95, not enabled"},
			ffa.Version1_2, true, true, true},
		{"driver-1.0-fw-1.2 (v6.1)", ffa.Version1_0, ffa.Version1_2, spmc.VersionHafnium, []string{
			"Driver version 1.0", "Firmware version 1.2 found", "Firmware version higher than driver version, downgrading"},
			ffa.Version1_0, false, false, false},
		{"driver-1.2-fw-1.1", ffa.Version1_2, ffa.Version1_1, spmc.VersionEL3, []string{
			"Driver version 1.2", "Firmware version 1.1 found", "Notification setup failed -95, not enabled"},
			ffa.Version1_1, false, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSPMC(t, func(cfg *spmc.Config) { cfg.Version = c.fw; cfg.VersionPolicy = c.policy })
			bus := s.Bus()
			cl := ffa.NewClient(s.NormalWorld(), ffa.ClientConfig{
				DriverVersion: c.drv, TX: nsRAM, RX: nsRAM + 0x10000, Mem: bus.Accessor(phys.NonSecure)})
			rep, err := cl.Init()
			require.NoError(t, err, "%v", lines(rep))
			assert.Equal(t, c.wantLog, lines(rep))
			assert.Equal(t, c.wantVer, rep.Version)
			assert.Equal(t, c.regs, rep.RegsMode)
			assert.Equal(t, c.req2, rep.Req2Supported)
			assert.Equal(t, ffa.ID(0), rep.ID)
			assert.Equal(t, 4096, rep.RxTxBufSize)
			require.Len(t, rep.Partitions, 2)
			assert.Equal(t, tpmID, rep.Partitions[0].ID)
			assert.Equal(t, echoID, rep.Partitions[1].ID)
			if c.descUUID {
				assert.Equal(t, tpmUUID, rep.Partitions[0].UUID)
			} else {
				assert.True(t, rep.Partitions[0].UUID.IsNil(), "v1.0 descriptors carry no UUID")
			}
			// direct messaging after init
			got, err := cl.DirectReq(tpmID, false, [5]uint64{0, 0x0F000001})
			require.NoError(t, err)
			assert.Equal(t, [5]uint64{0, 0x0F000001}, got)
			_, err = cl.DirectReq2(tpmID, tpmUUID, [14]uint64{0x0F000001})
			if c.wantVer.AtLeast(ffa.Version1_2) {
				require.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ffa.ErrDenied)
			}
		})
	}
}

func TestClientInitFailures(t *testing.T) {
	t.Run("version-not-supported", func(t *testing.T) {
		s := newSPMC(t, func(cfg *spmc.Config) { cfg.Version = ffa.Version1_1 })
		cl := ffa.NewClient(s.NormalWorld(), ffa.ClientConfig{TX: nsRAM, RX: nsRAM + 0x10000})
		rep, err := cl.Init()
		var ie *ffa.InitError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, ffa.StageVersion, ie.Stage)
		assert.Equal(t, -95, ie.Errno)
		assert.Equal(t, []string{"FFA_VERSION returned not supported"}, lines(rep))
	})
	t.Run("rxtx-in-secure-memory", func(t *testing.T) {
		s := newSPMC(t, nil)
		cl := ffa.NewClient(s.NormalWorld(), ffa.ClientConfig{TX: sRAM, RX: sRAM + 0x10000})
		rep, err := cl.Init()
		var ie *ffa.InitError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, ffa.StageRxTxMap, ie.Stage)
		assert.Equal(t, -13, ie.Errno)
		assert.Equal(t, "failed to register FFA RxTx buffers", rep.Log[len(rep.Log)-1].Text)
	})
	t.Run("no-partitions", func(t *testing.T) {
		s := newSPMC(t, func(cfg *spmc.Config) { cfg.Partitions = nil })
		cl := ffa.NewClient(s.NormalWorld(), ffa.ClientConfig{TX: nsRAM, RX: nsRAM + 0x10000, Mem: s.Bus().Accessor(phys.NonSecure)})
		rep, err := cl.Init()
		var ie *ffa.InitError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, ffa.StagePartitions, ie.Stage)
		assert.Equal(t, -22, ffa.LinuxErrno(err))
		assert.Equal(t, "failed to setup partitions", rep.Log[len(rep.Log)-1].Text)
	})
}
