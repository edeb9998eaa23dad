package hashalg

import (
	"crypto"
	"crypto/sha1" //nolint:gosec // SHA-1 PCR banks are what TPMs and IMA use.
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// Alg is a TCG TPM_ALG_ID for a hash algorithm.
type Alg uint16

// The hash algorithms PCR banks use (TCG Algorithm Registry).
const (
	SHA1   Alg = 0x0004
	SHA256 Alg = 0x000B
	SHA384 Alg = 0x000C
	SHA512 Alg = 0x000D
	SM3256 Alg = 0x0012
)

type info struct {
	name  string // Linux hash_algo_name[]
	size  int
	hash  crypto.Hash // 0 when Go has no implementation
	tools string      // tpm2-tools / TCG name
}

func lookup(a Alg) (info, bool) {
	switch a {
	case SHA1:
		return info{"sha1", 20, crypto.SHA1, "sha1"}, true
	case SHA256:
		return info{"sha256", 32, crypto.SHA256, "sha256"}, true
	case SHA384:
		return info{"sha384", 48, crypto.SHA384, "sha384"}, true
	case SHA512:
		return info{"sha512", 64, crypto.SHA512, "sha512"}, true
	case SM3256:
		return info{"sm3", 32, 0, "sm3_256"}, true
	}
	return info{}, false
}

// Known lists every algorithm this package knows, in TPM_ALG_ID order.
func Known() []Alg { return []Alg{SHA1, SHA256, SHA384, SHA512, SM3256} }

// Valid reports whether a is a hash algorithm this package knows.
func (a Alg) Valid() bool { _, ok := lookup(a); return ok }

// String returns Linux's name for the algorithm ("sha256"), or
// "alg(0x....)" for an unknown identifier.
func (a Alg) String() string {
	if i, ok := lookup(a); ok {
		return i.name
	}
	return fmt.Sprintf("alg(%#04x)", uint16(a))
}

// Size is the digest size in bytes; 0 for an unknown algorithm.
func (a Alg) Size() int {
	i, _ := lookup(a)
	return i.size
}

// Available reports whether Go can compute this hash (SM3 it cannot).
func (a Alg) Available() bool {
	i, ok := lookup(a)
	return ok && i.hash != 0
}

// New returns a fresh hash.Hash, or nil when !Available().
func (a Alg) New() hash.Hash {
	switch a {
	case SHA1:
		return sha1.New() //nolint:gosec
	case SHA256:
		return sha256.New()
	case SHA384:
		return sha512.New384()
	case SHA512:
		return sha512.New()
	}
	return nil
}

// Sum hashes data; it panics only on a programming error (an algorithm that
// is not Available), which callers rule out with Available first.
func (a Alg) Sum(data ...[]byte) []byte {
	// One-shot sums keep the hash state on the stack; parts are joined in a
	// stack buffer when they are small (template fields, old || digest).
	var one []byte
	var buf [sumJoinMax]byte
	switch len(data) {
	case 0:
	case 1:
		one = data[0]
	default:
		n := 0
		for _, d := range data {
			n += len(d)
		}
		if n > len(buf) {
			return a.sumStream(data)
		}
		one = buf[:0]
		for _, d := range data {
			one = append(one, d...)
		}
	}
	switch a {
	case SHA1:
		s := sha1.Sum(one) //nolint:gosec
		return s[:]
	case SHA256:
		s := sha256.Sum256(one)
		return s[:]
	case SHA384:
		s := sha512.Sum384(one)
		return s[:]
	case SHA512:
		s := sha512.Sum512(one)
		return s[:]
	}
	return a.sumStream(data)
}

// sumJoinMax is the largest multi-part input Sum joins on the stack.
const sumJoinMax = 512

func (a Alg) sumStream(data [][]byte) []byte {
	h := a.New()
	if h == nil {
		panic(fmt.Sprintf("hashalg: %v is not available", a))
	}
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

// Parse accepts Linux's name ("sha256"), the TCG name ("sm3_256") or the
// upper-case TPM name ("SHA256").
func Parse(s string) (Alg, error) {
	for _, a := range Known() {
		i, _ := lookup(a)
		if s == i.name || s == i.tools || s == upper(i.name) || s == upper(i.tools) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("hashalg: unknown hash algorithm %q (want one of sha1, sha256, sha384, sha512, sm3)", s)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Extend returns H(old || digest), the PCR/RTMR extend operation.
func (a Alg) Extend(old, digest []byte) []byte { return a.Sum(old, digest) }

// Digest is one bank's value: an algorithm and its digest bytes.
type Digest struct {
	Alg    Alg
	Digest []byte
}

// Find returns the digest of bank a in ds.
func Find(ds []Digest, a Alg) ([]byte, bool) {
	for _, d := range ds {
		if d.Alg == a {
			return d.Digest, true
		}
	}
	return nil, false
}
