package kernel_test

import (
	"strings"
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

// crbFault wraps a FastWorld's CRB window: stsError makes TPM_CRB_CTRL_STS
// report tpmSts (fatal error); stuckStart makes TPM_CRB_CTRL_START read 1
// for ever. It records the writes to TPM_CRB_CTRL_CANCEL.
type crbFault struct {
	*kerneltest.FastWorld
	stsError, stuckStart, noLocality bool
	cancelWrites                     []uint64
}

const (
	faultCtrlSts    = kerneltest.FastCRBBase + 0x44
	faultCtrlCancel = kerneltest.FastCRBBase + 0x48
	faultCtrlStart  = kerneltest.FastCRBBase + 0x4C
)

func (w *crbFault) Read(addr uint64, size int) (uint64, error) {
	v, err := w.FastWorld.Read(addr, size)
	switch {
	case addr == faultCtrlSts && w.stsError:
		v |= 1
	case addr == faultCtrlStart && w.stuckStart:
		v |= 1
	case addr == kerneltest.FastCRBBase && w.noLocality: // TPM_LOC_STATE_0
		v &^= 2 // locAssigned never set
	}
	return v, err
}

func (w *crbFault) Write(addr uint64, size int, v uint64) error {
	if addr == faultCtrlCancel {
		w.cancelWrites = append(w.cancelWrites, v)
	}
	return w.FastWorld.Write(addr, size, v)
}

func bootCRBFault(t *testing.T, w *crbFault) string {
	t.Helper()
	pl := w.Platform()
	pl.Conduit, pl.Mem = w.FastWorld, w
	p, ok := kernel.LookupPreset(kernel.DefaultPreset)
	require.True(t, ok)
	res, err := kernel.Boot(p.Spec(pl))
	require.NoError(t, err)
	assert.Nil(t, res.Chip)
	return res.FormatLog()
}

// TestCRBChipErrorLines checks the lines printed when a command fails
// once the chip exists. tpm_try_transmit (drivers/char/tpm/tpm-interface.c)
// prints with dev_err(&chip->dev, ...): "tpm_transmit: tpm_recv: error %d"
// when crb_recv returns -EIO (CTRL_STS.tpmSts set), and after its polling
// deadline calls chip->ops->cancel (crb_cancel: CTRL_CANCEL = 1 and, for
// the FF-A start method, tpm_crb_ffa_start) then "Operation Timed out".
// crb_send first writes 0 to CTRL_CANCEL. &chip->dev has no bus and no
// driver, so dev_driver_string gives its class name: "tpm tpm0: ". The
// probe error then comes back to the driver core as "probe with driver".
func TestCRBChipErrorLines(t *testing.T) {
	fw, _ := kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
	log := bootCRBFault(t, &crbFault{FastWorld: fw, stsError: true})
	assert.Contains(t, log, "tpm tpm0: tpm_transmit: tpm_recv: error -5\n")
	assert.Contains(t, log, "tpm_crb MSFT0101:00: probe with driver tpm_crb failed with error -5\n")

	fw, _ = kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
	w := &crbFault{FastWorld: fw, stuckStart: true}
	log = bootCRBFault(t, w)
	assert.Contains(t, log, "tpm tpm0: Operation Timed out\n")
	assert.Contains(t, log, "tpm_crb MSFT0101:00: probe with driver tpm_crb failed with error -62\n")
	require.NotEmpty(t, w.cancelWrites)
	assert.Equal(t, uint64(0), w.cancelWrites[0], "crb_send zeroes CTRL_CANCEL before the command")
	assert.Equal(t, uint64(1), w.cancelWrites[len(w.cancelWrites)-1], "crb_cancel sets CTRL_CANCEL")
}

// TestCRBMapIOErrorNamesACPIDevice: crb_map_io runs before the chip is
// allocated and passes the ACPI device to __crb_request_locality, so its
// dev_warn names "tpm_crb MSFT0101:00" (drivers/char/tpm/tpm_crb.c).
func TestCRBMapIOErrorNamesACPIDevice(t *testing.T) {
	fw, _ := kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
	log := bootCRBFault(t, &crbFault{FastWorld: fw, noLocality: true})
	assert.Contains(t, log, "tpm_crb MSFT0101:00: TPM_LOC_STATE_x.requestAccess timed out\n")
	assert.NotContains(t, log, "tpm tpm0:")
}

// TestACPIDeviceNames: drivers/acpi/scan.c names a device "%s:%02x" with
// its _HID and an instance number from a per-_HID IDA starting at 0, not
// with its _UID.
func TestACPIDeviceNames(t *testing.T) {
	d := kernel.ACPIDevice{HID: "MSFT0101", UID: 5}
	assert.Equal(t, "MSFT0101:00", d.Name(0))
	assert.Equal(t, "MSFT0101:1a", d.Name(26))

	fw, _ := kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
	pl := fw.Platform()
	pl.ACPIDevices[0].UID = 7
	p, ok := kernel.LookupPreset(kernel.DefaultPreset)
	require.True(t, ok)
	res, err := kernel.Boot(p.Spec(pl))
	require.NoError(t, err)
	require.NotNil(t, res.Chip)
	assert.Equal(t, "MSFT0101:00", res.Chip.Device)
}

// TestACPITableHeaderLine: acpi_tb_print_table_header prints
// "%-4.4s 0x%8.8X%8.8X %06X (v%.2d %-6.6s %-8.8s %08X %-4.4s %08X)" after
// acpi_tb_fix_string (a field ends at NUL; other unprintable bytes become
// '?'). The reference Debian 6.1 boot on QEMU/SeaBIOS
// (/work/shared/reference/linux-6.1-qemu-seabios/dmesg.txt, line 31) shows
// "ACPI: TPM2 0x000000003FFD24BD 00004C (v04 BOCHS  BXPC     00000001 BXPC 00000001)";
// the model prints the same after the table address, which it does not
// know (it prints 0x00000000FFFF0000).
func TestACPITableHeaderLine(t *testing.T) {
	hdr := func(oem, tableID, creator string) []byte {
		b := make([]byte, 76)
		copy(b, "TPM2")
		b[4] = 0x4C
		b[8] = 4
		copy(b[10:16], oem)
		copy(b[16:24], tableID)
		b[24] = 1
		copy(b[28:32], creator)
		b[32] = 1
		return b
	}
	line := func(tbl []byte) string {
		fw, _ := kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
		pl := fw.Platform()
		pl.ACPITables = map[string][]byte{"TPM2": tbl}
		p, ok := kernel.LookupPreset(kernel.DefaultPreset)
		require.True(t, ok)
		res, err := kernel.Boot(p.Spec(pl))
		require.NoError(t, err)
		for _, l := range res.Log {
			if strings.HasPrefix(l.Text, "ACPI: TPM2 ") {
				return l.Text
			}
		}
		t.Fatalf("no ACPI: TPM2 line in\n%s", res.FormatLog())
		return ""
	}
	assert.Equal(t, "ACPI: TPM2 0x00000000FFFF0000 00004C (v04 BOCHS  BXPC     00000001 BXPC 00000001)",
		line(hdr("BOCHS ", "BXPC    ", "BXPC")))
	assert.Equal(t, "ACPI: TPM2 0x00000000FFFF0000 00004C (v04 A?B    X        00000001 C?   00000001)",
		line(hdr("A\x01B\x00CD", "X\x00YYYYYY", "C\x7f")))
}
