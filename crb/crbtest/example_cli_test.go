package crbtest_test

import (
	"fmt"

	"github.com/ffatpm/ffatpm/crb/crbtest"
	"github.com/ffatpm/ffatpm/crb/platform"
)

// Example runs the DEN0138 TPM-partition conformance suite against our
// machine (SPMC, TPM partition, CRB, the reference TPM simulator) without a
// *testing.T. Inside a test, use crbtest.Run(t, factory); to check another
// partition, write a Factory that builds it.
func Example() {
	failures := crbtest.Check(crbtest.PlatformFactory(platform.Config{}))
	fmt.Println("failures:", len(failures))
	// Output: failures: 0
}
