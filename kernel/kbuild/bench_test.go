package kbuild

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkParseConfigDebianExcerpt(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(fixturesDir, "debian-6.12-arm64/boot/config-6.12.117+deb12-arm64"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseConfig("config", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseVmlinuxSynthetic(b *testing.B) {
	img := syntheticVmlinux(seed002Calls(), vmlinuxOpts{})
	b.SetBytes(int64(len(img)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseVmlinux("vmlinux", bytes.NewReader(img), int64(len(img))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRealConfig and BenchmarkRealVmlinux read real files named by
// KBUILD_TEST_CONFIG and KBUILD_TEST_VMLINUX (skipped without them).
func BenchmarkRealConfig(b *testing.B) {
	p := os.Getenv("KBUILD_TEST_CONFIG")
	if p == "" {
		b.Skip("set KBUILD_TEST_CONFIG")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseConfig(p, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRealVmlinux(b *testing.B) {
	p := os.Getenv("KBUILD_TEST_VMLINUX")
	if p == "" {
		b.Skip("set KBUILD_TEST_VMLINUX")
	}
	for i := 0; i < b.N; i++ {
		if _, err := ReadVmlinuxFile(p); err != nil {
			b.Fatal(err)
		}
	}
}
