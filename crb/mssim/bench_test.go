package mssim

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// fixedTPM answers every command with the same 10-byte success response,
// so the benchmark measures the protocol and the sockets, not a TPM.
type fixedTPM struct{}

func (fixedTPM) Send([]byte) ([]byte, error) { return tpmError(0), nil }

// BenchmarkRoundTrip compares one command through this package's Client and
// Server (fake TPM) with the floor for the same bytes on loopback: a bare
// TCP server that reads the 21-byte frame and writes the 18-byte answer,
// with no decoding at all. The two alternate in blocks of 64 so that load
// from other processes hits both alike; the difference is what the mssim
// layer costs per command.
func BenchmarkRoundTrip(b *testing.B) {
	cmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8} // GetRandom(8)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	answer := appendResponse(nil, tpmError(0))
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		in := make([]byte, 9+len(cmd))
		for {
			if _, err := io.ReadFull(c, in); err != nil {
				return
			}
			if _, err := c.Write(answer); err != nil {
				return
			}
		}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	frame, _ := AppendFrame(nil, Frame{Cmd: SendCommand, Payload: cmd})
	rsp := make([]byte, len(answer))

	ts := startServer(b, Config{TPM: fixedTPM{}})
	c, err := Dial(context.Background(), ts.addr, ClientConfig{NoPlatform: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()

	const block = 64
	var tRaw, tMssim time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		for i := 0; i < block; i++ {
			if _, err := raw.Write(frame); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(raw, rsp); err != nil {
				b.Fatal(err)
			}
		}
		tRaw += time.Since(start)
		start = time.Now()
		for i := 0; i < block; i++ {
			if _, err := c.Send(cmd); err != nil {
				b.Fatal(err)
			}
		}
		tMssim += time.Since(start)
		n += block
	}
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	b.ReportMetric(us(tRaw), "raw-µs/cmd")
	b.ReportMetric(us(tMssim), "mssim-µs/cmd")
	b.ReportMetric(us(tMssim)-us(tRaw), "overhead-µs/cmd")
}
