package kbuild

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func copyFile(t *testing.T, from, to string, gunzip bool) {
	t.Helper()
	f, err := os.Open(from)
	require.NoError(t, err)
	defer f.Close()
	var data []byte
	if gunzip {
		zr, err := gzip.NewReader(f)
		require.NoError(t, err)
		data, err = io.ReadAll(zr)
		require.NoError(t, err)
	} else {
		data, err = os.ReadFile(from)
		require.NoError(t, err)
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
	require.NoError(t, os.WriteFile(to, data, 0o644))
}

// A kernel build tree: .config, System.map, vmlinux and modules.builtin at
// the top, found from --kernel-dir alone.
func TestLoadBuildTree(t *testing.T) {
	src := filepath.Join(fixturesDir, "toolchain-arm64")
	dir := t.TempDir()
	copyFile(t, filepath.Join(src, "config.gz"), filepath.Join(dir, ".config"), true)
	copyFile(t, filepath.Join(src, "vmlinux"), filepath.Join(dir, "vmlinux"), false)
	copyFile(t, filepath.Join(src, "System.map"), filepath.Join(dir, "System.map"), false)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "modules.order"), []byte("drivers/char/tpm/tpm_tis_core.o\n"), 0o644))
	in, err := Load(Options{Dir: dir})
	require.NoError(t, err)
	var roles []string
	for _, f := range in.Files {
		roles = append(roles, f.Role+":"+f.How+":"+map[bool]string{true: "used", false: "skipped"}[f.Used])
	}
	assert.Equal(t, []string{"config:found:used", "modules.order:found:used", "vmlinux:found:used", "System.map:found:skipped"}, roles)
	assert.Equal(t, "vmlinux", in.Initcalls.Kind)
	assert.Equal(t, "6.16.0", in.Version)
}

func TestLoadErrors(t *testing.T) {
	deb := filepath.Join(fixturesDir, "debian-6.12-arm64")
	_, err := Load(Options{})
	assert.ErrorContains(t, err, "no kernel config: pass --kernel-config")

	empty := t.TempDir()
	_, err = Load(Options{Dir: empty})
	assert.ErrorContains(t, err, "no kernel config found for "+empty+" (looked at "+filepath.Join(empty, ".config"))

	_, err = Load(Options{Dir: filepath.Join(deb, "boot/config-6.12.117+deb12-arm64")})
	assert.ErrorContains(t, err, "is not a directory")

	_, err = Load(Options{Dir: filepath.Join(empty, "missing")})
	assert.ErrorContains(t, err, "kernel directory")

	// Debian's placeholder System.map, named explicitly, is an error.
	_, err = Load(Options{KernelConfig: filepath.Join(deb, "boot/config-6.12.117+deb12-arm64"), SystemMap: filepath.Join(deb, "boot/System.map-6.12.117+deb12-arm64")})
	assert.ErrorContains(t, err, "System.map-6.12.117+deb12-arm64:1: Debian's placeholder")

	// A malformed config names its line.
	bad := filepath.Join(empty, "config")
	require.NoError(t, os.WriteFile(bad, []byte("CONFIG_A=y\nCONFIG_B=maybe\n"), 0o644))
	_, err = Load(Options{KernelConfig: bad})
	assert.ErrorContains(t, err, bad+":2: CONFIG_B: malformed value")

	// A truncated vmlinux named explicitly.
	img, err := os.ReadFile(filepath.Join(fixturesDir, "toolchain-arm64", "vmlinux"))
	require.NoError(t, err)
	trunc := filepath.Join(empty, "vmlinux")
	require.NoError(t, os.WriteFile(trunc, img[:len(img)/3], 0o644))
	_, err = Load(Options{KernelConfig: bad + "x", Vmlinux: trunc})
	assert.Error(t, err) // the config is missing first
	good := filepath.Join(empty, "good.config")
	require.NoError(t, os.WriteFile(good, []byte("CONFIG_ARM64=y\n"), 0o644))
	_, err = Load(Options{KernelConfig: good, Vmlinux: trunc})
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), trunc+":"), "%v", err)

	// The module directory's version disagreeing with the config's warns.
	other := filepath.Join(empty, "lib/modules/6.1.0-9-arm64")
	require.NoError(t, os.MkdirAll(other, 0o755))
	copyFile(t, filepath.Join(deb, "boot/config-6.12.117+deb12-arm64"), filepath.Join(other, ".config"), false)
	in, err := Load(Options{Dir: other})
	require.NoError(t, err)
	require.NotEmpty(t, in.Warnings)
	assert.Contains(t, in.Warnings[0].Msg, "the config is for Linux 6.12.117 but the module directory is 6.1.0-9-arm64")
}
