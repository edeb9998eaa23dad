package main

import (
	"github.com/google/go-tpm/tpm2/transport"
)

// serveChainT is the chain "ffatpm serve" puts in front of the engine.
type serveChainT struct {
	tpm   transport.TPM // the normal world's view of the TPM
	path  string        // what a command crosses, for the start-up line
	close func() error
}

// serveChain builds the platform around engine and returns the normal
// world's transport.TPM.
//
// TODO(serve): switch to the crb engineer's platform builder and CRB-over-FF-A
// transport as soon as crb provides them; until then this is the engine
// itself and the start-up line says so.
func serveChain(engine transport.TPM, engineName string) (*serveChainT, error) {
	return &serveChainT{
		tpm:   engine,
		path:  engineName + " directly (the FF-A/SPMC/CRB chain is not wired in yet)",
		close: func() error { return nil },
	}, nil
}
