package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/crb/mssim"
	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var serveSoak = flag.Duration("serve.soak", time.Second, "how long TestServeConcurrentClients runs")

// TestServeConcurrentClients: 64 clients against "ffatpm serve" (the whole
// chain) for a bounded time: 48 send valid commands (GetRandom of a size
// unique to the client, PCR_Read of PCR 0, which nobody changes, PCR_Extend
// of PCR 16 with one shared digest) and check each answer and PCR 16's final
// value; 16 send malformed frames and must be cut off. Afterwards the
// server still serves and stops cleanly.
func TestServeConcurrentClients(t *testing.T) {
	rs := startServeT(t)
	c0, err := mssim.Dial(context.Background(), rs.addr, mssim.ClientConfig{PowerOn: true})
	require.NoError(t, err)
	sel := tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(0)}}}
	pcr0, err := tpm2.PCRRead{PCRSelectionIn: sel}.Execute(c0)
	require.NoError(t, err)
	want0 := pcr0.PCRValues.Digests[0].Buffer
	sel16 := tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(16)}}}
	pcr16, err := tpm2.PCRRead{PCRSelectionIn: sel16}.Execute(c0)
	require.NoError(t, err)
	start16 := pcr16.PCRValues.Digests[0].Buffer
	c0.Close()
	// Every client extends the same digest into PCR 16, so the final value
	// is that digest extended once per successful PCR_Extend, in any order:
	// a lost or doubled command would show.
	d := sha256.Sum256([]byte("serve concurrency"))
	extend := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(16), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}},
	}
	var extends atomic.Uint64

	const clients, bad = 64, 16
	ctx, cancel := context.WithTimeout(context.Background(), *serveSoak)
	defer cancel()
	var good, cut atomic.Uint64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	malformed := [][]byte{
		{0, 0, 0, 99},                  // unknown code
		{0, 0, 0, 8, 0, 0x10, 0, 0, 0}, // 256 MiB announced
		{0, 0, 0, 1},                   // platform code on the command port
		{0, 0, 0, 8, 0, 0, 0},          // cut inside the size
	}
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i < bad {
				for n := 0; ctx.Err() == nil; n++ {
					c, err := net.Dial("tcp", rs.addr)
					if err != nil {
						errs <- err
						return
					}
					c.SetDeadline(time.Now().Add(10 * time.Second))
					c.Write(malformed[n%len(malformed)])
					c.(*net.TCPConn).CloseWrite()
					if _, err := io.ReadAll(c); err != nil {
						errs <- fmt.Errorf("malformed client %d: %v", i, err)
					}
					c.Close()
					cut.Add(1)
				}
				return
			}
			c, err := mssim.Dial(ctx, rs.addr, mssim.ClientConfig{PowerOn: true})
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			size := uint16(1 + i%32)
			for ctx.Err() == nil {
				r, err := tpm2.GetRandom{BytesRequested: size}.Execute(c)
				if err != nil {
					errs <- fmt.Errorf("client %d GetRandom: %v", i, err)
					return
				}
				if len(r.RandomBytes.Buffer) != int(size) {
					errs <- fmt.Errorf("client %d: GetRandom(%d) gave %d bytes", i, size, len(r.RandomBytes.Buffer))
					return
				}
				p, err := tpm2.PCRRead{PCRSelectionIn: sel}.Execute(c)
				if err != nil {
					errs <- fmt.Errorf("client %d PCR_Read: %v", i, err)
					return
				}
				if len(p.PCRValues.Digests) != 1 || !bytes.Equal(p.PCRValues.Digests[0].Buffer, want0) {
					errs <- fmt.Errorf("client %d: PCR 0 read %x, want %x", i, p.PCRValues.Digests, want0)
					return
				}
				if _, err := extend.Execute(c); err != nil {
					errs <- fmt.Errorf("client %d PCR_Extend: %v", i, err)
					return
				}
				extends.Add(1)
				good.Add(3)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Positive(t, good.Load())
	assert.Positive(t, cut.Load())
	t.Logf("64 clients for %v through serve: %d commands answered correctly, %d malformed connections cut", *serveSoak, good.Load(), cut.Load())

	c, err := mssim.Dial(context.Background(), rs.addr, mssim.ClientConfig{})
	require.NoError(t, err)
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(c)
	require.NoError(t, err)
	got16, err := tpm2.PCRRead{PCRSelectionIn: sel16}.Execute(c)
	require.NoError(t, err)
	want16 := start16
	for n := extends.Load(); n > 0; n-- {
		h := sha256.Sum256(append(append([]byte{}, want16...), d[:]...))
		want16 = h[:]
	}
	assert.Equal(t, want16, got16.PCRValues.Digests[0].Buffer, "PCR 16 after %d concurrent extends", extends.Load())
	c.Close()
	require.Equal(t, serveExitOK, rs.stop())
	assert.Contains(t, rs.stdout.String(), fmt.Sprintf("%d malformed frames, 0 transport errors", cut.Load()))
}
