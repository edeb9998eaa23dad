package mssim

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The server's two ways of serving a TCP connection, blocking reads on
// Linux (the default) and Go's netpoller (Config.NetPoller), behave the
// same: answers, the frame deadline (also against a client that drips a
// frame slower than the deadline allows, each gap shorter than it) and
// shutdown with a read blocked.
func TestServerIOPaths(t *testing.T) {
	for _, np := range []bool{false, true} {
		name := "blocking"
		if np {
			name = "netpoller"
		}
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, Config{TPM: &hashTPM{}, FrameTimeout: 300 * time.Millisecond, NetPoller: np})
			c, err := Dial(context.Background(), ts.addr, ClientConfig{PowerOn: true})
			require.NoError(t, err)
			for i := 0; i < 50; i++ {
				cmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, byte(i)}
				rsp, err := c.Send(cmd)
				require.NoError(t, err)
				require.Equal(t, hashAnswer(cmd), rsp)
			}

			drip, dr := dialRaw(t, ts.addr)
			start := time.Now()
			frame := append(u32s(8, 0), 0, 0, 0, 12) // code, locality, part of the size
			for _, b := range frame {
				if _, err := drip.Write([]byte{b}); err != nil {
					break // cut off already
				}
				time.Sleep(100 * time.Millisecond)
			}
			requireClosed(t, dr)
			assert.Less(t, time.Since(start), 2*time.Second, "the deadline is for the frame, not for each read")
			assert.Contains(t, ts.logs.String(), "not completed within 300ms")

			idle, ir := dialRaw(t, ts.addr)
			_ = idle
			require.Eventually(t, func() bool { return ts.srv.Stats().Accepted >= 4 }, 5*time.Second, 5*time.Millisecond)
			require.NoError(t, c.Close())
			require.NoError(t, ts.stop(), "shutdown must wake a handler blocked in read")
			_, err = ir.ReadByte()
			require.Error(t, err)
		})
	}
}
