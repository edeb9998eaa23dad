package loopback

import (
	"errors"
	"net"
	"strconv"
)

// ErrNoPortPair is returned when no pair was found after many tries.
var ErrNoPortPair = errors.New("loopback: no free port pair p, p+1 on 127.0.0.1")

// FreePortPair returns a port p such that p and p+1 on 127.0.0.1 were both
// free a moment ago. Another process may take either before the caller
// binds them; callers that start a server retry or fail with its message.
func FreePortPair() (int, error) {
	for i := 0; i < 64; i++ {
		a, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			continue
		}
		p := a.Addr().(*net.TCPAddr).Port
		if p == 65535 {
			a.Close()
			continue
		}
		b, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return p, nil
	}
	return 0, ErrNoPortPair
}
