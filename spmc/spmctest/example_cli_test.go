package spmctest_test

import (
	"fmt"

	"github.com/ffatpm/ffatpm/spmc/spmctest"
)

// Example runs the FF-A conformance suite against an SPMC without a
// *testing.T: Check returns one Result per case. Inside a test, use
// spmctest.Run(t, factory) instead; the factory builds a fresh SPMC (here
// ours, with the suite's fixture partitions) for every case.
func Example() {
	results := spmctest.Check(func() (*spmctest.Fixture, error) { return spmctest.NewFixture(nil) })
	failed := 0
	for _, r := range results {
		if r.Failed() {
			failed++
		}
	}
	fmt.Println("cases run:", len(results) == len(spmctest.Cases()), "failed:", failed)
	// Output: cases run: true failed: 0
}
