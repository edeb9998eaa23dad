package reliability_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imakernel"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastBoot boots a preset with IMA on the model-only secure world (no
// simulator, so boots can run side by side) and returns everything a boot
// writes: the dmesg log and the SHA-256 binary measurement list.
func fastBoot(preset string) (string, error) {
	_, kp := kerneltest.NewFastWorld(&kerneltest.FakeTPM{})
	pr, ok := kernel.LookupPreset(preset)
	if !ok {
		return "", fmt.Errorf("no preset %s", preset)
	}
	spec := pr.Spec(kp)
	spec.UserspaceExecs = []string{"/init", "/bin/busybox", "/sbin/init"}
	// IMA extends an RTMR-like bank: the model-only FakeTPM has no
	// PCR_Read for boot_aggregate; the kernel still registers the TPM chip.
	x := imakernel.New(imakernel.Options{Files: ima.EmbeddedFiles(), RoT: imakernel.RoTRTMR})
	x.Install(&spec)
	res, err := kernel.Boot(spec)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	b.WriteString(res.FormatLog())
	if st := x.State(); st == nil || st.List().Len() < 2 {
		return "", fmt.Errorf("preset %s: IMA did not measure (err %v)", preset, x.Err())
	}
	if st := x.State(); st != nil {
		if err := st.List().WriteBinary(&b, hashalg.SHA256); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(&b, "\nchip=%v verdict-points=%v", res.Chip != nil, x.Points())
	return b.String(), nil
}

// TestConcurrentBoots: boots of every preset run on parallel goroutines
// (each its own machine) write byte for byte what the same boots write one
// after the other: no state is shared between boots (-race checks the
// memory side).
func TestConcurrentBoots(t *testing.T) {
	var presets []string
	for _, p := range kernel.Presets() {
		presets = append(presets, p.Name)
	}
	const rounds = 10
	serial := map[string]string{}
	for _, p := range presets {
		out, err := fastBoot(p)
		require.NoError(t, err, p)
		serial[p] = out
	}
	type result struct {
		preset, out string
		err         error
	}
	results := make(chan result, rounds*len(presets))
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for r := 0; r < rounds; r++ {
			for _, p := range presets {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := fastBoot(p)
					results <- result{p, out, err}
				}()
			}
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		t.Fatal("concurrent boots did not finish in 120 s")
	}
	close(results)
	n := 0
	for r := range results {
		require.NoError(t, r.err, r.preset)
		assert.Equal(t, serial[r.preset], r.out, "preset %s: concurrent boot differs from the serial one", r.preset)
		n++
	}
	t.Logf("%d boots (%d presets x %d) on parallel goroutines, each identical to its serial boot", n, len(presets), rounds)
}
