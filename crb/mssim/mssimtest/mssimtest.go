// Package mssimtest holds helpers for interop tests against mssim servers:
// finding peer tools (failing under CI=true when one is missing), starting
// `swtpm socket` on a free loopback port pair, and running the tpm2-tools
// steps the interop acceptance names.
package mssimtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/crb/mssim/loopback"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// NeedTool returns the path of a peer tool. Without it the test fails under
// CI=true (CI installs every peer tool, see .ci/run) and is skipped
// elsewhere.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (CI=true requires every peer tool; see .ci/run)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// FreePortPair returns a loopback port p with p and p+1 free a moment ago.
func FreePortPair(t testing.TB) int {
	t.Helper()
	p, err := loopback.FreePortPair()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// StartSwtpm runs `swtpm socket --tpm2` on a free loopback port pair (server
// port, ctrl port + 1) with a fresh state directory, already started
// (--flags not-need-init,startup-clear), and stops it when the test ends.
// It returns the server port's address.
func StartSwtpm(t testing.TB) string {
	t.Helper()
	sw, err := loopback.StartSwtpm(NeedTool(t, "swtpm"))
	require.NoError(t, err)
	t.Cleanup(sw.Stop)
	return sw.Addr
}

// TPM2Tool runs one tpm2-tools command with TPM2TOOLS_TCTI=tcti and returns
// its stdout; a non-zero exit fails the test with both outputs.
func TPM2Tool(t testing.TB, tcti string, args ...string) string {
	t.Helper()
	bin := NeedTool(t, args[0])
	cmd := exec.Command(bin, args[1:]...)
	cmd.Env = append(cmd.Environ(), "TPM2TOOLS_TCTI="+tcti)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	require.NoError(t, err, "%s: stdout %q stderr %q", strings.Join(args, " "), out.String(), errb.String())
	return out.String()
}

// RunTPM2Tools runs the steps of the interop acceptance with tpm2-tools:
// tpm2_startup -c (a started TPM answers TPM_RC_INITIALIZE, which the tool
// accepts), tpm2_getrandom, tpm2_pcrread, tpm2_pcrextend (checking the
// extend arithmetic on PCR 23) and tpm2_createprimary.
func RunTPM2Tools(t testing.TB, tcti, dir string) {
	t.Helper()
	run := func(args ...string) string { t.Helper(); return TPM2Tool(t, tcti, args...) }
	run("tpm2_startup", "-c")
	rnd := run("tpm2_getrandom", "--hex", "16")
	b, err := hex.DecodeString(strings.TrimSpace(rnd))
	require.NoError(t, err, rnd)
	assert.Len(t, b, 16)

	before := PCRValue(t, run("tpm2_pcrread", "sha256:23"), 23)
	d := sha256.Sum256([]byte("tpm2_pcrextend"))
	run("tpm2_pcrextend", "23:sha256="+hex.EncodeToString(d[:]))
	after := PCRValue(t, run("tpm2_pcrread", "sha256:23"), 23)
	want := sha256.Sum256(append(before, d[:]...))
	assert.Equal(t, want[:], after, "PCR 23 after tpm2_pcrextend")

	out := run("tpm2_createprimary", "-C", "o", "-g", "sha256", "-G", "ecc", "-c", filepath.Join(dir, "primary.ctx"))
	assert.Contains(t, out, "name-alg")
	run("tpm2_flushcontext", "-t")
}

// PCRValue picks "  N : 0x<hex>" out of tpm2_pcrread's YAML output.
func PCRValue(t testing.TB, out string, idx int) []byte {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || strings.TrimSpace(k) != strconv.Itoa(idx) {
			continue
		}
		b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(v), "0x"))
		require.NoError(t, err, line)
		return b
	}
	t.Fatalf("PCR %d not in tpm2_pcrread output:\n%s", idx, out)
	return nil
}
