package kernel_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBootWithSimulator runs the whole chain on the go-tpm-tools
// simulator: the TPM core's raw commands must parse the reference TPM's
// answers, and the chip must then carry go-tpm commands (not parallel: one
// simulator per process).
func TestBootWithSimulator(t *testing.T) {
	sim, err := engine.OpenSimulator(engine.SimulatorOptions{})
	if errors.Is(err, engine.ErrSimulatorInUse) {
		t.Skip("simulator in use")
	}
	require.NoError(t, err)
	defer sim.Close()
	require.NoError(t, sim.Reset())
	m, err := platform.New(platform.Config{Engine: sim})
	require.NoError(t, err)
	pl, err := kerneltest.KernelPlatform(m)
	require.NoError(t, err)
	p, _ := kernel.LookupPreset(kernel.DefaultPreset)
	spec := p.Spec(pl)
	spec.Trace = true
	var chip *kernel.TPMChip
	spec.Initcalls = []kernel.Initcall{{Name: "grab", Level: kernel.LevelLate, Object: "security/x.o",
		Fn: func(k *kernel.Kernel) error { chip = k.DefaultChip(); return nil }}}
	res, err := kernel.Boot(spec)
	require.NoError(t, err)
	require.NotNil(t, res.Chip, res.FormatLog())
	require.NotNil(t, chip)
	var names []string
	for _, b := range res.Chip.Banks {
		names = append(names, b.Name)
	}
	assert.Contains(t, names, "sha256")
	// go-tpm over the chip: PCR_Read of PCR 0 in SHA-256.
	rsp, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
		{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(0)}}}}.Execute(chip)
	require.NoError(t, err)
	require.Len(t, rsp.PCRValues.Digests, 1)
	assert.Len(t, rsp.PCRValues.Digests[0].Buffer, 32)
	// The trace names CRB registers and DEN0138 calls.
	var mmio, svc bool
	for _, e := range res.Events {
		if e.Kind == kernel.EvMMIO && strings.Contains(e.Detail, "TPM_CRB_CTRL_START_0") {
			mmio = true
		}
		if e.Kind == kernel.EvFFACall && strings.Contains(e.Detail, "DEN0138 START(command, locality 0)") {
			svc = true
		}
	}
	assert.True(t, mmio)
	assert.True(t, svc)
	assert.Positive(t, res.FFACalls["FFA_MSG_SEND_DIRECT_REQ2"])
}
