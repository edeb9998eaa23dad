package kbuild

import (
	"os"
	"testing"
)

// TestRealVmlinux reads a real vmlinux named by KBUILD_TEST_VMLINUX (not in
// the default run: real images are hundreds of MiB).
func TestRealVmlinux(t *testing.T) {
	p := os.Getenv("KBUILD_TEST_VMLINUX")
	if p == "" {
		t.Skip("set KBUILD_TEST_VMLINUX to a vmlinux to run")
	}
	tab, err := ReadVmlinuxFile(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d entries, encoding %s, %d warnings", p, len(tab.Entries), tab.Encoding, len(tab.Warnings))
	for _, w := range tab.Warnings {
		t.Log(w)
	}
	for _, fn := range []string{"acpi_init", "tpm_init", "crb_acpi_driver_init", "tpm_crb_ffa_driver_init", "ffa_init", "init_ima", "deferred_probe_initcall"} {
		e, i, ok := tab.Find(fn)
		t.Logf("%-26s found=%v #%d level=%s module=%s pos=%s", fn, ok, i, e.Level, e.Module, e.Pos)
	}
}

// TestRealDir loads a real module directory named by KBUILD_TEST_DIR (and
// KBUILD_TEST_VMLINUX when set).
func TestRealDir(t *testing.T) {
	d := os.Getenv("KBUILD_TEST_DIR")
	if d == "" {
		t.Skip("set KBUILD_TEST_DIR to a /lib/modules/<version> directory to run")
	}
	in, err := Load(Options{Dir: d, Vmlinux: os.Getenv("KBUILD_TEST_VMLINUX")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("version %s", in.Version)
	for _, f := range in.Files {
		t.Logf("file %+v", f)
	}
	for _, r := range in.Kconfig.Decisive() {
		t.Logf("%s=%s (%s) %s", r.Name, r.Value, r.Origin, r.Why)
	}
	for _, l := range in.LinkOrder.Levels {
		t.Logf("level %s: %v exact=%v (%s)", l.Level.Name(), l.Fns, l.Exact, l.How)
	}
	for _, f := range in.LinkOrder.Facts {
		t.Logf("fact %s", f)
	}
	for _, f := range in.Patches.Facts {
		t.Logf("patch %s", f)
	}
	for _, w := range in.Warnings {
		t.Logf("warning %s", w)
	}
}

func TestRealReport(t *testing.T) {
	d := os.Getenv("KBUILD_TEST_DIR")
	if d == "" {
		t.Skip("set KBUILD_TEST_DIR")
	}
	in, err := Load(Options{Dir: d, Vmlinux: os.Getenv("KBUILD_TEST_VMLINUX")})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.WriteReport(os.Stdout, os.Getenv("KBUILD_TEST_BASE")); err != nil {
		t.Fatal(err)
	}
}
