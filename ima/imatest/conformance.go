package imatest

import (
	"bytes"
	"testing"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// RootOfTrustInfo describes the register file a factory's roots of trust
// have, so the suite knows what to expect.
type RootOfTrustInfo struct {
	// Registers is how many registers each bank has (24 for a TPM, 4 for RTMRs).
	Registers int
	// Scratch is a register the suite may extend freely (e.g. 16 on a TPM).
	Scratch int
}

// RunRootOfTrust is a conformance suite for ima.RootOfTrust
// implementations: newRoT returns a fresh root of trust whose registers
// start at their reset values. It checks the extend rule
// (new = H(old || digest) in every bank, in one operation), reads, the
// default index and boot-aggregate registers being in range, and that bad
// input is refused with an error rather than a panic or a partial extend.
func RunRootOfTrust(t *testing.T, info RootOfTrustInfo, newRoT func(t *testing.T) ima.RootOfTrust) {
	t.Run("banks", func(t *testing.T) {
		r := newRoT(t)
		banks := r.Banks()
		if len(banks) == 0 {
			t.Fatal("no banks")
		}
		seen := map[hashalg.Alg]bool{}
		for _, b := range banks {
			if !b.Valid() || seen[b] {
				t.Fatalf("bank list %v has an unknown or repeated algorithm", banks)
			}
			seen[b] = true
		}
		if r.Name() == "" {
			t.Error("empty Name")
		}
	})
	t.Run("indices", func(t *testing.T) {
		r := newRoT(t)
		if d := r.DefaultIndex(); d < 0 || d >= info.Registers {
			t.Errorf("DefaultIndex %d outside 0..%d", d, info.Registers-1)
		}
		for _, b := range r.Banks() {
			idx := r.BootAggregateIndices(b)
			if len(idx) == 0 {
				t.Errorf("%v: no boot_aggregate registers", b)
			}
			for _, i := range idx {
				if i < 0 || i >= info.Registers || i == r.DefaultIndex() {
					t.Errorf("%v: boot_aggregate register %d out of range or IMA's own", b, i)
				}
			}
		}
	})
	t.Run("extend", func(t *testing.T) {
		r := newRoT(t)
		before := map[hashalg.Alg][]byte{}
		for _, b := range r.Banks() {
			v, err := r.Read(info.Scratch, b)
			if err != nil {
				t.Fatalf("read %v[%d]: %v", b, info.Scratch, err)
			}
			if len(v) != b.Size() {
				t.Fatalf("read %v[%d]: %d bytes", b, info.Scratch, len(v))
			}
			before[b] = v
		}
		ds := make([]hashalg.Digest, 0)
		for i, b := range r.Banks() {
			ds = append(ds, hashalg.Digest{Alg: b, Digest: bytes.Repeat([]byte{byte(0x11 * (i + 1))}, b.Size())})
		}
		if err := r.Extend(info.Scratch, ds); err != nil {
			t.Fatalf("extend: %v", err)
		}
		for _, d := range ds {
			got, err := r.Read(info.Scratch, d.Alg)
			if err != nil {
				t.Fatal(err)
			}
			if want := d.Alg.Extend(before[d.Alg], d.Digest); !bytes.Equal(got, want) {
				t.Errorf("%v[%d] = %x, want H(old||digest) = %x", d.Alg, info.Scratch, got, want)
			}
		}
	})
	t.Run("refuses", func(t *testing.T) {
		r := newRoT(t)
		banks := r.Banks()
		good := make([]hashalg.Digest, len(banks))
		for i, b := range banks {
			good[i] = hashalg.Digest{Alg: b, Digest: make([]byte, b.Size())}
		}
		snapshot := func() [][]byte {
			var out [][]byte
			for _, b := range banks {
				v, err := r.Read(info.Scratch, b)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, v)
			}
			return out
		}
		s0 := snapshot()
		short := append([]hashalg.Digest(nil), good...)
		short[0] = hashalg.Digest{Alg: banks[0], Digest: []byte{1}}
		for name, call := range map[string]func() error{
			"index -1":       func() error { return r.Extend(-1, good) },
			"index past end": func() error { return r.Extend(info.Registers, good) },
			"no digests":     func() error { return r.Extend(info.Scratch, nil) },
			"short digest":   func() error { return r.Extend(info.Scratch, short) },
		} {
			if err := call(); err == nil {
				t.Errorf("%s: no error", name)
			}
		}
		if _, err := r.Read(info.Registers, banks[0]); err == nil {
			t.Error("read past the last register: no error")
		}
		if s1 := snapshot(); !equalAll(s0, s1) {
			t.Error("a refused extend changed a register")
		}
	})
}

func equalAll(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
