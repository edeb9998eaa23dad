package mssim

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecoder(t *testing.T) {
	tests := []struct {
		name string
		port Port
		in   []byte
		want []Frame
		err  error // after the frames; nil means clean io.EOF
	}{
		{"empty stream", PortTPM, nil, nil, nil},
		{"send command", PortTPM, append(append(u32s(8), 3), append(u32s(2), 0xaa, 0xbb)...),
			[]Frame{{Cmd: SendCommand, Locality: 3, Payload: []byte{0xaa, 0xbb}}}, nil},
		{"zero-length command", PortTPM, append(append(u32s(8), 0), u32s(0)...),
			[]Frame{{Cmd: SendCommand, Payload: []byte{}}}, nil},
		{"handshake then session end", PortTPM, u32s(15, 1, 20),
			[]Frame{{Cmd: RemoteHandshake, Value: 1}, {Cmd: SessionEnd}}, nil},
		{"hash data", PortTPM, append(u32s(6, 1), 7), []Frame{{Cmd: SignalHashData, Payload: []byte{7}}}, nil},
		{"tcti-mssim init", PortPlatform, u32s(1, 11), []Frame{{Cmd: SignalPowerOn}, {Cmd: SignalNVOn}}, nil},
		{"act get signaled", PortPlatform, u32s(26, 5), []Frame{{Cmd: ACTGetSignaled, Value: 5}}, nil},
		{"unknown", PortTPM, u32s(0), nil, ErrUnknownCommand},
		{"wrong port", PortPlatform, u32s(15, 1), nil, ErrWrongPort},
		{"too large", PortTPM, append(append(u32s(8), 0), u32s(4097)...), nil, ErrTooLarge},
		{"max size accepted", PortTPM, append(append(append(u32s(8), 0), u32s(4096)...), make([]byte, 4096)...),
			[]Frame{{Cmd: SendCommand, Payload: make([]byte, 4096)}}, nil},
		{"truncated code", PortTPM, []byte{0, 0, 0}, nil, ErrTruncated},
		{"truncated locality", PortTPM, u32s(8), nil, ErrTruncated},
		{"truncated u32 arg", PortPlatform, append(u32s(26), 0), nil, ErrTruncated},
		{"truncated payload", PortTPM, append(append(u32s(8), 0), append(u32s(3), 1)...), nil, ErrTruncated},
		{"good then bad", PortPlatform, u32s(1, 77), []Frame{{Cmd: SignalPowerOn}}, ErrUnknownCommand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(bytes.NewReader(tt.in), tt.port, 0)
			for i, w := range tt.want {
				f, err := d.Next()
				require.NoError(t, err, "frame %d", i)
				assert.Equal(t, w.Cmd, f.Cmd)
				assert.Equal(t, w.Locality, f.Locality)
				assert.Equal(t, w.Value, f.Value)
				assert.Equal(t, len(w.Payload), len(f.Payload))
				assert.True(t, bytes.Equal(w.Payload, f.Payload))
			}
			_, err := d.Next()
			if tt.err == nil {
				require.ErrorIs(t, err, io.EOF)
				return
			}
			require.ErrorIs(t, err, tt.err)
			var fe *FrameError
			require.True(t, errors.As(err, &fe))
			assert.Equal(t, tt.port, fe.Port)
			assert.NotEmpty(t, fe.Error())
		})
	}
}

func TestFrameErrorNamesWhatWasWrong(t *testing.T) {
	d := NewDecoder(bytes.NewReader(append(append(u32s(8), 0), u32s(9000)...)), PortTPM, 0)
	_, err := d.Next()
	require.EqualError(t, err, "mssim command port: TPM_SEND_COMMAND: buffer size over the limit at frame offset 5 (9000 bytes announced, limit 4096)")
}

func TestSupportTable(t *testing.T) {
	seen := map[Command]bool{}
	for _, ci := range Commands() {
		assert.False(t, seen[ci.Cmd], "duplicate %v", ci.Cmd)
		seen[ci.Cmd] = true
		assert.NotZero(t, ci.Ports, ci.Name)
		assert.Equal(t, ci.Name, ci.Cmd.String())
		// Every row encodes and decodes back to itself.
		f := Frame{Cmd: ci.Cmd, Value: 9, Locality: 2, Payload: []byte{1, 2, 3}}
		b, err := AppendFrame(nil, f)
		require.NoError(t, err)
		for _, p := range []Port{PortTPM, PortPlatform} {
			if ci.Ports&p == 0 {
				continue
			}
			g, err := NewDecoder(bytes.NewReader(b), p, 0).Next()
			require.NoError(t, err, ci.Name)
			b2, _ := AppendFrame(nil, g)
			assert.Equal(t, b, b2, ci.Name)
		}
	}
	assert.Equal(t, "Command(99)", Command(99).String())
	_, err := AppendFrame(nil, Frame{Cmd: 99})
	assert.ErrorIs(t, err, ErrUnknownCommand)
}

func TestReadResponse(t *testing.T) {
	good := append(append(u32s(3), 1, 2, 3), u32s(0)...)
	rsp, err := ReadResponse(bytes.NewReader(good), 0)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, rsp)
	for name, in := range map[string][]byte{
		"too big":   u32s(1 << 20),
		"truncated": append(u32s(3), 1),
		"no ack":    append(u32s(1), 1),
		"ack not 0": append(append(u32s(1), 1), u32s(1)...),
	} {
		_, err := ReadResponse(bytes.NewReader(in), 0)
		assert.Error(t, err, name)
	}
}
