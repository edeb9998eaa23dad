package ffa_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa"
)

// script is a fake firmware: it answers by function ID and records calls.
type script struct {
	calls []ffa.Frame
	by    map[ffa.FuncID]func(ffa.Frame) ffa.Frame
}

func (s *script) Call(in ffa.Frame) ffa.Frame {
	s.calls = append(s.calls, in)
	if h, ok := s.by[in.Func()]; ok {
		return h(in)
	}
	return ffa.ErrorFrame(ffa.ErrNotSupported)
}

type mem map[uint64][]byte

func (m mem) ReadBytes(addr uint64, p []byte) error {
	b, ok := m[addr]
	if !ok {
		return errors.New("unmapped")
	}
	copy(p, b)
	return nil
}
func (m mem) WriteBytes(addr uint64, p []byte) error { m[addr] = append([]byte{}, p...); return nil }

func TestClientVersionDowngrade(t *testing.T) {
	cases := []struct {
		fw, drv, use ffa.Version
	}{
		{ffa.MakeVersion(1, 3), ffa.Version1_2, ffa.Version1_2},
		{ffa.Version1_1, ffa.Version1_2, ffa.Version1_1},
		{ffa.Version1_2, ffa.Version1_0, ffa.Version1_0},
	}
	for _, c := range cases {
		fw := &script{by: map[ffa.FuncID]func(ffa.Frame) ffa.Frame{
			ffa.FuncVersion: func(in ffa.Frame) ffa.Frame {
				assert.Equal(t, uint64(c.drv), in[1])
				return ffa.VersionResp{Version: c.fw}.Encode()
			}}}
		cl := ffa.NewClient(fw, ffa.ClientConfig{DriverVersion: c.drv})
		got, err := cl.Version()
		require.NoError(t, err)
		assert.Equal(t, c.fw, got)
		assert.Equal(t, c.use, cl.NegotiatedVersion())
		assert.Equal(t, c.drv, cl.DriverVersion())
	}
}

func TestClientInitVersionErrors(t *testing.T) {
	cases := []struct {
		name  string
		fw    ffa.Frame
		log   string
		errno int
	}{
		{"newer-major", ffa.VersionResp{Version: ffa.MakeVersion(2, 0)}.Encode(), "Incompatible v2.0! Latest supported v1.2", -22},
		{"older-than-min", ffa.VersionResp{Version: ffa.MakeVersion(0, 9)}.Encode(), "Incompatible v0.9! Earliest supported v1.0", -22},
		{"not-supported", ffa.VersionResp{NotSupported: true}.Encode(), "FFA_VERSION returned not supported", -95},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fw := &script{by: map[ffa.FuncID]func(ffa.Frame) ffa.Frame{ffa.FuncVersion: func(ffa.Frame) ffa.Frame { return c.fw }}}
			rep, err := ffa.NewClient(fw, ffa.ClientConfig{}).Init()
			var ie *ffa.InitError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, ffa.StageVersion, ie.Stage)
			assert.Equal(t, c.errno, ffa.LinuxErrno(err))
			require.NotEmpty(t, rep.Log)
			assert.Equal(t, c.log, rep.Log[len(rep.Log)-1].Text)
			assert.Contains(t, ie.Error(), "ffa_version_check")
		})
	}
}

func TestClientInitIDFailure(t *testing.T) {
	fw := &script{by: map[ffa.FuncID]func(ffa.Frame) ffa.Frame{
		ffa.FuncVersion: func(ffa.Frame) ffa.Frame { return ffa.VersionResp{Version: ffa.Version1_2}.Encode() },
	}}
	rep, err := ffa.NewClient(fw, ffa.ClientConfig{}).Init()
	var ie *ffa.InitError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, ffa.StageIDGet, ie.Stage)
	assert.Equal(t, -19, ie.Errno)
	assert.Equal(t, "failed to obtain VM id for self", rep.Log[len(rep.Log)-1].Text)
	assert.Equal(t, ffa.LogErr, rep.Log[len(rep.Log)-1].Level)
}

// Firmware that offers the interrupt IDs: the model has no GIC to map them,
// as Linux logs on such a machine, and a 64 KiB minimum buffer.
func TestClientInitNotificationsAndBufferSize(t *testing.T) {
	u := ffa.MustParseUUID("17b862a4-1806-4faf-86b3-089a58353861")
	m := mem{}
	d, _ := ffa.PartitionInfo{ID: 0x8001, ExecContexts: 1, UUID: u}.AppendBinary(nil, 24)
	fw := &script{by: map[ffa.FuncID]func(ffa.Frame) ffa.Frame{
		ffa.FuncVersion: func(ffa.Frame) ffa.Frame { return ffa.VersionResp{Version: ffa.Version1_1}.Encode() },
		ffa.FuncIDGet:   func(ffa.Frame) ffa.Frame { return ffa.IDResp{ID: 3}.Encode() },
		ffa.FuncFeatures: func(in ffa.Frame) ffa.Frame {
			switch in.W(1) {
			case uint32(ffa.FuncRxTxMap64):
				return ffa.FeaturesResp{Props: [2]uint32{ffa.RxTxMinBuf64K}}.Encode()
			case ffa.FeatureSRI:
				return ffa.FeaturesResp{Props: [2]uint32{8}}.Encode()
			case ffa.FeatureNPI:
				return ffa.ErrorFrame(ffa.ErrInvalidParameters)
			case uint32(ffa.FuncMemShare64):
				return ffa.FeaturesResp{}.Encode()
			}
			return ffa.ErrorFrame(ffa.ErrNotSupported)
		},
		ffa.FuncRxTxMap64: func(in ffa.Frame) ffa.Frame {
			assert.Equal(t, uint64(16), in[3], "64 KiB = 16 pages")
			return ffa.SuccessFrame()
		},
		ffa.FuncPartitionInfoGet: func(in ffa.Frame) ffa.Frame {
			if in.W(5) == 0 {
				m[0x9000] = d
			}
			return ffa.PartitionInfoGetResp{Count: 1, DescSize: 24}.Encode()
		},
		ffa.FuncRxRelease: func(ffa.Frame) ffa.Frame { return ffa.SuccessFrame() },
	}}
	rep, err := ffa.NewClient(fw, ffa.ClientConfig{TX: 0x8000, RX: 0x9000, Mem: m}).Init()
	require.NoError(t, err)
	assert.Equal(t, 64<<10, rep.RxTxBufSize)
	assert.Equal(t, ffa.ID(3), rep.ID)
	assert.True(t, rep.MemOpsNative)
	assert.False(t, rep.Req2Supported)
	assert.False(t, rep.Notifications)
	var texts []string
	for _, l := range rep.Log {
		texts = append(texts, l.Text)
	}
	assert.Equal(t, []string{"Driver version 1.2", "Firmware version 1.1 found", "Failed to create IRQ mapping!",
		"Failed to retrieve FF-A Notification Pending Interrupt 1", "Notification setup failed -22, not enabled"}, texts)
	require.Len(t, rep.Partitions, 1)
	assert.Equal(t, u, rep.Partitions[0].UUID)
}

func TestClientPartitionInfoGetRegsPaging(t *testing.T) {
	var all []ffa.PartitionInfo
	for i := range 7 {
		all = append(all, ffa.PartitionInfo{ID: ffa.ID(0x8001 + i), ExecContexts: 1})
	}
	fw := &script{by: map[ffa.FuncID]func(ffa.Frame) ffa.Frame{
		ffa.FuncPartitionInfoGetRegs: func(in ffa.Frame) ffa.Frame {
			start := int(uint16(in[3]))
			cur := min(start+4, len(all)-1)
			r := ffa.PartitionInfoGetRegsResp{LastIndex: uint16(len(all) - 1), CurrentIndex: uint16(cur), DescSize: 24, N: cur - start + 1}
			copy(r.Infos[:], all[start:cur+1])
			return r.Encode()
		}}}
	got, err := ffa.NewClient(fw, ffa.ClientConfig{}).PartitionInfoGetRegs(ffa.NilUUID)
	require.NoError(t, err)
	assert.Equal(t, all, got)
	assert.Len(t, fw.calls, 2)
	assert.Equal(t, uint64(5), fw.calls[1][3], "second call starts at index 5")
}

func TestClientDirectRunLoopAndErrors(t *testing.T) {
	n := 0
	fw := &script{by: map[ffa.FuncID]func(ffa.Frame) ffa.Frame{
		ffa.FuncMsgSendDirectReq64: func(in ffa.Frame) ffa.Frame { return ffa.Frame{uint64(ffa.FuncInterrupt), 0x8001} },
		ffa.FuncRun: func(in ffa.Frame) ffa.Frame {
			n++
			if n < 3 {
				return ffa.Frame{uint64(ffa.FuncYield), in[1]}
			}
			return ffa.DirectResp{Is64: true, Src: 0x8001, Args: [5]uint64{42}}.Encode()
		},
		ffa.FuncMsgSendDirectReq:  func(ffa.Frame) ffa.Frame { return ffa.SuccessFrame() },
		ffa.FuncMsgSendDirectReq2: func(ffa.Frame) ffa.Frame { return ffa.ErrorFrame(ffa.ErrBusy) },
	}}
	cl := ffa.NewClient(fw, ffa.ClientConfig{})
	got, err := cl.DirectReq(0x8001, true, [5]uint64{1})
	require.NoError(t, err)
	assert.Equal(t, uint64(42), got[0])
	assert.Equal(t, 3, n)

	_, err = cl.DirectReq(0x8001, false, [5]uint64{1})
	var pe *ffa.ProtocolError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, -22, ffa.LinuxErrno(err))
	assert.Contains(t, pe.Error(), "FFA_MSG_SEND_DIRECT_REQ")

	_, err = cl.DirectReq2(0x8001, ffa.NilUUID, [14]uint64{})
	assert.Equal(t, ffa.ErrBusy, err)
	assert.Equal(t, -16, ffa.LinuxErrno(err))
	assert.Equal(t, 0, ffa.LinuxErrno(nil))

	// a firmware that yields forever is cut off
	loop := &script{by: map[ffa.FuncID]func(ffa.Frame) ffa.Frame{
		ffa.FuncMsgSendDirectReq: func(ffa.Frame) ffa.Frame { return ffa.Frame{uint64(ffa.FuncYield)} },
		ffa.FuncRun:              func(ffa.Frame) ffa.Frame { return ffa.Frame{uint64(ffa.FuncYield)} },
	}}
	_, err = ffa.NewClient(loop, ffa.ClientConfig{MaxRunLoops: 5}).DirectReq(0x8001, false, [5]uint64{})
	require.ErrorAs(t, err, &pe)
	assert.Len(t, loop.calls, 6)
}

func TestClientSimpleCalls(t *testing.T) {
	fw := &script{by: map[ffa.FuncID]func(ffa.Frame) ffa.Frame{
		ffa.FuncSpmIDGet:  func(ffa.Frame) ffa.Frame { return ffa.IDResp{ID: 0x8000}.Encode() },
		ffa.FuncRxTxUnmap: func(ffa.Frame) ffa.Frame { return ffa.ErrorFrame(ffa.ErrInvalidParameters) },
		ffa.FuncIDGet:     func(ffa.Frame) ffa.Frame { return ffa.Frame{0x1234} },
	}}
	cl := ffa.NewClient(fw, ffa.ClientConfig{})
	id, err := cl.SpmIDGet()
	require.NoError(t, err)
	assert.Equal(t, ffa.ID(0x8000), id)
	assert.Equal(t, ffa.ErrInvalidParameters, cl.RxTxUnmap())
	assert.Equal(t, ffa.ErrNotSupported, cl.RxRelease())
	_, err = cl.IDGet()
	var pe *ffa.ProtocolError
	assert.ErrorAs(t, err, &pe, "garbage result is a protocol error")
	_, err = cl.PartitionInfoGet(ffa.NilUUID)
	assert.Equal(t, ffa.ErrNotSupported, err)
}
