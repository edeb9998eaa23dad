package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/google/go-tpm/tpm2/transport"
)

// serveBoot boots cfg's scenario (the default one, or --preset) on the
// engine before serving, as "ffatpm boot" would, so that the PCRs hold its
// firmware and IMA measurements; with --out it writes the boot's files. The
// built-in simulator (sim) is power-cycled first; another engine (eng, e.g.
// swtpm) is used as it is. The boot's machine is discarded afterwards; the
// TPM engine, with its PCRs, is kept and a fresh machine is built around it
// for serving (as the TPM of a machine outlives the kernel that measured
// into it).
func serveBoot(ctx context.Context, sim *engine.Simulator, eng transport.TPM, cfg serveConfig, stdout io.Writer) error {
	sc, err := resolvedPreset(cfg.preset)
	if err != nil {
		return err
	}
	opt := bootOptions{sim: sim}
	if sim == nil {
		opt = bootOptions{engine: eng}
	}
	rep, err := bootScenario(ctx, sc, opt)
	if err != nil {
		return fmt.Errorf("--boot: %w", err)
	}
	if cfg.out != "" {
		if err := writeOut(cfg.out, rep); err != nil {
			return err
		}
	}
	pcr10 := "?"
	if a := rep.artifacts; a != nil && len(a.pcrs["sha256"]) > 10 {
		pcr10 = hex.EncodeToString(a.pcrs["sha256"][10])
	}
	fmt.Fprintf(stdout, "ffatpm serve: booted %s: verdict %s, %d measurements, PCR 10 (sha256) %s\n",
		rep.Preset, rep.Verdict, rep.Measurements, pcr10)
	if cfg.out != "" {
		fmt.Fprintf(stdout, "ffatpm serve: boot files under %s\n", cfg.out)
	}
	return nil
}
