package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/ffatpm/ffatpm/crb/mssim/loopback"
)

// swtpmProc is a `swtpm socket --tpm2` this process started on loopback.
type swtpmProc struct {
	addr   string
	pid    int
	dir    string
	cancel context.CancelFunc
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSwtpm starts swtpm (bin, or "swtpm" from PATH when empty) with a
// fresh state directory on a free loopback port pair (server port, control
// port + 1), already started (--flags not-need-init,startup-clear). The
// error says why when swtpm is not installed or does not come up.
func startSwtpm(bin string) (*swtpmProc, error) {
	if bin == "" {
		bin = "swtpm"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("swtpm is not installed (%v); install it (Debian/Ubuntu: apt-get install swtpm) or pass --swtpm PATH", err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := loopback.FreePortPair()
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "ffatpm-bench-swtpm-")
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, path, "socket", "--tpm2",
			"--server", "type=tcp,bindaddr=127.0.0.1,port="+strconv.Itoa(port),
			"--ctrl", "type=tcp,bindaddr=127.0.0.1,port="+strconv.Itoa(port+1),
			"--flags", "not-need-init,startup-clear",
			"--tpmstate", "dir="+dir)
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			cancel()
			os.RemoveAll(dir)
			return nil, fmt.Errorf("starting swtpm: %v", err)
		}
		p := &swtpmProc{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), pid: cmd.Process.Pid, dir: dir, cancel: cancel, done: make(chan error, 1)}
		go func() { p.done <- cmd.Wait() }()
		if err := waitDial(p.addr, p.done, out); err != nil {
			lastErr = err
			p.stop()
			continue
		}
		return p, nil
	}
	return nil, lastErr
}

// stop ends swtpm and removes its state directory.
func (p *swtpmProc) stop() {
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	os.RemoveAll(p.dir)
}

func waitDial(addr string, exited chan error, out *syncBuffer) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("swtpm exited: %v: %s", err, oneLine(out.String()))
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("swtpm did not listen on %s within 5 s: %s", addr, oneLine(out.String()))
}
