package ffa_test

import (
	"encoding/binary"
	"testing"

	"github.com/ffatpm/ffatpm/ffa"
)

func frameFrom(b []byte) ffa.Frame {
	var f ffa.Frame
	for i := range f {
		if len(b) >= 8 {
			f[i] = binary.LittleEndian.Uint64(b)
			b = b[8:]
		} else if len(b) > 0 {
			var tmp [8]byte
			copy(tmp[:], b)
			f[i] = binary.LittleEndian.Uint64(tmp[:])
			b = nil
		}
	}
	return f
}

func frameBytes(f ffa.Frame) []byte {
	b := make([]byte, 0, 144)
	for _, r := range f {
		b = binary.LittleEndian.AppendUint64(b, r)
	}
	return b
}

func seedFrames() []ffa.Frame {
	u := ffa.MustParseUUID("17b862a4-1806-4faf-86b3-089a58353861")
	return []ffa.Frame{
		ffa.VersionReq{Version: ffa.Version1_2}.Encode(),
		ffa.VersionResp{NotSupported: true}.Encode(),
		ffa.FeaturesReq{ID: uint32(ffa.FuncRxTxMap64)}.Encode(),
		ffa.FeaturesResp{Props: [2]uint32{16 << 16}}.Encode(),
		ffa.IDResp{ID: 0x8000}.Encode(),
		ffa.RxTxMapReq{TX: 0x8000_0000, RX: 0x8000_1000, PageCount: 1}.Encode(),
		ffa.RxTxMapReq{SMC32: true, TX: 0x8000_0000, RX: 0x8000_1000, PageCount: 1}.Encode(),
		ffa.RxTxUnmapReq{ID: 0}.Encode(),
		ffa.RxReleaseReq{}.Encode(),
		ffa.PartitionInfoGetReq{UUID: u, Flags: 1}.Encode(),
		ffa.PartitionInfoGetResp{Count: 1, DescSize: 24}.Encode(),
		ffa.PartitionInfoGetRegsReq{UUID: u, StartIndex: 1}.Encode(),
		ffa.PartitionInfoGetRegsResp{LastIndex: 1, CurrentIndex: 1, DescSize: 24, N: 2,
			Infos: [5]ffa.PartitionInfo{{ID: 0x8001, UUID: u}, {ID: 0x8002}}}.Encode(),
		ffa.DirectReq{Src: 0, Dst: 0x8001, Args: [5]uint64{1, 2}}.Encode(),
		ffa.DirectReq{Is64: true, Src: 0, Dst: 0x8001, Args: [5]uint64{1 << 40}}.Encode(),
		ffa.DirectResp{Is64: true, Src: 0x8001, Args: [5]uint64{3}}.Encode(),
		ffa.DirectReq2{Dst: 0x8001, UUID: u, Args: [14]uint64{13: 1}}.Encode(),
		ffa.DirectResp2{Src: 0x8001, Args: [14]uint64{4}}.Encode(),
		ffa.ErrorFrame(ffa.ErrBusy),
	}
}

// FuzzDecodeFrame runs every frame decoder on arbitrary registers: none may
// panic, and whatever decodes cleanly re-encodes to a frame that decodes to
// the same value (decode(encode(decode(f))) == decode(f)).
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(frameBytes(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr := frameFrom(b)
		_ = fr.String()
		_ = fr.Err()
		if r, err := ffa.DecodeVersionReq(fr); err == nil {
			if r2, _ := ffa.DecodeVersionReq(r.Encode()); r2 != r {
				t.Fatalf("VersionReq %+v != %+v", r2, r)
			}
		}
		if r, err := ffa.DecodeVersionResp(fr); err == nil {
			if r2, _ := ffa.DecodeVersionResp(r.Encode()); r2 != r {
				t.Fatalf("VersionResp %+v != %+v", r2, r)
			}
		}
		if r, err := ffa.DecodeFeaturesReq(fr); err == nil {
			if r2, _ := ffa.DecodeFeaturesReq(r.Encode()); r2 != r {
				t.Fatalf("FeaturesReq")
			}
		}
		if r, err := ffa.DecodeFeaturesResp(fr); err == nil {
			if r2, _ := ffa.DecodeFeaturesResp(r.Encode()); r2 != r {
				t.Fatalf("FeaturesResp")
			}
		}
		if r, err := ffa.DecodeIDResp(fr); err == nil {
			if r2, _ := ffa.DecodeIDResp(r.Encode()); r2 != r {
				t.Fatalf("IDResp")
			}
		}
		if r, err := ffa.DecodeRxTxMapReq(fr); err == nil {
			if r2, _ := ffa.DecodeRxTxMapReq(r.Encode()); r2 != r {
				t.Fatalf("RxTxMapReq %+v != %+v", r2, r)
			}
		}
		if r, err := ffa.DecodeRxTxUnmapReq(fr); err == nil {
			if r2, _ := ffa.DecodeRxTxUnmapReq(r.Encode()); r2 != r {
				t.Fatalf("RxTxUnmapReq")
			}
		}
		if r, err := ffa.DecodeRxReleaseReq(fr); err == nil {
			if r2, _ := ffa.DecodeRxReleaseReq(r.Encode()); r2 != r {
				t.Fatalf("RxReleaseReq")
			}
		}
		if r, err := ffa.DecodePartitionInfoGetReq(fr); err == nil {
			if r2, _ := ffa.DecodePartitionInfoGetReq(r.Encode()); r2 != r {
				t.Fatalf("PartitionInfoGetReq")
			}
		}
		if r, err := ffa.DecodePartitionInfoGetResp(fr); err == nil {
			if r2, _ := ffa.DecodePartitionInfoGetResp(r.Encode()); r2 != r {
				t.Fatalf("PartitionInfoGetResp")
			}
		}
		if r, err := ffa.DecodePartitionInfoGetRegsReq(fr); err == nil {
			if r2, _ := ffa.DecodePartitionInfoGetRegsReq(r.Encode()); r2 != r {
				t.Fatalf("PartitionInfoGetRegsReq")
			}
		}
		for _, start := range []uint16{0, uint16(fr[2] >> 16)} {
			if r, err := ffa.DecodePartitionInfoGetRegsResp(fr, start); err == nil {
				if r.N < 1 || r.N > ffa.PartitionInfoRegsMax {
					t.Fatalf("N = %d", r.N)
				}
				if r2, _ := ffa.DecodePartitionInfoGetRegsResp(r.Encode(), start); r2 != r {
					t.Fatalf("PartitionInfoGetRegsResp %+v != %+v", r2, r)
				}
			}
		}
		if r, err := ffa.DecodeDirectReq(fr); err == nil {
			if r2, _ := ffa.DecodeDirectReq(r.Encode()); r2 != r {
				t.Fatalf("DirectReq %+v != %+v", r2, r)
			}
		}
		if r, err := ffa.DecodeDirectResp(fr); err == nil {
			if r2, _ := ffa.DecodeDirectResp(r.Encode()); r2 != r {
				t.Fatalf("DirectResp")
			}
		}
		if r, err := ffa.DecodeDirectReq2(fr); err == nil {
			if r2, _ := ffa.DecodeDirectReq2(r.Encode()); r2 != r {
				t.Fatalf("DirectReq2")
			}
		}
		if r, err := ffa.DecodeDirectResp2(fr); err == nil {
			if r2, _ := ffa.DecodeDirectResp2(r.Encode()); r2 != r {
				t.Fatalf("DirectResp2")
			}
		}
	})
}

// FuzzParsePartitionInfo: arbitrary RX contents, counts and sizes never
// panic; 8- and 24-byte descriptors round-trip.
func FuzzParsePartitionInfo(f *testing.F) {
	u := ffa.MustParseUUID("17b862a4-1806-4faf-86b3-089a58353861")
	d, _ := ffa.PartitionInfo{ID: 0x8001, ExecContexts: 1, Properties: 0x301, UUID: u}.AppendBinary(nil, 24)
	f.Add(d, 1, 24)
	f.Add(d[:8], 1, 8)
	f.Add(d, 3, 8)
	f.Add([]byte{}, -1, 0)
	f.Add(d, 1<<30, 1<<20)
	f.Fuzz(func(t *testing.T, b []byte, count, size int) {
		infos, err := ffa.ParsePartitionInfo(b, count, size)
		if err != nil {
			return
		}
		if len(infos) != count {
			t.Fatalf("%d infos for count %d", len(infos), count)
		}
		for _, sz := range []int{8, 24} {
			var out []byte
			for _, pi := range infos {
				if sz == 8 {
					pi.UUID = ffa.UUID{}
				}
				out, err = pi.AppendBinary(out, sz)
				if err != nil {
					t.Fatal(err)
				}
			}
			back, err := ffa.ParsePartitionInfo(out, count, sz)
			if err != nil {
				t.Fatal(err)
			}
			for i := range back {
				want := infos[i]
				if sz == 8 {
					want.UUID = ffa.UUID{}
				}
				if back[i] != want {
					t.Fatalf("round trip %+v != %+v", back[i], want)
				}
				if ffa.PartitionInfoFromRegs(want.Regs()) != want {
					t.Fatalf("regs round trip")
				}
			}
		}
	})
}

// FuzzParseUUID: parsing never panics; what parses prints back the same
// (lower-cased) and packs/unpacks through registers.
func FuzzParseUUID(f *testing.F) {
	f.Add("17b862a4-1806-4faf-86b3-089a58353861")
	f.Add("00000000-0000-0000-0000-000000000000")
	f.Add("ZZb862a4-1806-4faf-86b3-089a58353861")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ffa.ParseUUID(s)
		if err != nil {
			return
		}
		u2, err := ffa.ParseUUID(u.String())
		if err != nil || u2 != u {
			t.Fatalf("%q -> %v -> %v (%v)", s, u, u2, err)
		}
		if ffa.UUIDFromRegs(u.Regs()) != u {
			t.Fatal("Regs round trip")
		}
		r := u.Regs64()
		if ffa.UUIDFromRegs64(r[0], r[1]) != u {
			t.Fatal("Regs64 round trip")
		}
	})
}
