package crbtest_test

import (
	"context"
	"testing"

	"github.com/ffatpm/ffatpm/crb/crbtest"
	"github.com/ffatpm/ffatpm/crb/mssim"
	"github.com/ffatpm/ffatpm/crb/mssim/mssimtest"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/stretchr/testify/require"
)

// TestConformsWithSwtpmEngine puts swtpm (through crb/mssim's client)
// behind the partition instead of the simulator: the engine is just a
// transport.TPM. Skipped without swtpm, failed under CI=true.
func TestConformsWithSwtpmEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts swtpm")
	}
	addr := mssimtest.StartSwtpm(t)
	cl, err := mssim.Dial(context.Background(), addr, mssim.ClientConfig{NoPlatform: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cl.Close() })
	crbtest.Run(t, crbtest.PlatformFactory(platform.Config{Engine: cl}))
}
