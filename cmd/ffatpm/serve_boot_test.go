package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/crb/mssim/mssimtest"
	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeBootPCR10: after "serve --boot --out DIR", tpm2-tools reads PCR
// 10 through the served chain and it equals what the IMA list in DIR
// replays to; evmctl, given every PCR as tpm2-tools read it, matches the
// list per bank.
func TestServeBootPCR10(t *testing.T) {
	t.Run("sim", func(t *testing.T) { checkServeBoot(t) })
	t.Run("swtpm", func(t *testing.T) {
		sw := mssimtest.StartSwtpm(t)
		checkServeBoot(t, "--backend", "swtpm:"+sw)
	})
}

func checkServeBoot(t *testing.T, args ...string) {
	mssimtest.NeedTool(t, "tpm2_pcrread")
	dir := t.TempDir()
	rs := startServeT(t, append([]string{"--boot", "--out", dir}, args...)...)
	assert.Contains(t, rs.stdout.String(), "verdict tpm")
	tcti := "mssim:host=127.0.0.1,port=" + rs.port

	list := filepath.Join(dir, imaDir, "binary_runtime_measurements_sha256")
	data, err := os.ReadFile(list)
	require.NoError(t, err)
	recs, err := ima.ParseBinary(data, 32)
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	replay, err := ima.ReplayList(recs, hashalg.SHA256, hashalg.SHA256)
	require.NoError(t, err)

	got := mssimtest.PCRValue(t, mssimtest.TPM2Tool(t, tcti, "tpm2_pcrread", "sha256:10"), 10)
	assert.Equal(t, hex.EncodeToString(replay[10]), hex.EncodeToString(got), "tpm2_pcrread sha256:10 vs the IMA list's replay")

	// All PCRs through tpm2-tools, in evmctl's --pcrs form.
	var pcrs bytes.Buffer
	out := mssimtest.TPM2Tool(t, tcti, "tpm2_pcrread", "sha256:all")
	for i := 0; i < 24; i++ {
		fmt.Fprintf(&pcrs, "PCR-%02d: %s\n", i, hex.EncodeToString(mssimtest.PCRValue(t, out, i)))
	}
	pcrFile := filepath.Join(t.TempDir(), "pcrs-sha256-tpm2-tools.txt")
	require.NoError(t, os.WriteFile(pcrFile, pcrs.Bytes(), 0o644))
	evmctl := mssimtest.NeedTool(t, "evmctl")
	// evmctl 1.4 reads the SHA-1 list and recomputes the sha256 bank from
	// its template data.
	cmd := exec.Command(evmctl, "ima_measurement", "--pcrs", "sha256,"+pcrFile, filepath.Join(dir, imaDir, "binary_runtime_measurements"))
	eout, err := cmd.CombinedOutput()
	require.NoError(t, err, "evmctl: %s", eout)
	assert.Contains(t, string(eout), "Matched per TPM bank")

	// The other --out files are readable by their tools too.
	tel := mssimtest.NeedTool(t, "tpm2_eventlog")
	elog, err := exec.Command(tel, filepath.Join(dir, tpmDir, "binary_bios_measurements")).CombinedOutput()
	require.NoError(t, err, "tpm2_eventlog: %s", elog)
	assert.Contains(t, string(elog), "EV_NO_ACTION")
	iasl := mssimtest.NeedTool(t, "iasl")
	tbl := filepath.Join(t.TempDir(), "TPM2.dat")
	raw, err := os.ReadFile(filepath.Join(dir, acpiDir, "TPM2"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(tbl, raw, 0o644))
	iout, err := exec.Command(iasl, "-d", tbl).CombinedOutput()
	require.NoError(t, err, "iasl -d: %s", iout)

	require.Equal(t, serveExitOK, rs.stop())
	assert.False(t, strings.Contains(rs.stderr.String(), "level=ERROR"), rs.stderr.String())
}
