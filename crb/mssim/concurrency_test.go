package mssim

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var soak = flag.Duration("mssim.soak", 2*time.Second, "how long the 64-client concurrency test runs")

// malformedFrames are what the misbehaving clients send; each must make the
// server close that connection.
func malformedFrames() [][]byte {
	return [][]byte{
		u32s(0xdeadbeef), // unknown code
		append(append(u32s(8), 0), u32s(1<<30)...), // oversized
		u32s(1),                                  // platform code on command port
		append(append(u32s(8), 0), u32s(100)...), // truncated payload, then close
		{0, 0},                                   // truncated code
		u32s(6, 4, 0),                            // H-CRTM data: not modelled
		append(append(u32s(8), 0), u32s(4097)...), // one byte over the limit
		append(u32s(15), 0, 0),                    // truncated handshake
	}
}

// TestConcurrentClients: 64 clients for a bounded time on loopback, 48
// sending valid commands (each answer must be the answer to that client's
// own command) and 16 sending malformed frames (each must be cut off). The
// TPM must never see two commands at once, and the server must keep going.
func TestConcurrentClients(t *testing.T) {
	fake := &hashTPM{}
	ts := startServer(t, Config{TPM: fake})
	const clients, bad = 64, 16
	ctx, cancel := context.WithTimeout(context.Background(), *soak)
	defer cancel()
	var answered, cut, wrong atomic.Uint64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			if i < bad {
				frames := malformedFrames()
				for n := 0; ctx.Err() == nil; n++ {
					c, err := net.Dial("tcp", ts.addr)
					if err != nil {
						errs <- err
						return
					}
					c.SetDeadline(time.Now().Add(10 * time.Second))
					fr := frames[n%len(frames)]
					// Sometimes a valid command first: it must be answered.
					if rng.IntN(2) == 0 {
						cmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, byte(i), byte(n)}
						b, _ := AppendFrame(nil, Frame{Cmd: SendCommand, Payload: cmd})
						c.Write(b)
						rsp, err := ReadResponse(c, 0)
						if err != nil || string(rsp) != string(hashAnswer(cmd)) {
							wrong.Add(1)
						} else {
							answered.Add(1)
						}
					}
					c.Write(fr)
					c.(*net.TCPConn).CloseWrite()
					if _, err := io.ReadAll(c); err != nil {
						errs <- fmt.Errorf("client %d frame %x: %v", i, fr, err)
						c.Close()
						return
					}
					cut.Add(1)
					c.Close()
				}
				return
			}
			cl, err := Dial(ctx, ts.addr, ClientConfig{PowerOn: true})
			if err != nil {
				errs <- err
				return
			}
			defer cl.Close()
			for n := uint32(0); ctx.Err() == nil; n++ {
				// A GetRandom-shaped command unique to this client and step.
				cmd := []byte{0x80, 0x01, 0, 0, 0, 18, 0, 0, 0x01, 0x7b, 0, 0, 0, 0, 0, 0, 0, 0}
				binary.BigEndian.PutUint32(cmd[10:], uint32(i))
				binary.BigEndian.PutUint32(cmd[14:], n)
				rsp, err := cl.Send(cmd)
				if err != nil {
					errs <- fmt.Errorf("client %d: %v", i, err)
					return
				}
				if string(rsp) != string(hashAnswer(cmd)) {
					wrong.Add(1)
					continue
				}
				answered.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Zero(t, wrong.Load(), "answers that were not for the command sent")
	assert.Positive(t, cut.Load())
	fake.mu.Lock()
	assert.Equal(t, 1, fake.maxSeen, "commands must reach the TPM one at a time")
	calls := fake.calls
	fake.mu.Unlock()
	st := ts.srv.Stats()
	assert.Equal(t, uint64(calls), st.Commands)
	assert.Equal(t, answered.Load(), st.Commands)
	assert.Equal(t, cut.Load(), st.Malformed)
	t.Logf("64 clients for %v: %d commands answered correctly, %d malformed connections cut, %d connections accepted",
		*soak, answered.Load(), cut.Load(), st.Accepted)

	// Still serving afterwards.
	cl, err := Dial(context.Background(), ts.addr, ClientConfig{})
	require.NoError(t, err)
	defer cl.Close()
	cmd := []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7a}
	rsp, err := cl.Send(cmd)
	require.NoError(t, err)
	require.Equal(t, hashAnswer(cmd), rsp)
}
