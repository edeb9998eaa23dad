package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCLI runs the command in this process and returns its exit status,
// stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), newEnv(args, strings.NewReader(""), &out, &errb))
	return code, out.String(), errb.String()
}

// needTool skips when a peer tool is missing, except under CI=true where
// the tool must be installed and its absence is a failure.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI=true: .ci/run installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// TestOutFiles checks that --out writes exactly the documented paths.
func TestOutFiles(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "boot", "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	var got []string
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, rel)
		}
		return err
	}))
	assert.ElementsMatch(t, []string{
		"sys/kernel/security/ima/ascii_runtime_measurements",
		"sys/kernel/security/ima/ascii_runtime_measurements_sha256",
		"sys/kernel/security/ima/binary_runtime_measurements",
		"sys/kernel/security/ima/binary_runtime_measurements_sha256",
		"sys/kernel/security/tpm0/binary_bios_measurements",
		"sys/firmware/acpi/tables/TPM2",
		"pcrs-sha1.txt",
		"pcrs-sha256.txt",
		"dmesg.txt",
		"trace.jsonl",
	}, got)
	pcrs, err := os.ReadFile(filepath.Join(dir, "pcrs-sha256.txt"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(pcrs)), "\n")
	require.Len(t, lines, 24)
	assert.Regexp(t, `^PCR-00: [0-9a-f]{64}$`, lines[0])
	assert.Regexp(t, `^PCR-23: [0-9a-f]{64}$`, lines[23])
}

// TestEvmctlMatchesOut runs evmctl on what --out wrote: the measurement
// list replays to the PCRs of each bank, and evmctl's boot_aggregate is ours.
func TestEvmctlMatchesOut(t *testing.T) {
	evmctl := needTool(t, "evmctl")
	for _, preset := range []string{"v6.17", "seed-001-late-retry"} {
		t.Run(preset, func(t *testing.T) {
			dir := t.TempDir()
			code, stdout, stderr := runCLI(t, "boot", "--preset", preset, "--out", dir)
			require.Equal(t, exitOK, code, stderr)
			ima := filepath.Join(dir, "sys/kernel/security/ima")
			// evmctl reads the un-suffixed list (SHA-1 template digests) and
			// replays it into each bank it is given PCRs for.
			for _, bank := range []string{"sha256", "sha1"} {
				cmd := exec.Command(evmctl, "ima_measurement", "--pcrs", bank+","+filepath.Join(dir, "pcrs-"+bank+".txt"),
					filepath.Join(ima, "binary_runtime_measurements"))
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "%s", out)
				assert.Contains(t, string(out), "Matched per TPM bank", "%s", out)
			}
			cmd := exec.Command(evmctl, "ima_boot_aggregate", "--pcrs", "sha256,"+filepath.Join(dir, "pcrs-sha256.txt"))
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			// evmctl prints "sha256:<hex>"; the summary prints the same.
			agg := strings.TrimSpace(string(out))
			assert.Contains(t, stdout, agg)
		})
	}
}
