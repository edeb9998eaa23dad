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
	for _, fn := range []string{"tpm_init", "crb_acpi_driver_init", "tpm_crb_ffa_driver_init", "ffa_init", "init_ima", "deferred_probe_initcall"} {
		e, i, ok := tab.Find(fn)
		t.Logf("%-26s found=%v #%d level=%s module=%s pos=%s", fn, ok, i, e.Level, e.Module, e.Pos)
	}
}
