package hashalg

import (
	"bytes"
	"testing"
)

// Sum's one-shot and joined paths give the streaming hash's bytes for every
// algorithm, part count and size around the join limit.
func TestSumMatchesStream(t *testing.T) {
	mk := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + n)
		}
		return b
	}
	cases := [][][]byte{
		nil,
		{nil},
		{mk(0)},
		{mk(4096)},
		{mk(20), mk(32)},
		{mk(sumJoinMax - 1), mk(1)},
		{mk(sumJoinMax), mk(1)},
		{mk(3), mk(0), mk(100), mk(64)},
		{mk(1000), mk(24)},
	}
	for _, a := range Known() {
		if !a.Available() {
			continue
		}
		for i, parts := range cases {
			got, want := a.Sum(parts...), a.sumStream(parts)
			if !bytes.Equal(got, want) || len(got) != a.Size() {
				t.Errorf("%v case %d: Sum %x, streaming %x", a, i, got, want)
			}
		}
	}
}

// BenchmarkSum puts the one-shot Sum next to the streaming hash it replaced,
// on a 4 KiB file and on an extend's old || digest.
func BenchmarkSum(b *testing.B) {
	file := make([]byte, 4096)
	old, dig := make([]byte, 48), make([]byte, 48)
	for _, a := range []Alg{SHA1, SHA256, SHA384} {
		b.Run(a.String()+"/file/stream", func(b *testing.B) {
			for b.Loop() {
				a.sumStream([][]byte{file})
			}
		})
		b.Run(a.String()+"/file/oneshot", func(b *testing.B) {
			for b.Loop() {
				a.Sum(file)
			}
		})
		b.Run(a.String()+"/extend/stream", func(b *testing.B) {
			for b.Loop() {
				a.sumStream([][]byte{old[:a.Size()], dig[:a.Size()]})
			}
		})
		b.Run(a.String()+"/extend/oneshot", func(b *testing.B) {
			for b.Loop() {
				a.Sum(old[:a.Size()], dig[:a.Size()])
			}
		})
	}
}
