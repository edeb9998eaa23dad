//go:build !linux

package mssim

import "net"

// newBlockingConn keeps c on Go's netpoller: the blocking path is Linux
// only.
func newBlockingConn(c net.Conn) net.Conn { return c }
