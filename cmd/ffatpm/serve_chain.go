package main

import (
	"fmt"

	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/google/go-tpm/tpm2/transport"
)

// serveChainT is the chain "ffatpm serve" puts in front of the engine.
type serveChainT struct {
	tpm      transport.TPM // the normal world's view of the TPM
	path     string        // what a command crosses, for the start-up line
	platform *platform.Platform
	close    func() error
}

// serveChain builds the machine around engine (bus, SPMC, TPM partition,
// CRB) and brings the normal world's TPM driver up the way a booted Linux
// has it (FF-A version and partition discovery, tpm_crb_ffa probe, tpm_crb
// init). Every command sent to the returned transport goes normal world ->
// FF-A -> SPMC -> TPM partition -> CRB -> engine.
func serveChain(engine transport.TPM, engineName string) (*serveChainT, error) {
	p, err := platform.New(platform.Config{Engine: engine})
	if err != nil {
		return nil, err
	}
	chip, err := crbdrv.Open(crbdrv.OpenConfig{
		Conduit:     p.Conduit(),
		MMIO:        p.NS(),
		ControlArea: p.ControlArea(),
		Clock:       &crbdrv.VirtualClock{},
	})
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("normal-world TPM driver: %w", err)
	}
	return &serveChainT{
		tpm:      chip,
		path:     "normal world -> FF-A -> SPMC -> TPM partition -> CRB -> " + engineName,
		platform: p,
		close:    p.Close,
	}, nil
}
