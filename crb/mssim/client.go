package mssim

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
)

// ClientConfig configures Dial.
type ClientConfig struct {
	// PlatformAddr is the platform port's address; empty means the command
	// port's host at port+1.
	PlatformAddr string
	// NoPlatform skips the platform port. Use it for `swtpm socket`, whose
	// --ctrl port speaks swtpm's own control protocol, not mssim signals
	// (start swtpm with --flags startup-clear or send TPM2_Startup).
	NoPlatform bool
	// PowerOn sends TPM_SIGNAL_POWER_ON and TPM_SIGNAL_NV_ON after
	// connecting, as tpm2-tss's mssim TCTI does.
	PowerOn bool
	// MaxResponseSize bounds responses (DefaultMaxResponseSize if 0).
	MaxResponseSize uint32
}

// ErrClientBroken is returned after an earlier transport error left the
// connection in an unknown state.
var ErrClientBroken = errors.New("mssim: client connection failed earlier")

// SignalError reports a platform signal the server answered with a non-zero
// code.
type SignalError struct {
	Cmd  Command
	Code uint32
}

func (e *SignalError) Error() string {
	return fmt.Sprintf("mssim: server answered %v with %d", e.Cmd, e.Code)
}

// Client is a go-tpm transport.TPM that talks to an mssim server (the
// reference simulator, this package's Server, swtpm in socket mode). It is
// safe for concurrent use; commands go out one at a time.
type Client struct {
	mu     sync.Mutex
	cmd    net.Conn
	r      *bufio.Reader
	plat   net.Conn
	max    uint32
	buf    []byte
	broken bool
}

// Dial connects to the command port at addr (and the platform port unless
// cfg.NoPlatform).
func Dial(ctx context.Context, addr string, cfg ClientConfig) (*Client, error) {
	var d net.Dialer
	cmd, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mssim: command port: %w", err)
	}
	c := &Client{cmd: cmd, r: bufio.NewReader(cmd), max: cfg.MaxResponseSize}
	if !cfg.NoPlatform {
		paddr := cfg.PlatformAddr
		if paddr == "" {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				cmd.Close()
				return nil, fmt.Errorf("mssim: address %q: %w", addr, err)
			}
			p, err := strconv.Atoi(port)
			if err != nil || p < 0 || p > 65534 {
				cmd.Close()
				return nil, fmt.Errorf("mssim: address %q: numeric port 0..65534 needed to find the platform port", addr)
			}
			paddr = net.JoinHostPort(host, strconv.Itoa(p+1))
		}
		c.plat, err = d.DialContext(ctx, "tcp", paddr)
		if err != nil {
			cmd.Close()
			return nil, fmt.Errorf("mssim: platform port: %w", err)
		}
		if cfg.PowerOn {
			for _, s := range []Command{SignalPowerOn, SignalNVOn} {
				if err := c.Signal(s); err != nil {
					c.closeConns()
					return nil, err
				}
			}
		}
	}
	return c, nil
}

// Send sends one TPM command at locality 0 and returns the TPM's response.
func (c *Client) Send(cmd []byte) ([]byte, error) { return c.SendLocality(0, cmd) }

// SendLocality sends one TPM command at the given locality.
func (c *Client) SendLocality(locality uint8, cmd []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken {
		return nil, ErrClientBroken
	}
	c.buf, _ = AppendFrame(c.buf[:0], Frame{Cmd: SendCommand, Locality: locality, Payload: cmd})
	if _, err := c.cmd.Write(c.buf); err != nil {
		c.broken = true
		return nil, fmt.Errorf("mssim: sending command: %w", err)
	}
	rsp, err := ReadResponse(c.r, c.max)
	if err != nil {
		c.broken = true
		return nil, err
	}
	if len(rsp) == 0 {
		// The reference answers an unpowered TPM with an empty buffer.
		return nil, errors.New("mssim: empty response (is the TPM powered on?)")
	}
	return rsp, nil
}

// Handshake sends TPM_REMOTE_HANDSHAKE and returns the server's protocol
// version and endpoint flags.
func (c *Client) Handshake() (version, flags uint32, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken {
		return 0, 0, ErrClientBroken
	}
	c.buf, _ = AppendFrame(c.buf[:0], Frame{Cmd: RemoteHandshake, Value: 1})
	if _, err := c.cmd.Write(c.buf); err != nil {
		c.broken = true
		return 0, 0, fmt.Errorf("mssim: handshake: %w", err)
	}
	var w [12]byte
	if _, err := io.ReadFull(c.r, w[:]); err != nil {
		c.broken = true
		return 0, 0, fmt.Errorf("mssim: handshake answer: %w", err)
	}
	return binary.BigEndian.Uint32(w[0:]), binary.BigEndian.Uint32(w[4:]), nil
}

// Signal sends a platform signal and waits for its answer.
func (c *Client) Signal(s Command) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plat == nil {
		return fmt.Errorf("mssim: %v: client has no platform connection", s)
	}
	var w [4]byte
	binary.BigEndian.PutUint32(w[:], uint32(s))
	if _, err := c.plat.Write(w[:]); err != nil {
		return fmt.Errorf("mssim: %v: %w", s, err)
	}
	if _, err := io.ReadFull(c.plat, w[:]); err != nil {
		return fmt.Errorf("mssim: %v answer: %w", s, err)
	}
	if code := binary.BigEndian.Uint32(w[:]); code != AckOK {
		return &SignalError{Cmd: s, Code: code}
	}
	return nil
}

// Close sends TPM_SESSION_END on both connections and closes them.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var end [4]byte
	binary.BigEndian.PutUint32(end[:], uint32(SessionEnd))
	if !c.broken {
		c.cmd.Write(end[:]) // best effort: the server may already be gone
	}
	if c.plat != nil {
		c.plat.Write(end[:])
	}
	return c.closeConns()
}

func (c *Client) closeConns() error {
	err := c.cmd.Close()
	if c.plat != nil {
		err = errors.Join(err, c.plat.Close())
	}
	return err
}
