package mssim

import (
	"io"

	"github.com/google/go-tpm/tpm2/transport"
)

// ReadWriter adapts a transport.TPM for code that wants the legacy
// io.ReadWriter shape (go-tpm-tools' client package, go-tpm's legacy tpm2):
// Write sends one command, the following Reads return its response.
//
// go-tpm's transport.ToReadWriter returns io.EOF together with the last
// bytes of a response, which tpmutil.RunCommandRaw treats as a failure; this
// adapter returns io.EOF only once the response is used up.
func ReadWriter(t transport.TPM) io.ReadWriter { return &rwAdapter{tpm: t} }

type rwAdapter struct {
	tpm transport.TPM
	rsp []byte
}

func (a *rwAdapter) Write(p []byte) (int, error) {
	rsp, err := a.tpm.Send(p)
	if err != nil {
		return 0, err
	}
	a.rsp = rsp
	return len(p), nil
}

func (a *rwAdapter) Read(p []byte) (int, error) {
	if len(a.rsp) == 0 {
		return 0, io.EOF
	}
	n := copy(p, a.rsp)
	a.rsp = a.rsp[n:]
	return n, nil
}
