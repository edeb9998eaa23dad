package mssim

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"
)

// countingReader counts the bytes the decoder consumed.
type countingReader struct {
	r *bytes.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzDecode feeds arbitrary bytes to the frame decoder of either port
// (selected by the first byte). Properties: no panic; every error is io.EOF
// at a frame boundary or a *FrameError; no payload over the limit; every
// decoded frame re-encodes to exactly the bytes consumed for it.
func FuzzDecode(f *testing.F) {
	cmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0}
	f.Add(append([]byte{0}, append(append(u32s(8), 0), append(u32s(12), cmd...)...)...))
	f.Add(append([]byte{0}, u32s(15, 1, 16, 0, 20)...))
	f.Add(append([]byte{1}, u32s(1, 11, 9, 10, 2, 12, 26, 3, 21)...))
	f.Add(append([]byte{0}, append(append(u32s(8), 0), u32s(0xffffffff)...)...))
	f.Add(append([]byte{0}, append(u32s(6, 3), 1, 2)...))
	f.Add([]byte{1, 0, 0})
	const max = 512
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		port := PortTPM
		if data[0]&1 == 1 {
			port = PortPlatform
		}
		in := data[1:]
		cr := &countingReader{r: bytes.NewReader(in)}
		d := NewDecoder(cr, port, max)
		prev := 0
		for {
			fr, err := d.Next()
			if err != nil {
				var fe *FrameError
				if !errors.Is(err, io.EOF) && !errors.As(err, &fe) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				if errors.Is(err, io.EOF) && cr.n != len(in) {
					t.Fatalf("EOF after %d of %d bytes", cr.n, len(in))
				}
				if fe != nil && fe.Error() == "" {
					t.Fatal("empty error text")
				}
				return
			}
			if len(fr.Payload) > max {
				t.Fatalf("payload %d over the limit", len(fr.Payload))
			}
			enc, err := AppendFrame(nil, fr)
			if err != nil {
				t.Fatalf("decoded frame %v does not encode: %v", fr, err)
			}
			if !bytes.Equal(enc, in[prev:cr.n]) {
				t.Fatalf("frame %v re-encodes to %x, consumed %x", fr, enc, in[prev:cr.n])
			}
			prev = cr.n
		}
	})
}

// FuzzServerConn feeds an arbitrary byte stream to one server connection
// (command or platform port, by the first byte) over an in-memory pipe, with
// a fake TPM. Properties: no panic; the handler ends when the stream ends
// or a frame is bad; nothing reaches the TPM that was not counted as an
// answered command, and at most one malformed frame is counted per
// connection.
func FuzzServerConn(f *testing.F) {
	cmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0}
	f.Add(append([]byte{0}, append(append(u32s(8), 0), append(u32s(12), cmd...)...)...))
	f.Add(append([]byte{0}, append(append(u32s(8), 3), append(u32s(12), cmd...)...)...))
	f.Add(append([]byte{2}, append(append(u32s(8), 3), append(u32s(12), cmd...)...)...))
	f.Add(append([]byte{0}, u32s(15, 1, 16, 0, 5, 20)...))
	f.Add(append([]byte{1}, u32s(1, 11, 9, 10, 2, 12, 17, 18, 25, 26, 3, 30, 21)...))
	f.Add([]byte{0, 0, 0, 0, 8, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		port := PortTPM
		if data[0]&1 == 1 {
			port = PortPlatform
		}
		fake := &hashTPM{}
		var backend transport.TPM = fake
		withLoc := data[0]&2 != 0
		if withLoc {
			backend = locTPM{fake}
		}
		s, err := NewServer(Config{TPM: backend, MaxCommandSize: 512})
		if err != nil {
			t.Fatal(err)
		}
		srvEnd, cliEnd := net.Pipe()
		done := make(chan struct{})
		go func() {
			s.handle(srvEnd, port, 1)
			srvEnd.Close()
			close(done)
		}()
		// Collect everything the server writes while we write the input.
		var out bytes.Buffer
		readDone := make(chan struct{})
		go func() {
			io.Copy(&out, cliEnd)
			close(readDone)
		}()
		cliEnd.Write(data[1:])
		cliEnd.Close()
		<-done
		<-readDone
		st := s.Stats()
		fake.mu.Lock()
		calls := fake.calls
		fake.mu.Unlock()
		// Without a locality-capable TPM, commands at locality != 0 are
		// answered TPM_RC_LOCALITY by the server itself.
		if st.Commands < uint64(calls) || (withLoc && st.Commands != uint64(calls)) {
			t.Fatalf("%d commands answered, TPM saw %d", st.Commands, calls)
		}
		if st.Malformed > 1 || st.BackendErrors != 0 {
			t.Fatalf("stats %+v after one connection", st)
		}
	})
}
