package mssim

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// blockingConn serves one TCP connection with blocking read(2) and
// write(2) on its own duplicate of the socket, the way swtpm and the
// reference simulator serve theirs: one system call to wait for and read a
// frame, one to answer it.
//
// Through Go's netpoller each request costs an epoll wake-up, a read, the
// answer, a read that fails with EAGAIN and a park; worse, each wake-up
// after an idle spell rouses the runtime's monitor thread (sysmon), which
// then polls every 20 us while the command runs. Measured with one client
// on 2 cores (docs/performance.md, P2): 25-26 us of server CPU and two
// context switches per command through the netpoller, 18-19 us and 1.2
// with a blocking read; swtpm 15-16 us and 1.
//
// The duplicate is an os.File in blocking mode, which Go reads and writes
// with plain system calls (no netpoller). A goroutine blocked in read(2)
// holds its OS thread, not a P, so each open connection costs a thread;
// Config.MaxConns bounds them.
type blockingConn struct {
	net.Conn // the original, closed and out of the netpoller: addresses only

	f    *os.File
	shut sync.Once

	deadline time.Time // zero: reads wait without limit
	timed    bool      // SO_RCVTIMEO is set
}

// newBlockingConn moves c to a blocking duplicate of its descriptor, or
// returns c unchanged when it is not a TCP connection or the descriptor
// cannot be duplicated.
func newBlockingConn(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	fd := -1
	var derr error
	if err := rc.Control(func(f uintptr) { fd, derr = dupCloexec(int(f)) }); err != nil || derr != nil {
		return c
	}
	// O_NONBLOCK belongs to the open file, which the two descriptors share.
	// Closing the original first takes the socket out of the netpoller (Go
	// removes a descriptor from epoll when its conn closes), so no poller
	// thread wakes for it any more.
	c.Close()
	if err := syscall.SetNonblock(fd, false); err != nil {
		syscall.Close(fd)
		return closedConn{c}
	}
	// A blocking descriptor: os.NewFile does not put it in the netpoller.
	return &blockingConn{Conn: c, f: os.NewFile(uintptr(fd), "mssim-tcp")}
}

func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

func (b *blockingConn) control(f func(fd int) error) error {
	rc, err := b.f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

func (b *blockingConn) setRcvTimeout(d time.Duration) error {
	tv := syscall.NsecToTimeval(d.Nanoseconds())
	if d > 0 && tv.Sec == 0 && tv.Usec == 0 {
		tv.Usec = 1 // a zero timeval means no limit
	}
	return b.control(func(fd int) error {
		return syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	})
}

func (b *blockingConn) Read(p []byte) (int, error) {
	if !b.deadline.IsZero() {
		left := time.Until(b.deadline)
		if left <= 0 {
			return 0, os.ErrDeadlineExceeded
		}
		// SO_RCVTIMEO limits one read(2); setting it to what is left of the
		// deadline before each read makes it a deadline for the frame.
		if err := b.setRcvTimeout(left); err != nil {
			return 0, netErr("read", err)
		}
		b.timed = true
	}
	n, err := b.f.Read(p)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		return 0, io.EOF
	case b.timed && errors.Is(err, syscall.EAGAIN):
		return 0, os.ErrDeadlineExceeded
	}
	return n, netErr("read", err)
}

func (b *blockingConn) Write(p []byte) (int, error) {
	n, err := b.f.Write(p)
	if err != nil {
		return n, netErr("write", err)
	}
	return n, nil
}

func netErr(op string, err error) error {
	if errors.Is(err, os.ErrClosed) {
		return net.ErrClosed
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &net.OpError{Op: op, Net: "tcp", Err: err}
}

// SetReadDeadline arms (or, with the zero time, disarms) the deadline the
// next reads must meet. Only the connection's own goroutine calls it.
func (b *blockingConn) SetReadDeadline(t time.Time) error {
	b.deadline = t
	if t.IsZero() && b.timed {
		if err := b.setRcvTimeout(0); err != nil {
			return netErr("set", err)
		}
		b.timed = false
	}
	return nil
}

// Close shuts the socket down, which wakes a read blocked on it, and closes
// the file (the descriptor goes when that read returns). Any goroutine may
// call it, any number of times.
func (b *blockingConn) Close() error {
	var err error
	b.shut.Do(func() {
		b.control(func(fd int) error { return syscall.Shutdown(fd, syscall.SHUT_RDWR) })
		err = b.f.Close()
	})
	return err
}

// closedConn stands for a connection that could not be moved: reads end at
// once, as for a client that left.
type closedConn struct{ net.Conn }

func (closedConn) Read([]byte) (int, error)  { return 0, net.ErrClosed }
func (closedConn) Write([]byte) (int, error) { return 0, net.ErrClosed }
