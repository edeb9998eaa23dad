package ima

import (
	"fmt"
	"sync"

	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// Entry is one measurement list record (struct ima_template_entry).
type Entry struct {
	PCR      int
	Template string
	Fields   []Field
	// Digests holds the template digest for every algorithm of the list,
	// in List.Algs order. A violation's digests are all zero.
	Digests [][]byte
}

// Digest returns the entry's template digest for alg.
func (e *Entry) Digest(l *List, alg hashalg.Alg) []byte {
	for i, a := range l.algs {
		if a == alg {
			return e.Digests[i]
		}
	}
	return nil
}

// List is IMA's append-only measurement list. Appending is amortized O(1):
// entries live in a growing slice and the duplicate check
// (ima_lookup_digest_entry) is a hash map keyed by PCR and template digest.
// It is safe for concurrent use.
type List struct {
	mu      sync.RWMutex
	algs    []hashalg.Alg
	rot     string
	entries []Entry
	seen    map[string]struct{}
}

// NewList returns an empty list whose entries carry template digests for
// algs (ima_algo_array: the allocated banks, then SHA-1 and IMA's hash if
// missing). rot names the root of trust, "" in TPM-bypass.
func NewList(algs []hashalg.Alg, rot string) *List {
	return &List{algs: append([]hashalg.Alg(nil), algs...), rot: rot, seen: map[string]struct{}{}}
}

// AlgoArray builds Linux's ima_algo_array from the root of trust's banks:
// the banks in order, then SHA-1 and hashAlgo when not among them.
func AlgoArray(banks []hashalg.Alg, hashAlgo hashalg.Alg) []hashalg.Alg {
	out := append([]hashalg.Alg(nil), banks...)
	has := func(a hashalg.Alg) bool {
		for _, b := range out {
			if b == a {
				return true
			}
		}
		return false
	}
	if !has(hashalg.SHA1) {
		out = append(out, hashalg.SHA1)
	}
	if !has(hashAlgo) {
		out = append(out, hashAlgo)
	}
	return out
}

// Algs returns the algorithms the list keeps template digests for.
func (l *List) Algs() []hashalg.Alg { return append([]hashalg.Alg(nil), l.algs...) }

// RootOfTrust names the root of trust the list was measured into ("" for bypass).
func (l *List) RootOfTrust() string { return l.rot }

// Len returns the number of entries.
func (l *List) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.entries)
}

// Entries returns a snapshot of the entries (the slice header is copied;
// entries are never modified after append).
func (l *List) Entries() []Entry {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.entries[:len(l.entries):len(l.entries)]
}

func (l *List) key(pcr int, d []byte) string {
	k := make([]byte, 4, 4+len(d))
	k[0], k[1], k[2], k[3] = byte(pcr), byte(pcr>>8), byte(pcr>>16), byte(pcr>>24)
	return string(append(k, d...))
}

// Contains reports whether an entry with this PCR and template digest (of
// the list's first algorithm) is already present.
func (l *List) Contains(pcr int, digest []byte) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	_, ok := l.seen[l.key(pcr, digest)]
	return ok
}

// Append adds e unless it duplicates an existing entry (same PCR and
// template digest), as ima_add_template_entry does for non-violations.
// It reports whether e was added.
func (l *List) Append(e Entry, violation bool) (bool, error) {
	if len(e.Digests) != len(l.algs) {
		return false, fmt.Errorf("ima: entry has %d template digests, list keeps %d", len(e.Digests), len(l.algs))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !violation {
		k := l.key(e.PCR, e.Digests[0])
		if _, dup := l.seen[k]; dup {
			return false, nil
		}
		l.seen[k] = struct{}{}
	}
	l.entries = append(l.entries, e)
	return true, nil
}
