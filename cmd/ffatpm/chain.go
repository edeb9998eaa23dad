package main

import (
	"context"
	"errors"
)

// bootOptions tune a boot beyond its scenario.
type bootOptions struct {
	// trace records FF-A calls and CRB register accesses as well as the
	// driver-core events (slower; trace and --out ask for it).
	trace bool
}

// bootScenario runs one boot of sc through the whole chain and describes it.
func bootScenario(ctx context.Context, sc *scenario, opt bootOptions) (*bootReport, error) {
	return nil, errors.New("the kernel and IMA models are not wired in yet")
}
