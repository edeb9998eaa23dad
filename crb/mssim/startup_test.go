package mssim

import (
	"errors"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type tpmFunc func([]byte) ([]byte, error)

func (f tpmFunc) Send(b []byte) ([]byte, error) { return f(b) }

var _ transport.TPM = tpmFunc(nil)

func TestEnsureStarted(t *testing.T) {
	startup := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0}
	tests := []struct {
		name    string
		rsp     []byte
		err     error
		started bool
		wantErr string
	}{
		{"fresh TPM", tpmError(0), nil, true, ""},
		{"already started", tpmError(0x100), nil, false, ""},
		{"failure mode", tpmError(0x101), nil, false, "TPM_RC 0x101"},
		{"short response", []byte{0x80, 0x01}, nil, false, "2-byte response"},
		{"transport error", nil, errors.New("CRB timeout"), false, "CRB timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent []byte
			started, err := EnsureStarted(tpmFunc(func(b []byte) ([]byte, error) {
				sent = append([]byte(nil), b...)
				return tt.rsp, tt.err
			}))
			require.Equal(t, startup, sent, "TPM2_Startup(TPM_SU_CLEAR)")
			assert.Equal(t, tt.started, started)
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.wantErr)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	assert.Equal(t, "command port", PortTPM.String())
	assert.Equal(t, "platform port", PortPlatform.String())
	assert.Equal(t, "both ports", (PortTPM | PortPlatform).String())
	assert.Equal(t, "Port(8)", Port(8).String())
	for a, s := range map[Action]string{ActExecute: "execute", ActAck: "ack", ActPlatform: "platform",
		ActRefuse: "refuse", ActClose: "close", ActUnmodelled: "unmodelled", Action(42): "Action(42)"} {
		assert.Equal(t, s, a.String())
	}
	assert.Equal(t, "mssim: server answered TPM_SIGNAL_POWER_OFF with 1", (&SignalError{Cmd: SignalPowerOff, Code: 1}).Error())
	assert.Equal(t, "TPM_SEND_COMMAND(locality 3, 2 bytes)", Frame{Cmd: SendCommand, Locality: 3, Payload: []byte{1, 2}}.String())
	assert.Equal(t, "TPM_REMOTE_HANDSHAKE(1)", Frame{Cmd: RemoteHandshake, Value: 1}.String())
}
