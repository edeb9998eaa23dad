package kbuild

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fnsOf(es []InitcallEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Fn+"@"+string(e.Level))
	}
	return out
}

func TestParseVmlinuxLayouts(t *testing.T) {
	want := []string{"early_fn@early", "arm_ffa_bus_init@4", "tpm_init@4", "populate_rootfs@rootfs",
		"crb_acpi_driver_init@6", "tpm_crb_ffa_driver_init@6", "ffa_init@6", "init_ima@7", "deferred_probe_initcall@7", "clk_disable_unused@7s"}
	tests := []struct {
		name     string
		opts     vmlinuxOpts
		encoding string
	}{
		{"merged prel32 (arm64 vmlinux)", vmlinuxOpts{}, "prel32"},
		{"merged absolute pointers", vmlinuxOpts{absolute: true}, "absolute"},
		{"merged big-endian", vmlinuxOpts{bo: binary.BigEndian}, "prel32"},
		{"kept sections", vmlinuxOpts{sections: true}, "prel32"},
		{"kept sections absolute", vmlinuxOpts{sections: true, absolute: true}, "absolute"},
		{"names only, no boundary symbols", vmlinuxOpts{noBounds: true}, "prel32"},
		{"pre-5.14 names", vmlinuxOpts{oldNames: true}, "prel32"},
		{"LTO stubs", vmlinuxOpts{ltoStubs: true}, "prel32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := syntheticVmlinux(seed002Calls(), tt.opts)
			tab, err := ParseVmlinux("vmlinux", bytes.NewReader(img), int64(len(img)))
			require.NoError(t, err)
			assert.Equal(t, tt.encoding, tab.Encoding)
			assert.Equal(t, want, fnsOf(tab.Entries))
			assert.Empty(t, tab.Warnings)
			e, _, ok := tab.Find("init_ima")
			require.True(t, ok)
			if !tt.opts.oldNames {
				assert.Equal(t, "ima", e.Module)
			}
			assert.NotZero(t, e.Pos.Offset)
		})
	}
}

func TestParseVmlinuxUnnamedEntries(t *testing.T) {
	// Entries without __initcall__ symbols are named by the function at
	// their target; their level comes from the boundary symbols.
	calls := seed002Calls()
	for i := range calls {
		calls[i].unnamed = true
	}
	img := syntheticVmlinux(calls, vmlinuxOpts{})
	tab, err := ParseVmlinux("vmlinux", bytes.NewReader(img), int64(len(img)))
	require.NoError(t, err)
	got := fnsOf(tab.Entries)
	// Without names, a 7s entry is only known to be in level 7's range.
	assert.Equal(t, "clk_disable_unused@7", got[len(got)-1])
	assert.Equal(t, "populate_rootfs@rootfs", got[3])
	assert.Equal(t, "crb_acpi_driver_init@6", got[4])
}

func TestParseVmlinuxErrors(t *testing.T) {
	good := syntheticVmlinux(seed002Calls(), vmlinuxOpts{})
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "vmlinux: offset 0x0: 0 bytes: too short for an ELF header"},
		{"not elf", []byte("this is text, not an ELF image at all........................................"), "vmlinux: offset 0x0: not an ELF file"},
		{"gzip vmlinuz", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03................"), "vmlinux: offset 0x0: not an ELF file (no \\x7fELF magic); for a compressed vmlinuz"},
		{"truncated header", good[:40], "vmlinux: offset 0x0: 40 bytes: too short"},
		{"truncated sections", good[:len(good)/2], "vmlinux: offset 0x"},
		{"truncated data", good[:len(good)-64*3-1], "vmlinux: offset 0x"},
		{"no symbols", buildELF(binary.LittleEndian, 183, 3, nil, nil), "vmlinux: "},
		{"huge initcall section", hugeSection(), "vmlinux: offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseVmlinux("vmlinux", bytes.NewReader(tt.data), int64(len(tt.data)))
			require.Error(t, err)
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "%T %v", err, err)
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "%v", err)
		})
	}
}

func TestSystemMapMatchesVmlinux(t *testing.T) {
	calls := seed002Calls()
	var sm strings.Builder
	img := syntheticVmlinux(calls, vmlinuxOpts{})
	vt, err := ParseVmlinux("vmlinux", bytes.NewReader(img), int64(len(img)))
	require.NoError(t, err)
	for _, e := range vt.Entries {
		sm.WriteString(hex16(e.Addr) + " d " + e.Symbol + "\n")
	}
	mt, err := ParseSystemMap("System.map", []byte(sm.String()))
	require.NoError(t, err)
	assert.Equal(t, fnsOf(vt.Entries), fnsOf(mt.Entries))
}

func hex16(v uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&15]
		v >>= 4
	}
	return string(b)
}

func hugeSection() []byte {
	img := syntheticVmlinux(seed002Calls(), vmlinuxOpts{sections: true})
	// Make the first .initcall section claim 4 GiB.
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		panic(err)
	}
	shoff := binary.LittleEndian.Uint64(img[40:])
	for i, s := range f.Sections {
		if strings.HasPrefix(s.Name, ".initcall") {
			binary.LittleEndian.PutUint64(img[shoff+uint64(i)*64+32:], 1<<32)
			break
		}
	}
	return img
}
