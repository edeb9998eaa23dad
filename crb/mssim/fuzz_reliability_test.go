package mssim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// FuzzReadResponse feeds arbitrary bytes to the client's response decoder:
// what a broken or hostile mssim server / swtpm backend could answer.
// Properties: no panic; a response is never over the limit; a success
// consumed exactly the length prefix, the payload and the trailing ack.
func FuzzReadResponse(f *testing.F) {
	rsp := []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0}
	f.Add(append(append(u32s(10), rsp...), 0, 0, 0, 0))
	f.Add(append(append(u32s(10), rsp...), 0, 0, 0, 1))
	f.Add(u32s(0xffffffff))
	f.Add(u32s(0, 0))
	f.Add([]byte{0, 0})
	const max = 256
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		out, err := ReadResponse(r, max)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		if len(out) > max {
			t.Fatalf("response of %d bytes over the %d limit", len(out), max)
		}
		if used := len(data) - r.Len(); used != 4+len(out)+4 {
			t.Fatalf("consumed %d bytes for a %d-byte response", used, len(out))
		}
	})
}

// FuzzClientAgainstServer runs the Client against a server that answers
// every frame with the fuzz input and then closes: Send must return (an
// error or a response no larger than the limit) without panicking or
// hanging.
func FuzzClientAgainstServer(f *testing.F) {
	rsp := []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0}
	f.Add(append(append(u32s(10), rsp...), 0, 0, 0, 0))
	f.Add(append(u32s(100), rsp...))
	f.Add(u32s(1 << 31))
	f.Add([]byte{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ln.Close() })
	answers := make(chan []byte)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			a := <-answers
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4096)
				_, _ = c.Read(buf) // the command frame
				_, _ = c.Write(a)
			}()
		}
	}()
	const max = 1024
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cl, err := Dial(ctx, ln.Addr().String(), ClientConfig{NoPlatform: true, MaxResponseSize: max})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer cl.Close()
		answers <- data
		done := make(chan struct{})
		var out []byte
		var serr error
		go func() {
			defer close(done)
			out, serr = cl.Send([]byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Send hangs on a server that answered and closed")
		}
		if serr != nil {
			if errors.Is(serr, io.EOF) || serr.Error() != "" {
				return
			}
			t.Fatal("empty error text")
		}
		if len(out) > max {
			t.Fatalf("response of %d bytes over the %d limit", len(out), max)
		}
	})
}
