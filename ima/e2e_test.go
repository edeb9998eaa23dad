package ima_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/eventlog"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imatest"
	"github.com/ffatpm/ffatpm/ima/policy"
)

// bootResult is one modelled boot on the simulator, written to dir as a
// kernel's securityfs would show it.
type bootResult struct {
	dir  string
	m    *ima.IMA
	rot  *ima.TPM
	elog *eventlog.Log
	logs []string
}

func bootOnSimulator(t *testing.T, cfg ima.Config, aggregate string, firmware bool) *bootResult {
	t.Helper()
	sim := imatest.Simulator(t)
	rot, err := ima.NewTPM(sim)
	require.NoError(t, err)
	res := &bootResult{dir: t.TempDir(), rot: rot}
	if firmware {
		res.elog, err = eventlog.Measure(rot, eventlog.DefaultComponents(eventlog.Images{}), 0)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(res.dir, "binary_bios_measurements"), res.elog.Marshal(), 0o644))
	}
	res.m, err = ima.Init(cfg, rot, aggregate, func(l string) { res.logs = append(res.logs, l) })
	require.NoError(t, err)
	for _, f := range ima.EmbeddedFiles() {
		_, err := res.m.Measure(f)
		require.NoError(t, err)
	}
	require.NoError(t, res.m.List().WriteFiles(res.dir, true))
	require.NoError(t, ima.WritePCRFiles(res.dir, rot))
	return res
}

func (b *bootResult) path(n string) string { return filepath.Join(b.dir, n) }

func evidenceFromDir(t *testing.T, dir string, banks []hashalg.Alg, withLog bool) ima.Evidence {
	t.Helper()
	ev := ima.Evidence{Lists: map[hashalg.Alg][]ima.Record{}, PCRs: map[hashalg.Alg]ima.PCRValues{}}
	raw, err := os.ReadFile(filepath.Join(dir, ima.BinaryListName))
	require.NoError(t, err)
	ev.Lists[hashalg.SHA1], err = ima.ParseBinary(raw, 20)
	require.NoError(t, err)
	for _, b := range banks {
		raw, err := os.ReadFile(filepath.Join(dir, ima.PCRFileName(b)))
		require.NoError(t, err)
		ev.PCRs[b], err = ima.ParsePCRFile(raw)
		require.NoError(t, err)
	}
	if withLog {
		raw, err := os.ReadFile(filepath.Join(dir, "binary_bios_measurements"))
		require.NoError(t, err)
		ev.EventLog, err = eventlog.Parse(raw)
		require.NoError(t, err)
	}
	return ev
}

func TestSimulatorBootVerifies(t *testing.T) {
	for _, tmpl := range []string{ima.TemplateIMANG, ima.TemplateSig, ima.TemplateIMA} {
		t.Run(tmpl, func(t *testing.T) {
			b := bootOnSimulator(t, ima.Config{Policy: policy.TCB(), Template: tmpl}, ima.BootAggregateName, true)
			banks := b.rot.Banks()
			require.NotEmpty(t, banks)
			ents := b.m.List().Entries()
			require.Greater(t, len(ents), 5)
			assert.Equal(t, ima.BootAggregateName, cStr(ents[0].Fields[1].Data))

			ev := evidenceFromDir(t, b.dir, banks, true)
			rep := ima.Verify(ev)
			assert.True(t, rep.OK(), rep.String())
			assert.False(t, rep.Bypass)

			// Every per-bank list replays with its own digests too.
			for _, bank := range banks {
				raw, err := os.ReadFile(b.path(ima.BinaryFileName(bank, true)))
				require.NoError(t, err)
				recs, err := ima.ParseBinary(raw, bank.Size())
				require.NoError(t, err)
				got, err := ima.ReplayList(recs, bank, bank)
				require.NoError(t, err)
				tpm, err := b.rot.Read(10, bank)
				require.NoError(t, err)
				assert.Equal(t, tpm, got[10], "bank %v", bank)
			}
		})
	}
}

func cStr(b []byte) string { return string(bytes.TrimRight(b, "\x00")) }

// evmctl must agree with our files: ima_measurement matches every bank and
// ima_boot_aggregate gives our boot_aggregate.
func TestEvmctlAgreesWithOurFiles(t *testing.T) {
	evmctl := imatest.NeedTool(t, "evmctl")
	for _, tmpl := range []string{ima.TemplateIMANG, ima.TemplateSig, ima.TemplateIMA} {
		t.Run(tmpl, func(t *testing.T) {
			b := bootOnSimulator(t, ima.Config{Policy: policy.TCB(), Template: tmpl}, ima.BootAggregateName, true)
			// Add a violation: evmctl must replay it as ff..ff.
			require.NoError(t, b.m.Violation("/var/log/open-writers"))
			require.NoError(t, b.m.List().WriteFiles(b.dir, true))
			require.NoError(t, ima.WritePCRFiles(b.dir, b.rot))

			// evmctl 1.4 takes at most two --pcrs files and knows only the
			// sha1 and sha256 banks. It replays violations as 00..00 unless
			// --ignore-violations turns them into the ff..ff Linux extends.
			pcrArgs := []string{"--pcrs", "sha1," + b.path(ima.PCRFileName(hashalg.SHA1)),
				"--pcrs", "sha256," + b.path(ima.PCRFileName(hashalg.SHA256))}
			out := runTool(t, evmctl, append(append([]string{"ima_measurement", "--ignore-violations"}, pcrArgs...), b.path(ima.BinaryListName))...)
			assert.Contains(t, out, "Matched per TPM bank")
			strict, err := exec.Command(evmctl, append(append([]string{"ima_measurement"}, pcrArgs...), b.path(ima.BinaryListName))...).CombinedOutput()
			assert.Error(t, err, "evmctl without --ignore-violations must not match a list with a violation:\n%s", strict)
			out = runTool(t, evmctl, "ima_boot_aggregate", "--pcrs", "sha1,"+b.path(ima.PCRFileName(hashalg.SHA1)),
				"--pcrs", "sha256,"+b.path(ima.PCRFileName(hashalg.SHA256)))
			first := b.m.List().Entries()[0]
			var want string
			if tmpl == ima.TemplateIMA {
				want = "sha1:" + hexs(first.Fields[0].Data)
			} else {
				want = strings.Replace(fieldHex(first.Fields[0].Data), "\x00", "", 1)
			}
			assert.Contains(t, strings.Fields(out), want)
		})
	}
}

// A PCR changed behind IMA's back makes evmctl fail too.
func TestEvmctlRejectsWrongPCR(t *testing.T) {
	evmctl := imatest.NeedTool(t, "evmctl")
	b := bootOnSimulator(t, ima.Config{Policy: policy.TCB()}, ima.BootAggregateName, true)
	require.NoError(t, b.rot.Extend(10, digestsFor(b.rot.Banks(), 0x42)))
	require.NoError(t, ima.WritePCRFiles(b.dir, b.rot))
	cmd := exec.Command(evmctl, "ima_measurement", "--pcrs", "sha256,"+b.path(ima.PCRFileName(hashalg.SHA256)), b.path(ima.BinaryListName))
	out, err := cmd.CombinedOutput()
	assert.Error(t, err, "%s", out)
	assert.NotContains(t, string(out), "Matched per TPM bank")

	rep := ima.Verify(evidenceFromDir(t, b.dir, b.rot.Banks(), true))
	require.False(t, rep.OK())
	assert.Contains(t, rep.String(), "FAIL PCR10 sha256")
}

func TestEvmctlAgreesWithReference(t *testing.T) {
	evmctl := imatest.NeedTool(t, "evmctl")
	out := runTool(t, evmctl, "ima_measurement", "--pcrs", "sha256,"+filepath.Join(refDir, "pcrs-sha256.txt"),
		"--pcrs", "sha1,"+filepath.Join(refDir, "pcrs-sha1.txt"), filepath.Join(refDir, "binary_runtime_measurements"))
	assert.Contains(t, out, "Matched per TPM bank")
	out = runTool(t, evmctl, "ima_boot_aggregate", "--pcrs", "sha256,"+filepath.Join(refDir, "pcrs-sha256.txt"))
	ev := refEvidence(t)
	want := ima.BootAggregateFromPCRs(ev.PCRs[hashalg.SHA256], hashalg.SHA256)
	assert.Contains(t, strings.Fields(out), "sha256:"+hexs(want))
}

func TestTpm2EventlogParsesOurLog(t *testing.T) {
	tool := imatest.NeedTool(t, "tpm2_eventlog")
	b := bootOnSimulator(t, ima.Config{Policy: policy.TCB()}, ima.BootAggregateName, true)
	out := runTool(t, tool, b.path("binary_bios_measurements"))
	assert.Contains(t, out, "Spec ID Event03")
	assert.Contains(t, out, "EV_S_CRTM_VERSION")
	assert.Contains(t, out, "EV_SEPARATOR")
	assert.NotContains(t, out, "WARN")
	// tpm2_eventlog's own replay ("pcrs:") equals what the TPM reports.
	for _, bank := range b.rot.Banks() {
		for i := 0; i < 10; i++ {
			v, err := b.rot.Read(i, bank)
			require.NoError(t, err)
			assert.Contains(t, out, "0x"+hexs(v), "%v PCR%d", bank, i)
		}
	}
	// And our replay agrees.
	rep, err := b.elog.Replay()
	require.NoError(t, err)
	for _, bank := range b.rot.Banks() {
		// Firmware owns PCR0..9 (IMA extends 10; PCR17-22 start at ff..ff).
		for i := 0; i < 10; i++ {
			v, err := b.rot.Read(i, bank)
			require.NoError(t, err)
			assert.Equal(t, v, rep[bank][i], "%v PCR%d", bank, i)
		}
	}
}

func TestTpm2EventlogParsesReference(t *testing.T) {
	tool := imatest.NeedTool(t, "tpm2_eventlog")
	out := runTool(t, tool, filepath.Join(refDir, "binary_bios_measurements"))
	el, err := eventlog.Parse(readRef(t, "binary_bios_measurements"))
	require.NoError(t, err)
	rep, err := el.Replay()
	require.NoError(t, err)
	assert.Contains(t, strings.ToLower(out), "0x"+hexs(rep[hashalg.SHA256][0]))
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

func hexs(b []byte) string { return strings.ToLower(bytesHex(b)) }

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// fieldHex renders a d-ng field as "algo:hex".
func fieldHex(d []byte) string {
	i := bytes.IndexByte(d, ':')
	return string(d[:i+1]) + hexs(d[i+2:])
}

func digestsFor(banks []hashalg.Alg, fill byte) []hashalg.Digest {
	out := make([]hashalg.Digest, len(banks))
	for i, b := range banks {
		out[i] = hashalg.Digest{Alg: b, Digest: bytes.Repeat([]byte{fill}, b.Size())}
	}
	return out
}
