package crbtest_test

import (
	"os"
	"testing"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDocNotStale(t *testing.T) {
	got, err := os.ReadFile("../../docs/crb.md")
	require.NoError(t, err)
	assert.Equal(t, crb.DocMarkdown()+crbtest.CasesMarkdown(), string(got), "docs/crb.md is stale: run go generate ./crb")
}
