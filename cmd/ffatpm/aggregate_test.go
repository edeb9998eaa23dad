package main

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// TestBatchedAggregateMatchesPerRegister: the report's boot_aggregate,
// now read with one TPM2_PCR_Read per 8 registers, equals Linux's
// per-register computation (ima_calc_boot_aggregate: PCR 0..7 for SHA-1,
// 0..9 for SHA-256, one at a time) over the simulator's PCRs after the
// boot, for every preset whose IMA ends up on the TPM; and the batched
// read is what ran (a TPM2_PCR_Read selecting PCR 0..7 at once).
func TestBatchedAggregateMatchesPerRegister(t *testing.T) {
	sim, err := engine.OpenSimulator(engine.SimulatorOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	onTPM := 0
	for _, name := range presetNames() {
		sc, err := resolvedPreset(name)
		require.NoError(t, err, name)
		spec, err := kernelSpec(sc)
		require.NoError(t, err)
		im, err := imaInputsOf(sc)
		require.NoError(t, err)
		require.NoError(t, sim.Reset())
		rec := &recorder{eng: sim, on: true}
		b, err := bootSpec(context.Background(), spec, im, bootOptions{quiet: true, engine: rec})
		require.NoError(t, err, name)
		m := b.ima.State()
		if m == nil || m.Bypass() {
			continue
		}
		if _, ok := m.RootOfTrust().(*ima.TPM); !ok {
			continue
		}
		onTPM++
		direct, err := ima.NewTPM(sim)
		require.NoError(t, err)
		for _, c := range []struct {
			alg hashalg.Alg
			got string
		}{{hashalg.SHA1, b.report.BootAggregate.SHA1}, {hashalg.SHA256, b.report.BootAggregate.SHA256}} {
			want, err := ima.BootAggregate(direct, c.alg)
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(want), c.got, "%s %v", name, c.alg)
			batched := false
			for _, cmd := range rec.cmds {
				if len(cmd) == 20 && binary.BigEndian.Uint32(cmd[6:]) == 0x17E &&
					binary.BigEndian.Uint16(cmd[14:]) == uint16(c.alg) && cmd[17] == 0xFF {
					batched = true
				}
			}
			require.True(t, batched, "%s %v: no batched TPM2_PCR_Read was sent", name, c.alg)
		}
	}
	require.NotZero(t, onTPM, "no preset put IMA on the TPM")
}
