package mssim

import (
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite docs/mssim.md")

func TestDocNotStale(t *testing.T) {
	const path = "../../docs/mssim.md"
	want := DocMarkdown()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "docs/mssim.md is stale: run go generate ./crb/mssim")
}
