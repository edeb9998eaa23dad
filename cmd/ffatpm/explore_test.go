package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPermutations(t *testing.T) {
	empty := permutations(nil)
	require.Len(t, empty, 1)
	assert.Empty(t, empty[0])
	assert.Equal(t, [][]string{{"a", "b"}, {"b", "a"}}, permutations([]string{"a", "b"}))
	ps := permutations([]string{"a", "b", "c"})
	assert.Len(t, ps, 6)
	assert.Equal(t, []string{"a", "b", "c"}, ps[0])
	seen := map[string]bool{}
	for _, p := range ps {
		seen[p[0]+p[1]+p[2]] = true
	}
	assert.Len(t, seen, 6)
}

func TestSameRelativeOrder(t *testing.T) {
	tests := []struct {
		a, b []string
		want bool
	}{
		{[]string{"x", "y"}, []string{"x", "y"}, true},
		{[]string{"x", "y"}, []string{"y", "x"}, false},
		{[]string{"x", "y"}, []string{"x"}, true},           // y not built in the other
		{[]string{"x", "y"}, []string{"x", "z", "y"}, true}, // z only in the other
		{[]string{"x", "y", "z"}, []string{"z", "x"}, false},
		{nil, []string{"a"}, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, consistent(tt.a, tt.b), "%v vs %v", tt.a, tt.b)
	}
}

// TestExploreCoversSpace runs "explore --json" with worker processes and
// checks that every point of the space was booted, that every failing
// point whose order allows it names a fix, and the wall time.
func TestExploreCoversSpace(t *testing.T) {
	points, err := explorePoints()
	require.NoError(t, err)
	start := time.Now()
	code, stdout, stderr := runCLI(t, "explore", "--json")
	elapsed := time.Since(start)
	require.Equal(t, exitOK, code, stderr)
	var out struct {
		Total  int             `json:"total"`
		Shown  int             `json:"shown"`
		Counts map[string]int  `json:"counts"`
		Points []exploreResult `json:"points"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	assert.Equal(t, len(points), out.Total)
	assert.Equal(t, len(points), len(out.Points))
	assert.Equal(t, out.Total, out.Counts["tpm"]+out.Counts["late"]+out.Counts["bypass"])
	for _, v := range verdictNames {
		assert.Positive(t, out.Counts[v], "some configuration ends in %s", v)
	}
	for _, r := range out.Points {
		assert.Empty(t, r.Error)
		assert.Contains(t, verdictNames[:], r.Verdict)
		if r.Verdict == "tpm" {
			assert.Empty(t, r.Fix)
		}
	}
	// Seed 002's order without patches: a fix exists and is one switch.
	for _, r := range out.Points {
		p := r.Point
		if p.FFA == "y" && p.CRB == "y" && p.CRBFFA == "y" && p.FFAInitcall == "device" && !p.CRBFFARegister && !p.CRBFFABugOn && !p.FFABusInit && p.IMALate == "off" &&
			p.dim("device") == "crb_acpi_driver_init,tpm_crb_ffa_driver_init,ffa_init" && p.dim("late") == "init_ima,deferred_probe_initcall" {
			assert.Equal(t, "bypass", r.Verdict)
			assert.NotEmpty(t, r.Fix)
		}
	}
	t.Logf("explore: %d configurations in %v (race detector: %v)", out.Total, elapsed, raceEnabled)
	if !raceEnabled {
		assert.Less(t, elapsed, 10*time.Second, "explore must finish in under 10 s")
	}
}

// TestExploreSameWithOneWorker checks that the worker processes change
// nothing but the time: one worker (in this process) prints the same.
func TestExploreSameWithOneWorker(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("boots the space twice")
	}
	code, many, stderr := runCLI(t, "explore", "--json")
	require.Equal(t, exitOK, code, stderr)
	code, one, stderr := runCLI(t, "explore", "--json", "--workers", "1")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, one, many)
}
