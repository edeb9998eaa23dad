package imakernel_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imakernel"
	"github.com/ffatpm/ffatpm/ima/imatest"
	"github.com/ffatpm/ffatpm/kernel"
)

// A whole boot through the chain, written out as a kernel's securityfs
// would show it, checked by evmctl and tpm2_eventlog: the late-init form
// (boot_aggregate_late) and the patched kernel (boot_aggregate).
func TestPeerToolsOnBootOutput(t *testing.T) {
	evmctl := imatest.NeedTool(t, "evmctl")
	eventlogTool := imatest.NeedTool(t, "tpm2_eventlog")
	for _, tc := range []struct {
		name, preset string
		lateSync     bool
		aggregate    string
	}{
		{"v6.17", "v6.17", false, "boot_aggregate"},
		{"before-v6.17+late-sync", "before-v6.17", true, "boot_aggregate_late"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := boot(t, tc.preset, imakernel.Options{}, func(s *kernel.Spec) {
				if tc.lateSync {
					s.Config.Set("IMA_INIT_LATE_SYNC", kernel.Y)
				}
			})
			require.Equal(t, tc.aggregate, r.x.AggregateName())
			dir := t.TempDir()
			require.NoError(t, r.x.State().List().WriteFiles(dir, true))
			require.NoError(t, ima.WritePCRFiles(dir, r.eng))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "binary_bios_measurements"), r.elog.Marshal(), 0o644))
			p := func(n string) string { return filepath.Join(dir, n) }

			out, err := exec.Command(evmctl, "ima_measurement", "--pcrs", "sha1,"+p(ima.PCRFileName(hashalg.SHA1)),
				"--pcrs", "sha256,"+p(ima.PCRFileName(hashalg.SHA256)), p(ima.BinaryListName)).CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), "Matched per TPM bank")

			out, err = exec.Command(evmctl, "ima_boot_aggregate", "--pcrs", "sha256,"+p(ima.PCRFileName(hashalg.SHA256))).CombinedOutput()
			require.NoError(t, err, "%s", out)
			first := r.x.State().List().Entries()[0].Fields[0].Data // "sha256:" NUL digest
			assert.Contains(t, strings.Fields(string(out)), "sha256:"+hexOf(first[8:]))

			out, err = exec.Command(eventlogTool, p("binary_bios_measurements")).CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.NotContains(t, string(out), "WARN")
			for i := 0; i < 10; i++ {
				v, err := r.eng.Read(i, hashalg.SHA256)
				require.NoError(t, err)
				assert.Contains(t, string(out), "0x"+hexOf(v), "PCR%d", i)
			}
		})
	}
}

func hexOf(b []byte) string {
	const d = "0123456789abcdef"
	s := make([]byte, 0, 2*len(b))
	for _, c := range b {
		s = append(s, d[c>>4], d[c&15])
	}
	return string(s)
}
