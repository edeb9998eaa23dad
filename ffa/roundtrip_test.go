package ffa_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa"
)

// decode(encode(x)) == x for every typed call, and the frames carry the
// register layout the spec defines.
func TestRoundTrips(t *testing.T) {
	u := ffa.MustParseUUID("17b862a4-1806-4faf-86b3-089a58353861")

	vr := ffa.VersionReq{Version: ffa.Version1_1}
	f := vr.Encode()
	assert.Equal(t, ffa.Frame{0x84000063, 0x10001}, f)
	got, err := ffa.DecodeVersionReq(f)
	require.NoError(t, err)
	assert.Equal(t, vr, got)

	for _, v := range []ffa.VersionResp{{Version: ffa.Version1_2}, {NotSupported: true}} {
		g, err := ffa.DecodeVersionResp(v.Encode())
		require.NoError(t, err)
		assert.Equal(t, v, g)
	}
	_, err = ffa.DecodeVersionResp(ffa.Frame{0x8001_0002})
	assert.Error(t, err)

	fq := ffa.FeaturesReq{ID: uint32(ffa.FuncRxTxMap64), InputProps: 3}
	gq, err := ffa.DecodeFeaturesReq(fq.Encode())
	require.NoError(t, err)
	assert.Equal(t, fq, gq)
	assert.True(t, fq.IsFunc())
	assert.False(t, ffa.FeaturesReq{ID: ffa.FeatureSRI}.IsFunc())

	fr := ffa.FeaturesResp{Props: [2]uint32{0x10_0000, 7}}
	gr, err := ffa.DecodeFeaturesResp(fr.Encode())
	require.NoError(t, err)
	assert.Equal(t, fr, gr)
	_, err = ffa.DecodeFeaturesResp(ffa.ErrorFrame(ffa.ErrNotSupported))
	assert.Equal(t, ffa.ErrNotSupported, err)

	id := ffa.IDResp{ID: 0x8000}
	gid, err := ffa.DecodeIDResp(id.Encode())
	require.NoError(t, err)
	assert.Equal(t, id, gid)
	_, err = ffa.DecodeIDResp(ffa.Frame{uint64(ffa.FuncSuccess32), 0, 1 << 20})
	assert.Equal(t, ffa.ErrInvalidParameters, err)

	for _, m := range []ffa.RxTxMapReq{{TX: 1 << 40, RX: 2 << 40, PageCount: 63}, {SMC32: true, TX: 0x1000, RX: 0x2000, PageCount: 1}} {
		g, err := ffa.DecodeRxTxMapReq(m.Encode())
		require.NoError(t, err)
		assert.Equal(t, m, g)
	}
	_, err = ffa.DecodeRxTxMapReq(ffa.Frame{uint64(ffa.FuncRxTxMap64), 0, 0, 64})
	assert.Equal(t, ffa.ErrInvalidParameters, err, "w3[31:6] MBZ")

	um := ffa.RxTxUnmapReq{ID: 5}
	assert.Equal(t, uint64(5<<16), um.Encode()[1])
	gum, err := ffa.DecodeRxTxUnmapReq(um.Encode())
	require.NoError(t, err)
	assert.Equal(t, um, gum)
	_, err = ffa.DecodeRxTxUnmapReq(ffa.Frame{uint64(ffa.FuncRxTxUnmap), 1})
	assert.Equal(t, ffa.ErrInvalidParameters, err)

	rr := ffa.RxReleaseReq{ID: 3}
	grr, err := ffa.DecodeRxReleaseReq(rr.Encode())
	require.NoError(t, err)
	assert.Equal(t, rr, grr)
	_, err = ffa.DecodeRxReleaseReq(ffa.Frame{uint64(ffa.FuncRxRelease), 1 << 16})
	assert.Equal(t, ffa.ErrInvalidParameters, err)

	pg := ffa.PartitionInfoGetReq{UUID: u, Flags: 1}
	pf := pg.Encode()
	assert.Equal(t, ffa.Frame{0x84000068, 0xa462b817, 0xaf4f0618, 0x9a08b386, 0x61383558, 1}, pf)
	gpg, err := ffa.DecodePartitionInfoGetReq(pf)
	require.NoError(t, err)
	assert.Equal(t, pg, gpg)
	assert.True(t, gpg.CountOnly())

	pr := ffa.PartitionInfoGetResp{Count: 2, DescSize: 24}
	gpr, err := ffa.DecodePartitionInfoGetResp(pr.Encode())
	require.NoError(t, err)
	assert.Equal(t, pr, gpr)

	rg := ffa.PartitionInfoGetRegsReq{UUID: u, StartIndex: 2, Tag: 9}
	grg, err := ffa.DecodePartitionInfoGetRegsReq(rg.Encode())
	require.NoError(t, err)
	assert.Equal(t, rg, grg)

	rresp := ffa.PartitionInfoGetRegsResp{LastIndex: 3, CurrentIndex: 3, DescSize: 24, N: 2,
		Infos: [5]ffa.PartitionInfo{{ID: 0x8003, ExecContexts: 2, Properties: 0x301, UUID: u}, {ID: 0x8004}}}
	grresp, err := ffa.DecodePartitionInfoGetRegsResp(rresp.Encode(), 2)
	require.NoError(t, err)
	assert.Equal(t, rresp, grresp)
	_, err = ffa.DecodePartitionInfoGetRegsResp(rresp.Encode(), 4)
	assert.Error(t, err, "current below start")

	for _, d := range []ffa.DirectReq{{Src: 0, Dst: 0x8001, Args: [5]uint64{1, 2, 3, 4, 5}}, {Is64: true, Src: 1, Dst: 0x8002, Flags: 0, Args: [5]uint64{1 << 63}}} {
		g, err := ffa.DecodeDirectReq(d.Encode())
		require.NoError(t, err)
		assert.Equal(t, d, g)
		resp := ffa.DirectResp{Is64: d.Is64, Src: d.Dst, Dst: d.Src, Args: d.Args}
		gr, err := ffa.DecodeDirectResp(resp.Encode())
		require.NoError(t, err)
		assert.Equal(t, resp, gr)
	}
	// 32-bit direct request: upper register halves are not part of it
	trunc, _ := ffa.DecodeDirectReq(ffa.DirectReq{Args: [5]uint64{1<<40 | 7}}.Encode())
	assert.Equal(t, uint64(7), trunc.Args[0])

	d2 := ffa.DirectReq2{Src: 0, Dst: 0x8001, UUID: u, Args: [14]uint64{1, 2, 13: 14}}
	f2 := d2.Encode()
	assert.Equal(t, u.Regs64()[0], f2[2])
	assert.Equal(t, uint64(14), f2[17])
	g2, err := ffa.DecodeDirectReq2(f2)
	require.NoError(t, err)
	assert.Equal(t, d2, g2)
	r2 := ffa.DirectResp2{Src: 0x8001, Dst: 0, Args: [14]uint64{9}}
	gr2, err := ffa.DecodeDirectResp2(r2.Encode())
	require.NoError(t, err)
	assert.Equal(t, r2, gr2)
	bad := r2.Encode()
	bad[2] = 1
	_, err = ffa.DecodeDirectResp2(bad)
	assert.Equal(t, ffa.ErrInvalidParameters, err)

	// wrong function IDs
	_, err = ffa.DecodeDirectReq(ffa.Frame{uint64(ffa.FuncVersion)})
	assert.Equal(t, ffa.ErrNotSupported, err)
	_, err = ffa.DecodeDirectResp(ffa.ErrorFrame(ffa.ErrDenied))
	assert.Equal(t, ffa.ErrDenied, err)
}

func TestPartitionInfoDescriptors(t *testing.T) {
	u := ffa.MustParseUUID("17b862a4-1806-4faf-86b3-089a58353861")
	pi := ffa.PartitionInfo{ID: 0x8001, ExecContexts: 2, Properties: ffa.PropDirectReqRecv | ffa.PropAArch64 | ffa.PropDirectReq2Recv, UUID: u}
	b8, err := pi.AppendBinary(nil, 8)
	require.NoError(t, err)
	assert.Equal(t, []byte{0x01, 0x80, 0x02, 0x00, 0x01, 0x03, 0x00, 0x00}, b8)
	b24, err := pi.AppendBinary(nil, 24)
	require.NoError(t, err)
	assert.Equal(t, u[:], b24[8:])
	_, err = pi.AppendBinary(nil, 12)
	assert.Error(t, err)
	buf := make([]byte, 24)
	require.NoError(t, pi.PutBinary(buf, 24))
	assert.Equal(t, b24, buf)
	assert.Error(t, pi.PutBinary(buf[:8], 24))
	back, err := ffa.ParsePartitionInfo(b24, 1, 24)
	require.NoError(t, err)
	assert.Equal(t, pi, back[0])
	_, err = ffa.ParsePartitionInfo(b24, 2, 24)
	assert.Error(t, err)
	_, err = ffa.ParsePartitionInfo(b24, 1, 16)
	assert.Error(t, err)
	// a future, larger descriptor is read by its first 24 bytes
	b32 := append(append([]byte{}, b24...), make([]byte, 8)...)
	back, err = ffa.ParsePartitionInfo(b32, 1, 32)
	require.NoError(t, err)
	assert.Equal(t, pi, back[0])
	assert.Equal(t, 8, ffa.PartitionInfoSize(ffa.Version1_0))
	assert.Equal(t, 24, ffa.PartitionInfoSize(ffa.Version1_1))
	assert.Equal(t, "direct-req-recv|aarch64|direct-req2-recv", pi.Properties.String())
	assert.Equal(t, "0", ffa.PartitionProperties(0).String())
	assert.Equal(t, "id-type=3|0x800", (ffa.IDTypeAux | 1<<11).String())
	assert.True(t, pi.Properties.Has(ffa.PropAArch64))
}
