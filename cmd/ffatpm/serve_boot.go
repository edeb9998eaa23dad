package main

import (
	"context"
	"errors"
)

// errServeBootNotAvailable is returned for --boot until the kernel and IMA
// boot can hand its booted platform (with its TPM) to serve.
var errServeBootNotAvailable = errors.New("--boot is not available yet: the kernel+IMA boot does not hand its booted TPM to serve in this build")

func serveBootAvailable() error { return errServeBootNotAvailable }

// serveBoot boots cfg's scenario on ch so the PCRs hold its measurements.
func serveBoot(ctx context.Context, ch *serveChainT, cfg serveConfig, stdout interface{ Write([]byte) (int, error) }) error {
	return errServeBootNotAvailable
}
