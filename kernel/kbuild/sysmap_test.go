package kbuild

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeInitcallSymbol(t *testing.T) {
	tests := []struct {
		sym               string
		fn, module, level string
		line              int
		ok                bool
	}{
		// Names from a real arm64 6.12 vmlinux (Debian 6.12.117 cloud-arm64).
		{"__initcall__kmod_ima__818_1274_init_ima7", "init_ima", "ima", "7", 1274, true},
		{"__initcall__kmod_dd__687_375_deferred_probe_initcall7", "deferred_probe_initcall", "dd", "7", 375, true},
		{"__initcall__kmod_tpm_crb__721_854_crb_acpi_driver_init6", "crb_acpi_driver_init", "tpm_crb", "6", 854, true},
		{"__initcall__kmod_tpm__804_507_tpm_init4", "tpm_init", "tpm", "4", 507, true},
		// Levels with suffixes, and names that end in digits.
		{"__initcall__kmod_ffa_module__1_2_ffa_initrootfs", "ffa_init", "ffa_module", "rootfs", 2, true},
		{"__initcall__kmod_x__1_2_populate_rootfsrootfs", "populate_rootfs", "x", "rootfs", 2, true},
		{"__initcall__kmod_x__1_2_foo17s", "foo1", "x", "7s", 2, true},
		{"__initcall__kmod_x__1_2_init_v47", "init_v4", "x", "7", 2, true},
		{"__initcall__kmod_x__1_2_setupearly", "setup", "x", "early", 2, true},
		// Pre-5.14 form.
		{"__initcall_init_ima7", "init_ima", "", "7", 0, true},
		{"__initcall_ffa_init6", "ffa_init", "", "6", 0, true},
		// Not entries.
		{"__initcall_start", "", "", "", 0, false},
		{"__initcall_end", "", "", "", 0, false},
		{"__initcall6_start", "", "", "", 0, false},
		{"__initcall__kmod_x__1_2_fn8", "", "", "", 0, false},
		{"__initcall__kmod_garbage", "", "", "", 0, false},
		{"init_ima", "", "", "", 0, false},
	}
	for _, tt := range tests {
		e, ok := DecodeInitcallSymbol(tt.sym)
		require.Equal(t, tt.ok, ok, tt.sym)
		if !ok {
			continue
		}
		assert.Equal(t, tt.fn, e.Fn, tt.sym)
		assert.Equal(t, tt.module, e.Module, tt.sym)
		assert.Equal(t, LevelID(tt.level), e.Level, tt.sym)
		assert.Equal(t, tt.line, e.SrcLine, tt.sym)
	}
}

const sampleMap = `ffff8000819fb968 D __initcall_start
ffff8000819fb968 d __initcall__kmod_x__1_2_early_thingearly
ffff8000819fb9f4 D __initcall0_start
ffff8000819fba08 D __initcall1_start
ffff8000819fbb38 D __initcall2_start
ffff8000819fbbb4 D __initcall3_start
ffff8000819fbc30 D __initcall4_start
ffff8000819fbd84 d __initcall__kmod_tpm__804_507_tpm_init4
ffff8000819fbe30 D __initcall5_start
ffff8000819fbf48 D __initcallrootfs_start
ffff8000819fbf4c D __initcall6_start
ffff8000819fc1e8 d __initcall__kmod_tpm_crb__721_854_crb_acpi_driver_init6
ffff8000819fc308 D __initcall7_start
ffff8000819fc444 d __initcall__kmod_dd__687_375_deferred_probe_initcall7
ffff8000819fc40c d __initcall__kmod_ima__818_1274_init_ima7
ffff8000819fc4c0 D __initcall_end
ffff8000809f5be8 t deferred_probe_initcall
`

func TestParseSystemMap(t *testing.T) {
	tab, err := ParseSystemMap("System.map", []byte(sampleMap))
	require.NoError(t, err)
	assert.Equal(t, []string{"early_thing@early", "tpm_init@4", "crb_acpi_driver_init@6", "init_ima@7", "deferred_probe_initcall@7"}, fnsOf(tab.Entries))
	assert.Empty(t, tab.Warnings)
	e, _, _ := tab.Find("init_ima")
	assert.Equal(t, 15, e.Pos.Line)

	// An entry outside its level's range is reported.
	bad := strings.Replace(sampleMap, "ffff8000819fbd84 d __initcall__kmod_tpm__804_507_tpm_init4", "ffff8000819fbd84 d __initcall__kmod_tpm__804_507_tpm_init6", 1)
	tab, err = ParseSystemMap("System.map", []byte(bad))
	require.NoError(t, err)
	require.Len(t, tab.Warnings, 1)
	assert.Contains(t, tab.Warnings[0].String(), "System.map:8: __initcall__kmod_tpm__804_507_tpm_init6 at 0xffff8000819fbd84 is outside the device level's range")

	// kallsyms lines with a [module] field are skipped.
	tab, err = ParseSystemMap("kallsyms", []byte(sampleMap+"ffff800001000000 t foo_init\t[foo]\n"))
	require.NoError(t, err)
	assert.Len(t, tab.Entries, 5)
}

func TestParseSystemMapErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"debian placeholder", "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n", "System.map:1: Debian's placeholder"},
		{"two fields", "ffff0000 T\n", "System.map:1: want \"<hex address> <type> <symbol>\""},
		{"bad address", "zzzz T foo\n", "System.map:1: address \"zzzz\" is not hexadecimal"},
		{"long address", "1ffffffffffffffff T foo\n", "System.map:1: address"},
		{"bad type", "ffff TT foo\n", "System.map:1: symbol type"},
		{"bad module", "ffff t foo mod\n", "System.map:1: fourth field"},
		{"empty", "\n\n", "System.map: no symbols"},
		{"no initcalls", "ffff t foo\n", "System.map: 1 symbols but no initcall entries"},
		{"kptr_restrict", "0000000000000000 d __initcall__kmod_ima__1_2_init_ima7\n", "System.map: every initcall symbol has address 0"},
		{"binary", "\x7fELF\x00\x00", "System.map: offset 0x4: NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSystemMap("System.map", []byte(tt.text))
			require.Error(t, err)
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), "%v", err)
		})
	}
}

func TestParseModuleList(t *testing.T) {
	l, err := ParseModuleList("modules.builtin", []byte("kernel/drivers/char/tpm/tpm.ko\nkernel/drivers/char/tpm/tpm_crb.ko\n\ndrivers/firmware/arm_ffa/ffa-module.o\nkernel/fs/x.ko.zst\nkernel/drivers/char/tpm/tpm.ko\n"))
	require.NoError(t, err)
	require.Len(t, l.Entries, 4)
	assert.Equal(t, "drivers/char/tpm/tpm_crb.o", l.Entries[1].Object)
	assert.Equal(t, "ffa_module", l.Entries[2].Name)
	assert.Equal(t, 4, l.Entries[2].Pos.Line)
	assert.Equal(t, 2, l.Index("drivers/firmware/arm_ffa/ffa-module.o"))
	assert.Equal(t, -1, l.Index("drivers/base/dd.o"))
	require.Len(t, l.Warnings, 1)
	assert.Contains(t, l.Warnings[0].String(), "modules.builtin:6: kernel/drivers/char/tpm/tpm.ko listed again (first at line 1)")

	for _, bad := range []struct{ text, want string }{
		{"kernel/a.ko\nkernel/b.txt\n", "modules.order:2: \"kernel/b.txt\" does not end in .ko or .o"},
		{"/lib/modules/x.ko\n", "modules.order:1: \"/lib/modules/x.ko\": absolute path"},
		{"kernel/a b.ko\n", "modules.order:1: \"kernel/a b.ko\": a module path has no spaces"},
		{"kernel/../x.ko\n", "modules.order:1: \"kernel/../x.ko\": empty, . or .. path element"},
		{"kernel/.ko\n", "modules.order:1: "},
		{"a\x00b", "modules.order: offset 0x1: NUL byte"},
	} {
		_, err := ParseModuleList("modules.order", []byte(bad.text))
		require.Error(t, err, bad.text)
		assert.True(t, strings.HasPrefix(err.Error(), bad.want), "%v", err)
	}
}
