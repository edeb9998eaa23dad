package mssim

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// needTool returns the path of a peer tool; without it the test fails under
// CI=true (CI installs every peer tool) and is skipped elsewhere.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (CI=true requires every peer tool; see .ci/run)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// freePortPair finds a port p on loopback with p and p+1 both free.
func freePortPair(t testing.TB) int {
	t.Helper()
	for i := 0; i < 64; i++ {
		a, b, err := Listen("127.0.0.1:0")
		if err != nil {
			continue
		}
		p := a.Addr().(*net.TCPAddr).Port
		a.Close()
		b.Close()
		return p
	}
	t.Fatal("no free loopback port pair")
	return 0
}

// startSwtpm runs `swtpm socket` on a free loopback port pair with a fresh
// state directory, already started (startup-clear), and stops it at the end
// of the test. It returns the server (command) port's address.
func startSwtpm(t testing.TB) string {
	t.Helper()
	bin := needTool(t, "swtpm")
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := freePortPair(t)
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, bin, "socket", "--tpm2",
			"--server", "type=tcp,bindaddr=127.0.0.1,port="+strconv.Itoa(port),
			"--ctrl", "type=tcp,bindaddr=127.0.0.1,port="+strconv.Itoa(port+1),
			"--flags", "not-need-init,startup-clear",
			"--tpmstate", "dir="+dir)
		out := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatalf("starting swtpm: %v", err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case err := <-done:
				lastErr = fmt.Errorf("swtpm exited: %v: %s", err, out.String())
			default:
				c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
				if err == nil {
					c.Close()
					t.Cleanup(func() {
						cancel()
						<-done
					})
					return addr
				}
				time.Sleep(20 * time.Millisecond)
				continue
			}
			break
		}
		cancel()
		<-done
		if lastErr == nil {
			lastErr = fmt.Errorf("swtpm did not listen on %s: %s", addr, out.String())
		}
	}
	require.NoError(t, lastErr)
	return ""
}
