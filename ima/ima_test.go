package ima_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/eventlog"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imatest"
	"github.com/ffatpm/ffatpm/ima/policy"
)

// TPM-bypass: the exact log line, a boot_aggregate entry whose digest is
// all zeros, real template digests, and nothing extended anywhere.
func TestBypass(t *testing.T) {
	var logs []string
	m, err := ima.Init(ima.Config{Policy: policy.TCB()}, nil, ima.BootAggregateName, func(l string) { logs = append(logs, l) })
	require.NoError(t, err)
	assert.Equal(t, []string{"ima: No TPM chip found, activating TPM-bypass!", "ima: Allocated hash algorithm: sha256",
		"ima: No architecture policies found"}, logs, "Linux's order")
	assert.True(t, m.Bypass())
	assert.Equal(t, 10, m.PCR())
	for _, f := range ima.EmbeddedFiles() {
		_, err := m.Measure(f)
		require.NoError(t, err)
	}
	ents := m.List().Entries()
	require.NotEmpty(t, ents)
	first := ents[0]
	assert.Equal(t, append([]byte("sha256:\x00"), make([]byte, 32)...), first.Fields[0].Data)
	assert.Equal(t, "boot_aggregate\x00", string(first.Fields[1].Data))
	assert.NotEqual(t, make([]byte, 20), first.Digest(m.List(), hashalg.SHA1), "the template digest itself is real")
	assert.Equal(t, []hashalg.Alg{hashalg.SHA1, hashalg.SHA256}, m.List().Algs())
	assert.Equal(t, "", m.List().RootOfTrust())

	var ascii bytes.Buffer
	require.NoError(t, m.List().WriteASCII(&ascii, hashalg.SHA1))
	assert.Contains(t, ascii.String(), " ima-ng sha256:0000000000000000000000000000000000000000000000000000000000000000 boot_aggregate\n")

	// The verifier says bypass.
	var bin bytes.Buffer
	require.NoError(t, m.List().WriteBinary(&bin, hashalg.SHA1))
	recs, err := ima.ParseBinary(bin.Bytes(), 20)
	require.NoError(t, err)
	soft := imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256)
	p1, _ := ima.ReadAll(soft, 24)
	pcrs := ima.PCRValues{}
	for i, v := range p1[hashalg.SHA256] {
		pcrs[i] = v
	}
	rep := ima.Verify(ima.Evidence{Lists: map[hashalg.Alg][]ima.Record{hashalg.SHA1: recs}, PCRs: map[hashalg.Alg]ima.PCRValues{hashalg.SHA256: pcrs}})
	assert.True(t, rep.Bypass)
	assert.Contains(t, rep.String(), "FAIL boot_aggregate: boot_aggregate is all zeros: the kernel was in TPM-bypass")
	assert.Contains(t, rep.String(), "FAIL PCR10 sha256")
}

// With a root of trust: boot_aggregate over PCR0..9 of the sha256 bank,
// every measurement extends PCR10 in every bank.
func TestInitWithRootOfTrust(t *testing.T) {
	soft := imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256, hashalg.SHA384)
	for i := 0; i < 10; i++ {
		require.NoError(t, soft.Extend(i, digestsFor(soft.Banks(), byte(i+1))))
	}
	m, err := ima.Init(ima.Config{Policy: policy.TCB()}, soft, ima.BootAggregateLateName, nil)
	require.NoError(t, err)
	want, err := ima.BootAggregate(soft, hashalg.SHA256)
	require.NoError(t, err)
	first := m.List().Entries()[0]
	assert.Equal(t, append([]byte("sha256:\x00"), want...), first.Fields[0].Data)
	assert.Equal(t, "boot_aggregate_late\x00", string(first.Fields[1].Data))
	assert.Equal(t, []hashalg.Alg{hashalg.SHA1, hashalg.SHA256, hashalg.SHA384}, m.List().Algs())

	n := soft.Extends
	out, err := m.Measure(ima.File{Path: "/bin/sh", Data: []byte("x"), Req: policy.Request{Func: policy.BprmCheck, Mask: policy.MayExec}})
	require.NoError(t, err)
	assert.Equal(t, ima.Measured, out)
	assert.Equal(t, n+1, soft.Extends, "one extend carrying every bank")
	out, err = m.Measure(ima.File{Path: "/bin/sh", Data: []byte("x"), Req: policy.Request{Func: policy.BprmCheck, Mask: policy.MayExec}})
	require.NoError(t, err)
	assert.Equal(t, ima.Duplicate, out)
	out, err = m.Measure(ima.File{Path: "/proc/x", Data: []byte("x"), Req: policy.Request{Func: policy.FileCheck, Mask: policy.MayRead, FSMagic: policy.ProcSuperMagic}})
	require.NoError(t, err)
	assert.Equal(t, ima.NotMeasured, out)
	assert.Equal(t, n+1, soft.Extends)

	// PCR10 of every bank replays from the list.
	for _, bank := range soft.Banks() {
		var bin bytes.Buffer
		require.NoError(t, m.List().WriteBinary(&bin, bank))
		recs, err := ima.ParseBinary(bin.Bytes(), bank.Size())
		require.NoError(t, err)
		got, err := ima.ReplayList(recs, bank, bank)
		require.NoError(t, err)
		v, _ := soft.Read(10, bank)
		assert.Equal(t, v, got[10], "%v", bank)
	}
}

// SHA-1 boot_aggregate covers PCR0..7 only; other banks also PCR8 and 9.
func TestBootAggregateRegisters(t *testing.T) {
	soft := imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256)
	a1, _ := ima.BootAggregate(soft, hashalg.SHA1)
	a256, _ := ima.BootAggregate(soft, hashalg.SHA256)
	require.NoError(t, soft.Extend(8, digestsFor(soft.Banks(), 1)))
	b1, _ := ima.BootAggregate(soft, hashalg.SHA1)
	b256, _ := ima.BootAggregate(soft, hashalg.SHA256)
	assert.Equal(t, a1, b1, "PCR8 is not in the SHA-1 aggregate")
	assert.NotEqual(t, a256, b256, "PCR8 is in the SHA-256 aggregate")
	assert.Equal(t, hashalg.SHA1.Sum(make([]byte, 8*20)), a1)
}

func TestBootAggregateBank(t *testing.T) {
	tests := []struct {
		banks []hashalg.Alg
		want  hashalg.Alg
		ok    bool
	}{
		{[]hashalg.Alg{hashalg.SHA1, hashalg.SHA256}, hashalg.SHA256, true},
		{[]hashalg.Alg{hashalg.SHA1}, hashalg.SHA1, true},
		{[]hashalg.Alg{hashalg.SHA384, hashalg.SHA1}, hashalg.SHA1, true},
		{[]hashalg.Alg{hashalg.SHA1, hashalg.SHA384}, hashalg.SHA1, true},
		{[]hashalg.Alg{hashalg.SHA384}, 0, false},
		{[]hashalg.Alg{hashalg.SHA512, hashalg.SHA256}, hashalg.SHA256, true},
	}
	for _, tt := range tests {
		got, ok := ima.BootAggregateBank(tt.banks, hashalg.SHA256)
		assert.Equal(t, tt.ok, ok, "%v", tt.banks)
		assert.Equal(t, tt.want, got, "%v", tt.banks)
	}
	got, ok := ima.BootAggregateBank([]hashalg.Alg{hashalg.SHA1, hashalg.SHA384}, hashalg.SHA384)
	assert.True(t, ok)
	assert.Equal(t, hashalg.SHA384, got)
}

// A violation: zero template digests in the list, ff..ff extended.
func TestViolation(t *testing.T) {
	soft := imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256)
	m, err := ima.Init(ima.Config{}, soft, ima.BootAggregateName, nil)
	require.NoError(t, err)
	before, _ := soft.Read(10, hashalg.SHA256)
	require.NoError(t, m.Violation("/etc/shadow"))
	require.NoError(t, m.Violation("/etc/shadow")) // violations are never deduplicated
	after, _ := soft.Read(10, hashalg.SHA256)
	ff := bytes.Repeat([]byte{0xff}, 32)
	assert.Equal(t, hashalg.SHA256.Extend(hashalg.SHA256.Extend(before, ff), ff), after)
	ents := m.List().Entries()
	require.Len(t, ents, 3)
	v := ents[1]
	assert.Equal(t, make([]byte, 20), v.Digest(m.List(), hashalg.SHA1))
	assert.Equal(t, append([]byte("sha256:\x00"), make([]byte, 32)...), v.Fields[0].Data)
}

// Extend failures are reported and counted, the entry stays in the list.
func TestExtendFailure(t *testing.T) {
	soft := imatest.NewSoftTPM(hashalg.SHA256)
	var logs []string
	m, err := ima.Init(ima.Config{}, soft, ima.BootAggregateName, func(l string) { logs = append(logs, l) })
	require.NoError(t, err)
	soft.FailExtend = true
	out, err := m.MeasureData("/x", []byte("x"), nil, ima.TemplateIMANG, 10)
	require.NoError(t, err, "ima_add_template_entry returns 0 after a TPM error")
	assert.Equal(t, ima.Measured, out)
	assert.Equal(t, 2, m.List().Len())
	assert.Equal(t, 1, m.ExtendErrors())
	assert.ErrorIs(t, m.LastExtendError(), imatest.ErrInjected)
	assert.Contains(t, logs, "ima: Error Communicating to TPM chip, result: -5")
}

func TestRTMRRootOfTrust(t *testing.T) {
	r := ima.NewRTMR()
	require.NoError(t, r.Extend(0, []hashalg.Digest{{Alg: hashalg.SHA384, Digest: hashalg.SHA384.Sum([]byte("fw"))}}))
	var logs []string
	m, err := ima.Init(ima.Config{Policy: policy.TCB()}, r, ima.BootAggregateName, func(l string) { logs = append(logs, l) })
	require.NoError(t, err)
	assert.Contains(t, logs, "ima: No suitable TPM algorithm for boot aggregate")
	assert.Equal(t, 2, m.PCR())
	assert.Equal(t, "rtmr", m.List().RootOfTrust())
	for _, f := range ima.EmbeddedFiles() {
		_, err := m.Measure(f)
		require.NoError(t, err)
	}
	// boot_aggregate: no sha256 or sha1 bank, so Linux's rule leaves it zero.
	first := m.List().Entries()[0]
	assert.Equal(t, append([]byte("sha256:\x00"), make([]byte, 32)...), first.Fields[0].Data)
	// With ima_hash=sha384 the RTMR bank is chosen and covers RTMR0..1.
	r2 := ima.NewRTMR()
	require.NoError(t, r2.Extend(1, []hashalg.Digest{{Alg: hashalg.SHA384, Digest: hashalg.SHA384.Sum([]byte("fw"))}}))
	m2, err := ima.Init(ima.Config{HashAlgo: hashalg.SHA384}, r2, ima.BootAggregateName, nil)
	require.NoError(t, err)
	r0, _ := r2.Read(0, hashalg.SHA384)
	r1, _ := r2.Read(1, hashalg.SHA384)
	assert.Equal(t, append([]byte("sha384:\x00"), hashalg.SHA384.Sum(r0, r1)...), m2.List().Entries()[0].Fields[0].Data)

	// RTMR2 replays from the sha384 list.
	var bin bytes.Buffer
	require.NoError(t, m.List().WriteBinary(&bin, hashalg.SHA384))
	recs, err := ima.ParseBinary(bin.Bytes(), 48)
	require.NoError(t, err)
	got, err := ima.ReplayList(recs, hashalg.SHA384, hashalg.SHA384)
	require.NoError(t, err)
	v, _ := r.Read(2, hashalg.SHA384)
	assert.Equal(t, v, got[2])
	assert.Len(t, got, 1, "only RTMR2 is extended")

	assert.ErrorContains(t, r.Extend(4, nil), "out of range")
	_, err = r.Read(0, hashalg.SHA256)
	assert.ErrorContains(t, err, "no sha256 bank")
}

// A template digest from the real kernel's list (entry 2, /init) recomputed
// from the same file digest and name by our template code.
func TestTemplateDigestMatchesLinux(t *testing.T) {
	recs, err := ima.ParseBinary(readRef(t, "binary_runtime_measurements"), 20)
	require.NoError(t, err)
	r := recs[1]
	_, d, ok := r.FileDigest()
	require.True(t, ok)
	tmpl, err := ima.LookupTemplate(ima.TemplateIMANG)
	require.NoError(t, err)
	fields, err := tmpl.BuildFields(ima.Event{Name: "/init", Digest: hashalg.Digest{Alg: hashalg.SHA256, Digest: d}}, hashalg.SHA256)
	require.NoError(t, err)
	assert.Equal(t, r.Fields, fields)
	assert.Equal(t, r.TemplateDigest, ima.TemplateDigest(ima.TemplateIMANG, fields, hashalg.SHA1))
}

func TestTemplateNames(t *testing.T) {
	tmpl, _ := ima.LookupTemplate(ima.TemplateIMA)
	long := "/" + string(bytes.Repeat([]byte("d"), 300)) + "/file name"
	fields, err := tmpl.BuildFields(ima.Event{Name: long, Digest: hashalg.Digest{Alg: hashalg.SHA1, Digest: make([]byte, 20)}}, hashalg.SHA256)
	require.NoError(t, err)
	assert.Equal(t, "file_name\x00", string(fields[1].Data), "n falls back to the base name and replaces spaces")
	_, err = tmpl.BuildFields(ima.Event{Name: "/x", Digest: hashalg.Digest{Alg: hashalg.SHA256, Digest: make([]byte, 32)}}, hashalg.SHA256)
	assert.ErrorContains(t, err, "needs a SHA-1 digest")
	_, err = ima.LookupTemplate("ima-buf")
	assert.ErrorContains(t, err, `unknown template "ima-buf"`)
}

func TestParseBinaryErrors(t *testing.T) {
	good := readRef(t, "binary_runtime_measurements")
	mut := func(off int, v uint32) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"truncated pcr", good[:2], "record 0 at offset 0: truncated PCR index"},
		{"truncated digest", good[:10], "truncated template digest"},
		{"zero name", mut(24, 0), "template name length 0"},
		{"huge name", mut(24, 1000), "template name length 1000"},
		{"huge data", mut(34, 1<<31), "exceeds the"},
		{"bad field", mut(38, 500), "template field 0: length 500 exceeds"},
		{"truncated second", good[:len(good)-1], "record 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ima.ParseBinary(tt.in, 20)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := ima.ParseBinary(good, 0)
	assert.ErrorContains(t, err, "digest size 0")
}

func TestParseASCIIErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10 abc", "got 2 words"},
		{"x 00 ima-ng sha1:00 /a", `PCR "x"`},
		{"10 zz ima-ng sha1:00 /a", "not hex"},
		{"10 00 ima-buf 00 /a", `"ima-buf"`},
		{"10 00 ima-ng sha1:00", "wants 2 fields, got 1"},
		{"10 00 ima-ng sha1:0g /a", "digest is not hex"},
	}
	for _, tt := range tests {
		_, err := ima.ParseASCII([]byte("10 00 ima-ng sha1:00 /ok\n" + tt.in + "\n"))
		require.Error(t, err, tt.in)
		assert.Contains(t, err.Error(), "line 2")
		assert.Contains(t, err.Error(), tt.want)
	}
	// ima-sig with no signature keeps the trailing space.
	recs, err := ima.ParseASCII([]byte("10 00 ima-sig sha256:00 /a \n"))
	require.NoError(t, err)
	assert.Empty(t, recs[0].Fields[2].Data)
}

func TestPCRFileErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"PCR-00 00", "missing ':'"},
		{"PCR0: 00", "want \"PCR-NN"},
		{"PCR-x: 00", "index \"x\""},
		{"PCR-24: 00", "index \"24\""},
		{"PCR-00: zz", "not hex"},
		{"PCR-00: 00\nPCR-01: 0000", "is 2 bytes, earlier values are 1"},
		{"PCR-00: 00\nPCR-00: 00", "given twice"},
		{"hello", "want \"PCR-NN: <hex>\""},
	}
	for _, tt := range tests {
		_, err := ima.ParsePCRFile([]byte(tt.in))
		require.Error(t, err, tt.in)
		assert.Contains(t, err.Error(), tt.want)
	}
}

// The binary list parser never panics, and what it accepts re-exports to
// the same bytes when the records are ima-ng.
func FuzzParseBinary(f *testing.F) {
	f.Add(readRefF(f, "binary_runtime_measurements"), uint8(20))
	soft := imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256)
	for _, tmpl := range []string{ima.TemplateIMA, ima.TemplateSig} {
		m, _ := ima.Init(ima.Config{Template: tmpl}, soft, ima.BootAggregateName, nil)
		_, _ = m.MeasureData("/a b", []byte("x"), []byte{1, 2}, tmpl, 10)
		_ = m.Violation("/v")
		var b bytes.Buffer
		_ = m.List().WriteBinary(&b, hashalg.SHA256)
		f.Add(b.Bytes(), uint8(32))
	}
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		recs, err := ima.ParseBinary(data, int(size))
		for _, r := range recs {
			_ = r.Name()
			_, _, _ = r.FileDigest()
			_ = r.Recompute(hashalg.SHA256)
		}
		if err != nil || int(size) < 1 || int(size) > 64 {
			return
		}
		_, _ = ima.ReplayList(recs, hashalg.SHA1, hashalg.SHA256)
	})
}

func FuzzParseASCII(f *testing.F) {
	f.Add(readRefF(f, "ascii_runtime_measurements"))
	f.Add([]byte("10 0000 ima-sig sha256:00 /a \n 5 0000 ima 0011 /b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, _ := ima.ParseASCII(data)
		for _, r := range recs {
			_ = r.Recompute(hashalg.SHA1)
		}
	})
}

func FuzzParsePCRFile(f *testing.F) {
	f.Add(readRefF(f, "pcrs-sha256.txt"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ima.ParsePCRFile(data)
		if err != nil {
			return
		}
		var b bytes.Buffer
		require.NoError(t, ima.WritePCRFile(&b, p))
		q, err := ima.ParsePCRFile(b.Bytes())
		require.NoError(t, err)
		require.Equal(t, p, q)
	})
}

// Concurrent measurements: the list order is the extend order, so the list
// still replays to the PCR (ima_extend_list_mutex).
func TestConcurrentMeasureReplays(t *testing.T) {
	soft := imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256)
	m, err := ima.Init(ima.Config{}, soft, ima.BootAggregateName, nil)
	require.NoError(t, err)
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func(g int) {
			var err error
			for i := 0; i < 50 && err == nil; i++ {
				_, err = m.MeasureData("/f", []byte{byte(g), byte(i)}, nil, ima.TemplateIMANG, 10)
			}
			done <- err
		}(g)
	}
	for g := 0; g < 8; g++ {
		require.NoError(t, <-done)
	}
	assert.Equal(t, 401, m.List().Len())
	var bin bytes.Buffer
	require.NoError(t, m.List().WriteBinary(&bin, hashalg.SHA256))
	recs, err := ima.ParseBinary(bin.Bytes(), 32)
	require.NoError(t, err)
	got, err := ima.ReplayList(recs, hashalg.SHA256, hashalg.SHA256)
	require.NoError(t, err)
	v, _ := soft.Read(10, hashalg.SHA256)
	assert.Equal(t, v, got[10])
}

// Each template's binary and ASCII exports parse back to the same records.
func TestExportParseRoundTrip(t *testing.T) {
	for _, tmpl := range []string{ima.TemplateIMA, ima.TemplateIMANG, ima.TemplateSig} {
		t.Run(tmpl, func(t *testing.T) {
			soft := imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256)
			m, err := ima.Init(ima.Config{Template: tmpl, Policy: policy.TCB()}, soft, ima.BootAggregateName, nil)
			require.NoError(t, err)
			for _, f := range ima.EmbeddedFiles() {
				f.Sig = []byte{0x03, 0x02, byte(len(f.Path))}
				_, err := m.Measure(f)
				require.NoError(t, err)
			}
			require.NoError(t, m.Violation("/tmp/x y"))
			for _, alg := range m.List().Algs() {
				var bin, asc bytes.Buffer
				require.NoError(t, m.List().WriteBinary(&bin, alg))
				require.NoError(t, m.List().WriteASCII(&asc, alg))
				rb, err := ima.ParseBinary(bin.Bytes(), alg.Size())
				require.NoError(t, err)
				ra, err := ima.ParseASCII(asc.Bytes())
				require.NoError(t, err)
				require.Equal(t, m.List().Len(), len(rb))
				assert.Equal(t, rb, ra, "%v", alg)
				for i, e := range m.List().Entries() {
					assert.Equal(t, e.Fields, rb[i].Fields)
					assert.Equal(t, e.Digest(m.List(), alg), rb[i].TemplateDigest)
				}
			}
		})
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "lib/modules"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "init"), []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin/sh"), []byte("sh"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lib/modules/x.ko"), []byte("ko"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644))
	require.NoError(t, os.Symlink("a.txt", filepath.Join(dir, "link")))
	fs, err := ima.LoadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, f := range fs {
		names = append(names, f.Path)
	}
	assert.Equal(t, []string{"/init", "/a.txt", "/bin/sh", "/lib/modules/x.ko"}, names)
	assert.Equal(t, policy.BprmCheck, fs[0].Req.Func)
	assert.Equal(t, policy.FileCheck, fs[1].Req.Func)
	assert.Equal(t, policy.ModuleCheck, fs[3].Req.Func)
	assert.NotZero(t, fs[0].Req.FSMagic)
	_, err = ima.LoadDir(filepath.Join(dir, "a.txt"))
	assert.ErrorContains(t, err, "is not a directory")
	_, err = ima.LoadDir(filepath.Join(dir, "missing"))
	assert.ErrorContains(t, err, "missing")
}

func TestEmbeddedFiles(t *testing.T) {
	fs := ima.EmbeddedFiles()
	require.NotEmpty(t, fs)
	assert.Equal(t, "/init", fs[0].Path)
	var tcb int
	for _, f := range fs {
		assert.Equal(t, policy.RamfsMagic, f.Req.FSMagic)
		if policy.TCB().Match(f.Req).Measure {
			tcb++
		}
	}
	assert.Equal(t, len(fs), tcb, "the tcb policy measures every embedded file")
}

func TestVerifyReportsViolations(t *testing.T) {
	soft := imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256)
	m, err := ima.Init(ima.Config{}, soft, ima.BootAggregateName, nil)
	require.NoError(t, err)
	require.NoError(t, m.Violation("/etc/shadow"))
	var bin bytes.Buffer
	require.NoError(t, m.List().WriteBinary(&bin, hashalg.SHA1))
	recs, err := ima.ParseBinary(bin.Bytes(), 20)
	require.NoError(t, err)
	all, _ := ima.ReadAll(soft, 24)
	pcrs := map[hashalg.Alg]ima.PCRValues{}
	for a, vals := range all {
		pcrs[a] = ima.PCRValues{}
		for i, v := range vals {
			pcrs[a][i] = v
		}
	}
	rep := ima.Verify(ima.Evidence{Lists: map[hashalg.Alg][]ima.Record{hashalg.SHA1: recs}, PCRs: pcrs})
	assert.True(t, rep.OK(), rep.String())
	assert.Equal(t, 1, rep.Violations)
	assert.Contains(t, rep.String(), "ok   violations: 1 records are integrity violations (zero digest, extended as ff..ff): 1:/etc/shadow")
}

// Firmware measured into the RTMR bank with TCG PCR numbers gives a
// non-zero SHA-384 boot_aggregate over RTMR0..1.
func TestRTMRFirmware(t *testing.T) {
	r := ima.NewRTMR()
	_, err := eventlog.Measure(ima.FirmwareExtender{R: r}, eventlog.DefaultComponents(eventlog.Images{}), 0)
	require.NoError(t, err)
	r0, _ := r.Read(0, hashalg.SHA384)
	r1, _ := r.Read(1, hashalg.SHA384)
	r2, _ := r.Read(2, hashalg.SHA384)
	assert.NotEqual(t, make([]byte, 48), r0)
	assert.NotEqual(t, make([]byte, 48), r1)
	assert.NotEqual(t, make([]byte, 48), r2, "PCR8/9 (command line, kernel) land in RTMR2")
	m, err := ima.Init(ima.Config{HashAlgo: hashalg.SHA384}, r, ima.BootAggregateName, nil)
	require.NoError(t, err)
	assert.Equal(t, append([]byte("sha384:\x00"), hashalg.SHA384.Sum(r0, r1)...), m.List().Entries()[0].Fields[0].Data)
	for pcr, want := range map[int]int{1: 0, 7: 0, 2: 1, 6: 1, 8: 2, 15: 2} {
		got, ok := ima.PCRToRTMR(pcr)
		assert.True(t, ok)
		assert.Equal(t, want, got, "PCR%d", pcr)
	}
	_, ok := ima.PCRToRTMR(16)
	assert.False(t, ok)
	assert.ErrorContains(t, ima.FirmwareExtender{R: r}.Extend(17, nil), "PCR 17 has no RTMR")
}

// The verifier never panics on whatever a list parses to, including a
// first entry with a digest it cannot recompute.
func FuzzVerify(f *testing.F) {
	f.Add(readRefF(f, "binary_runtime_measurements"))
	f.Add([]byte("\x0a\x00\x00\x00" + string(make([]byte, 20)) + "\x06\x00\x00\x00ima-ng\x1a\x00\x00\x00\x0a\x00\x00\x00sm3:\x00abcde\x08\x00\x00\x00boot_ag\x00"))
	pcrs := func(a hashalg.Alg) ima.PCRValues {
		p := ima.PCRValues{}
		for i := 0; i < 24; i++ {
			p[i] = make([]byte, a.Size())
		}
		return p
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, _ := ima.ParseBinary(data, 20)
		rep := ima.Verify(ima.Evidence{Lists: map[hashalg.Alg][]ima.Record{hashalg.SHA1: recs},
			PCRs: map[hashalg.Alg]ima.PCRValues{hashalg.SHA1: pcrs(hashalg.SHA1), hashalg.SHA256: pcrs(hashalg.SHA256)}})
		_ = rep.String()
	})
}

func TestInitConfigErrors(t *testing.T) {
	_, err := ima.Init(ima.Config{PCR: -1}, nil, ima.BootAggregateName, nil)
	assert.ErrorContains(t, err, "register -1 out of range")
	_, err = ima.Init(ima.Config{Template: "ima-buf"}, nil, ima.BootAggregateName, nil)
	assert.ErrorContains(t, err, "unknown template")
	_, err = ima.Init(ima.Config{HashAlgo: hashalg.SM3256}, nil, ima.BootAggregateName, nil)
	assert.ErrorContains(t, err, "not available")
	_, err = ima.Init(ima.Config{PCR: 5}, ima.NewRTMR(), ima.BootAggregateName, nil)
	assert.ErrorContains(t, err, "register 5 out of range for rtmr (0..3)")

	// A boot_aggregate the TPM refuses: Linux still initialises IMA.
	soft := imatest.NewSoftTPM(hashalg.SHA256)
	soft.FailExtend = true
	var logs []string
	m, err := ima.Init(ima.Config{}, soft, ima.BootAggregateName, func(l string) { logs = append(logs, l) })
	require.NoError(t, err)
	assert.Equal(t, 1, m.List().Len())
	assert.Contains(t, logs, "ima: Error Communicating to TPM chip, result: -5")
}

type errnoLike int

func (e errnoLike) Error() string { return "EBUSY" }
func (e errnoLike) Ret() int      { return -int(e) }

// A driver errno (kernel.Errno has Ret()) is printed as Linux prints
// tpm_pcr_extend's negative return.
func TestExtendErrnoLogged(t *testing.T) {
	soft := imatest.NewSoftTPM(hashalg.SHA256)
	var logs []string
	m, err := ima.Init(ima.Config{}, soft, ima.BootAggregateName, func(l string) { logs = append(logs, l) })
	require.NoError(t, err)
	soft.FailExtend, soft.ExtendErr = true, fmt.Errorf("crb: %w", errnoLike(16))
	_, err = m.MeasureData("/x", []byte("x"), nil, ima.TemplateIMANG, 10)
	require.NoError(t, err)
	assert.Contains(t, logs, "ima: Error Communicating to TPM chip, result: -16")
}

// A PCR_Read that fails while init_ima computes boot_aggregate: Linux's
// ima_pcrread logs and the aggregate hashes the previous register's value
// again (one tpm_digest buffer); IMA still initialises with the TPM.
func TestBootAggregateReadFailure(t *testing.T) {
	soft := imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256)
	for i := 0; i < 10; i++ {
		require.NoError(t, soft.Extend(i, digestsFor(soft.Banks(), byte(i+1))))
	}
	soft.FailRead = map[int]bool{0: true, 4: true}
	var logs []string
	m, err := ima.Init(ima.Config{}, soft, ima.BootAggregateName, func(l string) { logs = append(logs, l) })
	require.NoError(t, err)
	assert.False(t, m.Bypass())
	n := 0
	for _, l := range logs {
		if l == "ima: Error Communicating to TPM chip" {
			n++
		}
	}
	assert.Equal(t, 2, n)
	h := hashalg.SHA256.New()
	prev := make([]byte, 32)
	for i := 0; i < 10; i++ {
		if i != 0 && i != 4 {
			soft.FailRead = nil
			prev, _ = soft.Read(i, hashalg.SHA256)
		}
		h.Write(prev)
	}
	assert.Equal(t, append([]byte("sha256:\x00"), h.Sum(nil)...), m.List().Entries()[0].Fields[0].Data)
}
