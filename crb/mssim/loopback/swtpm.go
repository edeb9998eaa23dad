package loopback

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Output collects what a started process prints; it is safe for the
// process's copier goroutine and a reader at once.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns the output so far on one line.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(strings.Fields(o.b.String()), " ")
}

// WaitListening waits up to 5 s for addr to accept a connection. It gives
// up at once when the process named name ends (its Wait result arrives on
// exited, and is put back for the caller); the error then carries what the
// process printed.
func WaitListening(name, addr string, exited chan error, out *Output) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("%s exited: %v: %s", name, err, out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s did not listen on %s within 5 s: %s", name, addr, out.String())
}

// Swtpm is a `swtpm socket --tpm2` started on a loopback port pair.
type Swtpm struct {
	Addr string // server (command) port; the control port is the next one
	Pid  int

	dir    string
	cancel context.CancelFunc
	done   chan error
}

// StartSwtpm runs the swtpm executable at path as `swtpm socket --tpm2`
// with a fresh state directory on a free port pair (server port, control
// port + 1), already started (--flags not-need-init,startup-clear), and
// waits until it listens. A pair taken by someone else in between is
// retried with another (up to 5 times).
func StartSwtpm(path string) (*Swtpm, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := FreePortPair()
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "ffatpm-swtpm-")
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, path, "socket", "--tpm2",
			"--server", "type=tcp,bindaddr=127.0.0.1,port="+strconv.Itoa(port),
			"--ctrl", "type=tcp,bindaddr=127.0.0.1,port="+strconv.Itoa(port+1),
			"--flags", "not-need-init,startup-clear",
			"--tpmstate", "dir="+dir)
		out := &Output{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			cancel()
			os.RemoveAll(dir)
			return nil, fmt.Errorf("starting swtpm: %v", err)
		}
		s := &Swtpm{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Pid: cmd.Process.Pid, dir: dir, cancel: cancel, done: make(chan error, 1)}
		go func() { s.done <- cmd.Wait() }()
		if err := WaitListening("swtpm", s.Addr, s.done, out); err != nil {
			lastErr = err
			s.Stop()
			continue
		}
		return s, nil
	}
	return nil, lastErr
}

// Stop ends swtpm (waiting up to 5 s) and removes its state directory.
func (s *Swtpm) Stop() {
	s.cancel()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
	os.RemoveAll(s.dir)
}
