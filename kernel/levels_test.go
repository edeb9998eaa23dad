package kernel

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test -update")
	assert.Equal(t, string(want), got)
}

// TestLevelTable prints every initcall level in the order Linux runs them
// (include/linux/init.h, init/main.c) and compares it with the golden file.
func TestLevelTable(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "%-3s %-14s %-24s %s\n", "#", "level", "macro", "section")
	for i, l := range Levels() {
		fmt.Fprintf(&b, "%-3d %-14s %-24s %s\n", i, l, l.Macro(), l.Section())
	}
	golden(t, "levels.golden", b.String())
}

func TestLevelOrderFacts(t *testing.T) {
	ls := Levels()
	require.Len(t, ls, 17)
	idx := func(l Level) int {
		for i, x := range ls {
			if x == l {
				return i
			}
		}
		return -1
	}
	// rootfs runs after fs_sync and before device (init/main.c).
	assert.Equal(t, idx(LevelFSSync)+1, idx(LevelRootfs))
	assert.Equal(t, idx(LevelRootfs)+1, idx(LevelDevice))
	assert.Equal(t, LevelLateSync, ls[len(ls)-1])
	assert.Equal(t, LevelEarly, ls[0])
}

func TestParseLevel(t *testing.T) {
	cases := []struct {
		in   string
		want Level
	}{
		{"device", LevelDevice}, {"device_initcall", LevelDevice}, {"6", LevelDevice},
		{".initcall6.init", LevelDevice}, {"late_sync", LevelLateSync}, {"7s", LevelLateSync},
		{"late_initcall_sync", LevelLateSync}, {"rootfs", LevelRootfs}, {"rootfs_initcall", LevelRootfs},
		{"core_sync", LevelCoreSync}, {"early", LevelEarly}, {"pure", LevelPure},
	}
	for _, c := range cases {
		got, err := ParseLevel(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
	for _, bad := range []string{"", "devices", "8", "module"} {
		_, err := ParseLevel(bad)
		assert.Error(t, err, bad)
	}
	for _, l := range Levels() {
		got, err := ParseLevel(l.String())
		require.NoError(t, err)
		assert.Equal(t, l, got)
	}
}

func TestErrno(t *testing.T) {
	assert.Equal(t, "EPROBE_DEFER", EPROBE_DEFER.String())
	assert.Equal(t, -517, EPROBE_DEFER.Ret())
	assert.Equal(t, Errno(16), EBUSY)
	assert.Equal(t, Errno(22), EINVAL)
	assert.Equal(t, Errno(19), ENODEV)
	assert.Equal(t, Errno(2), ENOENT)
	// The values ffa_to_linux_errno gives FFA_RET_INTERRUPTED and
	// FFA_RET_ABORTED (include/uapi/asm-generic/errno-base.h, errno.h).
	assert.Equal(t, Errno(4), EINTR)
	assert.Equal(t, "EINTR", EINTR.String())
	assert.Equal(t, Errno(125), ECANCELED)
	assert.Equal(t, "ECANCELED", ECANCELED.String())
	e, ok := ParseErrno("-517")
	assert.True(t, ok)
	assert.Equal(t, EPROBE_DEFER, e)
	e, ok = ParseErrno("EBUSY")
	assert.True(t, ok)
	assert.Equal(t, EBUSY, e)
	var err error = ENOENT
	got, ok := AsErrno(err)
	assert.True(t, ok)
	assert.Equal(t, ENOENT, got)
}

func TestConfigDefaultsAndDepends(t *testing.T) {
	c := NewConfig()
	assert.Equal(t, N, c.Tristate("TCG_CRB"))
	c.Set("ARM_FFA_TRANSPORT", Y)
	c.Set("TCG_TPM", Y)
	c.Set("TCG_CRB", M)
	// default TCG_CRB: follows TCG_CRB.
	assert.Equal(t, M, c.Tristate("TCG_ARM_CRB_FFA"))
	c.Set("TCG_CRB", Y)
	assert.Equal(t, Y, c.Tristate("TCG_ARM_CRB_FFA"))
	// depends on an =m symbol caps at m.
	c.Set("TCG_TPM", M)
	assert.Equal(t, M, c.Tristate("TCG_CRB"))
	// IS_REACHABLE: built-in code cannot reach a module.
	c = DefaultConfig()
	c.Set("TCG_ARM_CRB_FFA", M)
	assert.False(t, c.Reachable("TCG_CRB", "TCG_ARM_CRB_FFA"))
	c.Set("TCG_CRB", M)
	assert.True(t, c.Reachable("TCG_CRB", "TCG_ARM_CRB_FFA"))
	// MODULES=n turns m into n.
	c.Set("MODULES", N)
	assert.Equal(t, N, c.Tristate("TCG_CRB"))
	assert.Equal(t, int64(10), c.Int("IMA_MEASURE_PCR_IDX"))
	assert.Error(t, c.SetValue("IMA", "m"))
	assert.Error(t, c.SetValue("IMA_MEASURE_PCR_IDX", "ten"))
	require.NoError(t, c.SetValue("IMA_DEFAULT_HASH", `"sha512"`))
	assert.Equal(t, "sha512", c.StringValue("IMA_DEFAULT_HASH"))
}
