package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runBenchCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := newEnv(args, strings.NewReader(""), &out, &errb)
	e.self = "" // no worker processes or child boots from the test binary
	code := run(context.Background(), e)
	return code, out.String(), errb.String()
}

// TestBenchQuickSmoke runs the quick form of the cheap rows and checks the
// table's shape (not the figures: the machine's load decides those).
func TestBenchQuickSmoke(t *testing.T) {
	code, out, errs := runBenchCLI(t, "bench", "--quick", "--only", "P1,P6", "--no-swtpm")
	require.Equal(t, exitOK, code, errs)
	require.Contains(t, out, "load average")
	require.Contains(t, out, "PCR_Extend: chain vs direct")
	require.Contains(t, out, "DIRECT_REQ2 (SPMC)")
	require.Contains(t, out, "swtpm: not used: --no-swtpm")
	require.NotContains(t, out, "P3")
}

func TestBenchJSON(t *testing.T) {
	code, out, errs := runBenchCLI(t, "bench", "--quick", "--only", "p6", "--json", "--no-swtpm")
	require.Equal(t, exitOK, code, errs)
	var rep benchReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.NotEmpty(t, rep.Rows)
	for _, r := range rep.Rows {
		require.Equal(t, "P6", r.ID)
		if r.Target == "0" {
			require.NotNil(t, r.Met)
			require.True(t, *r.Met, "%s: %v allocs/op", r.Name, r.Ratio)
		}
	}
}

func TestBenchUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench", "--help"}, exitOK, "Usage: ffatpm bench"},
		{[]string{"bench", "--only", "P9"}, exitUsage, `unknown measurement "P9"`},
		{[]string{"bench", "extra"}, exitUsage, "unexpected argument"},
		{[]string{"help", "bench"}, exitOK, "--no-swtpm"},
	} {
		code, out, errs := runBenchCLI(t, tc.args...)
		require.Equal(t, tc.code, code, "%v: %s", tc.args, errs)
		require.Contains(t, out+errs, tc.want, "%v", tc.args)
	}
}
