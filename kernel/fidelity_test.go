package kernel_test

import (
	"testing"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noReq2Features is a secure world whose FFA_FEATURES answers NOT_SUPPORTED
// for FFA_MSG_SEND_DIRECT_REQ2 (as a v1.1 SPMC does) while the TPM partition
// still advertises the DIRECT_REQ2 receive property. It counts the REQ2
// calls that reach it.
type noReq2Features struct {
	*kerneltest.FastWorld
	req2Calls int
}

func (w *noReq2Features) Call(in ffa.Frame) ffa.Frame {
	switch in.Func() {
	case ffa.FuncFeatures:
		if id := ffa.FuncID(in.W(1)); id == ffa.FuncMsgSendDirectReq2 || id == ffa.FuncMsgSendDirectResp2 {
			return ffa.ErrorFrame(ffa.ErrNotSupported)
		}
	case ffa.FuncMsgSendDirectReq2:
		w.req2Calls++
	}
	return w.FastWorld.Call(in)
}

// TestReq2RefusedWithoutFeature checks ffa_sync_send_receive2
// (drivers/firmware/arm_ffa/driver.c): "if (!drv_info->msg_direct_req2_supp)
// return -EOPNOTSUPP;". tpm_crb_ffa picks REQ2 from the partition property
// alone (ffa_partition_supports_direct_req2_recv), so its
// GET_INTERFACE_VERSION fails with -95 before any REQ2 reaches the
// firmware, tpm_crb_ffa_probe returns -EINVAL, and the driver core prints
// dev_err(dev, "probe with driver %s failed with error %d") (dd.c,
// call_driver_probe) with the driver still bound, hence the "ffa-crb" prefix.
func TestReq2RefusedWithoutFeature(t *testing.T) {
	fw, _ := kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
	w := &noReq2Features{FastWorld: fw}
	pl := fw.Platform()
	pl.Conduit = w
	p, ok := kernel.LookupPreset(kernel.DefaultPreset)
	require.True(t, ok)
	res, err := kernel.Boot(p.Spec(pl))
	require.NoError(t, err)
	log := res.FormatLog()
	assert.Zero(t, w.req2Calls, "no FFA_MSG_SEND_DIRECT_REQ2 may reach the firmware")
	assert.Contains(t, log, "ffa-crb arm-ffa-1: failed to get crb interface version. rc:-95")
	assert.Contains(t, log, "ffa-crb arm-ffa-1: probe with driver ffa-crb failed with error -22")
	assert.Nil(t, res.Chip, "tpm_crb_ffa_init() returns -ENODEV after the failed probe")
}
