package ffa_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa"
)

// TestPartitionProbeCallSequence checks PartitionProbe against Linux's
// ffa_partition_probe (drivers/firmware/arm_ffa/driver.c): FFA_FEATURES(
// PARTITION_INFO_GET_REGS) decides the mode, then a count call with no
// buffer and a second call with one. __ffa_partition_info_get sets the
// count-only flag only when drv_info->version > FFA_VERSION_1_0 and
// releases RX whenever the flag is clear; __ffa_partition_info_get_regs
// with no buffer returns after the first call.
func TestPartitionProbeCallSequence(t *testing.T) {
	u := ffa.MustParseUUID("17b862a4-1806-4faf-86b3-089a58353861")
	info := ffa.PartitionInfo{ID: 0x8001, ExecContexts: 1, Properties: ffa.PropDirectReqRecv, UUID: u}
	type step struct {
		fn    ffa.FuncID
		flags uint32 // w5 of PARTITION_INFO_GET
	}
	cases := []struct {
		name string
		fw   ffa.Version
		regs bool // firmware offers PARTITION_INFO_GET_REGS
		want []step
	}{
		{"v1.2-regs", ffa.Version1_2, true, []step{
			{ffa.FuncFeatures, 0}, {ffa.FuncPartitionInfoGetRegs, 0}, {ffa.FuncPartitionInfoGetRegs, 0}}},
		{"v1.1", ffa.Version1_1, false, []step{
			{ffa.FuncFeatures, 0}, {ffa.FuncPartitionInfoGet, 1}, {ffa.FuncPartitionInfoGet, 0}, {ffa.FuncRxRelease, 0}}},
		{"v1.0", ffa.Version1_0, false, []step{
			{ffa.FuncFeatures, 0}, {ffa.FuncPartitionInfoGet, 0}, {ffa.FuncRxRelease, 0}, {ffa.FuncPartitionInfoGet, 0}, {ffa.FuncRxRelease, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mem{}
			size := ffa.PartitionInfoSizeV1_1
			if c.fw == ffa.Version1_0 {
				size = ffa.PartitionInfoSizeV1_0
			}
			d, err := info.AppendBinary(nil, size)
			require.NoError(t, err)
			fw := &script{by: map[ffa.FuncID]func(ffa.Frame) ffa.Frame{
				ffa.FuncVersion: func(ffa.Frame) ffa.Frame { return ffa.VersionResp{Version: c.fw}.Encode() },
				ffa.FuncFeatures: func(in ffa.Frame) ffa.Frame {
					if c.regs && in.W(1) == uint32(ffa.FuncPartitionInfoGetRegs) {
						return ffa.FeaturesResp{}.Encode()
					}
					return ffa.ErrorFrame(ffa.ErrNotSupported)
				},
				ffa.FuncPartitionInfoGetRegs: func(ffa.Frame) ffa.Frame {
					r := ffa.PartitionInfoGetRegsResp{DescSize: 24, N: 1}
					r.Infos[0] = info
					return r.Encode()
				},
				ffa.FuncPartitionInfoGet: func(in ffa.Frame) ffa.Frame {
					if in.W(5) == 0 {
						m[0x9000] = d
					}
					return ffa.PartitionInfoGetResp{Count: 1, DescSize: uint32(size)}.Encode()
				},
				ffa.FuncRxRelease: func(ffa.Frame) ffa.Frame { return ffa.SuccessFrame() },
			}}
			cl := ffa.NewClient(fw, ffa.ClientConfig{TX: 0x8000, RX: 0x9000, Mem: m})
			_, err = cl.Version()
			require.NoError(t, err)
			fw.calls = nil
			got, regs, err := cl.PartitionProbe(u)
			require.NoError(t, err)
			assert.Equal(t, c.regs, regs)
			require.Len(t, got, 1)
			assert.Equal(t, ffa.ID(0x8001), got[0].ID)
			var seq []step
			for _, f := range fw.calls {
				s := step{fn: f.Func()}
				if s.fn == ffa.FuncPartitionInfoGet {
					s.flags = f.W(5)
				}
				seq = append(seq, s)
			}
			assert.Equal(t, c.want, seq)
		})
	}
}
