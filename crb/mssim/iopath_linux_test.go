package mssim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// On Linux a TCP connection leaves the netpoller by default.
func TestBlockingConnChosen(t *testing.T) {
	ts := startServer(t, Config{TPM: &hashTPM{}})
	_, _ = dialRaw(t, ts.addr)
	require.Eventually(t, func() bool {
		ts.srv.connMu.Lock()
		defer ts.srv.connMu.Unlock()
		for c := range ts.srv.conns {
			if _, ok := c.(*blockingConn); ok {
				return true
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond)
}
