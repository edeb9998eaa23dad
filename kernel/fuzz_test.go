package kernel_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validTable() []byte { return kerneltest.BuildTPM2(kerneltest.FastCRBBase+0x40, 0x8001) }

func resum(b []byte) []byte {
	b = append([]byte(nil), b...)
	if len(b) > 9 {
		b[9] = 0
		var s byte
		for _, c := range b {
			s += c
		}
		b[9] = -s
	}
	return b
}

// bootTable boots the v6.17 preset on the fast world with the given TPM2
// table in place of the firmware's.
func bootTable(t testing.TB, tbl []byte) *kernel.Result {
	p, _ := kernel.LookupPreset("v6.17")
	_, pl := kerneltest.NewFastWorld(nil)
	pl.ACPITables = map[string][]byte{"TPM2": tbl}
	res, err := kernel.Boot(p.Spec(pl))
	require.NoError(t, err)
	return res
}

func TestMalformedTPM2Tables(t *testing.T) {
	v := validTable()
	longLen := resum(v)
	binary.LittleEndian.PutUint32(longLen[4:], 200)
	shortParams := resum(v[:56])
	binary.LittleEndian.PutUint32(shortParams[4:], 56)
	shortParams = resum(shortParams)
	badSig := resum(append([]byte("TPM3"), v[4:]...))
	outside := resum(v)
	binary.LittleEndian.PutUint64(outside[40:], 0x1234_5000)
	fifo := resum(v)
	binary.LittleEndian.PutUint32(fifo[48:], kernel.TPM2StartMMIO)
	cases := []struct {
		name, tbl, want string
	}{
		{"empty", "", "[Firmware Bug]: failed to get TPM2 ACPI table"},
		{"header only", string(v[:36]), "[Firmware Bug]: failed to get TPM2 ACPI table"},
		{"length beyond data", string(longLen), "[Firmware Bug]: failed to get TPM2 ACPI table"},
		{"bad signature", string(badSig), "[Firmware Bug]: failed to get TPM2 ACPI table"},
		{"FF-A parameters cut", string(shortParams), "[Firmware Bug]: TPM2 ACPI table has wrong size 56 for start method type 15"},
		{"control area unmapped", string(outside), "can't request region for resource"},
		{"FIFO start method", string(fifo), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := bootTable(t, []byte(c.tbl))
			assert.Nil(t, res.Chip)
			assert.Empty(t, res.Panic)
			if c.want != "" {
				assert.Contains(t, res.FormatLog(), "tpm_crb MSFT0101:00: "+c.want)
			}
		})
	}
	// A bad checksum is a warning; the table is still used.
	bad := append([]byte(nil), v...)
	bad[9]++
	res := bootTable(t, bad)
	assert.NotNil(t, res.Chip)
	assert.Contains(t, res.FormatLog(), "Incorrect checksum in table [TPM2]")
}

// FuzzTPM2Table feeds arbitrary TPM2 tables to the kernel's parse path
// (ParseTPM2Table and crb_acpi_add in a whole boot): never a Go panic, never
// a kernel panic, and a table the parser rejects gives a clear error and no
// chip.
func FuzzTPM2Table(f *testing.F) {
	v := validTable()
	f.Add(v)
	f.Add(v[:36])
	f.Add(v[:52])
	f.Add(resum(append(append([]byte(nil), v...), 1, 2, 3, 4)))
	f.Add([]byte("TPM2"))
	f.Fuzz(func(t *testing.T, tbl []byte) {
		_, _, perr := kernel.ParseTPM2Table(tbl)
		res := bootTable(t, tbl)
		if res.Panic != "" {
			t.Fatalf("kernel panic on table %x: %s", tbl, res.Panic)
		}
		if perr != nil {
			if res.Chip != nil {
				t.Fatalf("chip registered from a rejected table (%v)", perr)
			}
			if !strings.Contains(res.FormatLog(), "[Firmware Bug]") {
				t.Fatalf("no firmware-bug line for a rejected table (%v):\n%s", perr, res.FormatLog())
			}
		}
	})
}

func FuzzParseTPM2Table(f *testing.F) {
	f.Add(validTable())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, _, err := kernel.ParseTPM2Table(b)
		if err == nil && (int(tb.Length) > len(b) || tb.Length < 52) {
			t.Fatalf("accepted a table of length %d from %d bytes", tb.Length, len(b))
		}
	})
}

func TestNoTPMPartitionPendsForever(t *testing.T) {
	p, _ := kernel.LookupPreset("before-v6.17")
	w, pl := kerneltest.NewFastWorld(nil)
	w.NoTPMPartition = true
	res, err := kernel.Boot(p.Spec(pl))
	require.NoError(t, err)
	assert.Nil(t, res.Chip)
	log := res.FormatLog()
	assert.Contains(t, log, "acpi MSFT0101:00: deferred probe pending: (reason unknown)")
	require.Len(t, res.Deferred, 1)
	assert.Nil(t, res.Deferred[0].Resolved)
	assert.Equal(t, kernel.EPROBE_DEFER, res.Deferred[0].Result)
}

func TestIncompatibleServiceVersionStopsRetries(t *testing.T) {
	// tpm_crb_ffa's probe fails on a DEN0138 major version other than 1;
	// tpm_crb_ffa_init() then returns -ENODEV, which tpm_crb returns from
	// its probe ("rejects match", no retry), so the device never binds.
	p, _ := kernel.LookupPreset("before-v6.17")
	w, pl := kerneltest.NewFastWorld(nil)
	w.InterfaceVersion = 0x20000
	res, err := kernel.Boot(p.Spec(pl))
	require.NoError(t, err)
	assert.Nil(t, res.Chip)
	log := res.FormatLog()
	assert.Contains(t, log, "ffa-crb arm-ffa-1: ABI version 2.0")
	assert.Contains(t, log, "ffa-crb arm-ffa-1: Incompatible ABI version")
	require.Len(t, res.Deferred, 1)
	assert.Equal(t, kernel.ENODEV, res.Deferred[0].Result)
	assert.NotContains(t, log, "deferred probe pending")
}

func TestNoConduitNoFFA(t *testing.T) {
	p, _ := kernel.LookupPreset("v6.17")
	_, pl := kerneltest.NewFastWorld(nil)
	pl.Conduit = nil
	res, err := kernel.Boot(p.Spec(pl))
	require.NoError(t, err)
	ic, ok := res.InitcallAt("ffa_init")
	require.True(t, ok)
	assert.Equal(t, kernel.EOPNOTSUPP, ic.Ret)
	assert.Nil(t, res.Chip)
}
