package mssim

import (
	"bytes"
	"errors"
	"io"
	"testing"
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
