package loopback

import (
	"errors"
	"net"
	"strconv"
	"testing"
)

func TestFreePortPair(t *testing.T) {
	p, err := FreePortPair()
	if err != nil {
		t.Fatal(err)
	}
	if p <= 0 || p >= 65535 {
		t.Fatalf("port %d has no successor", p)
	}
	for _, q := range []int{p, p + 1} {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(q))
		if err != nil {
			t.Fatalf("port %d should have been free: %v", q, err)
		}
		l.Close()
	}
}

// A process that ends before it listens is reported at once, by name and
// with what it printed; its exit status stays on the channel for the caller.
func TestWaitListeningProcessExited(t *testing.T) {
	p, err := FreePortPair()
	if err != nil {
		t.Fatal(err)
	}
	out := &Output{}
	out.Write([]byte("bind failed:\n  address in use\n"))
	exited := make(chan error, 1)
	exited <- errExit
	err = WaitListening("swtpm", "127.0.0.1:"+strconv.Itoa(p), exited, out)
	if err == nil || err.Error() != "swtpm exited: exit status 1: bind failed: address in use" {
		t.Fatalf("got %v", err)
	}
	if got := <-exited; got != errExit {
		t.Fatalf("exit status not put back: %v", got)
	}
}

var errExit = errors.New("exit status 1")
