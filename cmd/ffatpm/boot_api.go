package main

import (
	"context"
	"fmt"
	"io"

	"github.com/google/go-tpm/tpm2/transport"
)

// bootOnEngine is the boot of "ffatpm serve --boot": it boots preset (""
// for the default scenario) with eng as the TPM engine behind the TPM
// partition, so that eng's PCRs hold the firmware and IMA state afterwards;
// it writes the files of "ffatpm boot --out" to outDir when set, and the
// boot's summary to w. eng is neither reset nor closed.
func bootOnEngine(ctx context.Context, preset string, eng transport.TPM, outDir string, w io.Writer) (*bootReport, error) {
	s, err := baseScenario(preset)
	if err != nil {
		return nil, err
	}
	if s, err = withKernelDefaults(s); err != nil {
		return nil, err
	}
	rep, err := bootScenario(ctx, s, bootOptions{engine: eng})
	if err != nil {
		return nil, err
	}
	if outDir != "" {
		if err := writeOut(outDir, rep); err != nil {
			return nil, err
		}
	}
	if w != nil {
		printSummary(w, rep, outDir)
		fmt.Fprintln(w)
	}
	return rep, nil
}
