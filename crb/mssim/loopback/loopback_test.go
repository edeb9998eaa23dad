package loopback

import (
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
