package mssim

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-tpm/tpm2/transport"
)

// LocalityTPM is implemented by TPM transports that can send a command at a
// given locality (the CRB driver does, through the locality's register page).
// The Server uses it when the backend has it.
type LocalityTPM interface {
	SendLocality(locality uint8, cmd []byte) ([]byte, error)
}

// Platform performs the platform signals that change the TPM's power state
// (SignalPowerOn, SignalPowerOff, SignalReset, SignalRestart). Without one the
// Server keeps the TPM powered: POWER_ON is a no-op and the others are
// refused.
type Platform interface {
	Signal(c Command) error
}

// Config configures a Server.
type Config struct {
	// TPM executes the commands. Required.
	TPM transport.TPM
	// Platform performs power signals; nil keeps the TPM powered.
	Platform Platform
	// Logger receives one line per notable event (malformed frame, refused
	// signal, backend error); nil discards them.
	Logger *slog.Logger
	// MaxCommandSize bounds command buffers (DefaultMaxCommandSize if 0).
	MaxCommandSize uint32
	// MaxConns bounds open connections over both ports (256 if 0); the
	// connection over the bound is closed at once, with a log line.
	MaxConns int
	// FrameTimeout bounds the time between a frame's first bytes and its
	// last (DefaultFrameTimeout if 0); a client that stalls inside a frame
	// is cut off as malformed. Idle clients between frames are kept.
	FrameTimeout time.Duration
	// NetPoller serves connections through Go's netpoller. By default, on
	// Linux, each TCP connection is served with blocking reads and writes
	// on its own thread instead, which costs a third less CPU per command
	// (see blockingConn); other systems and other kinds of connection
	// always use the netpoller.
	NetPoller bool
}

// DefaultFrameTimeout is the Server's default Config.FrameTimeout.
const DefaultFrameTimeout = 30 * time.Second

// Stats counts what a Server has done.
type Stats struct {
	Accepted      uint64 // connections accepted on both ports
	Commands      uint64 // TPM_SEND_COMMAND frames answered
	Malformed     uint64 // connections closed for a malformed frame
	BackendErrors uint64 // connections closed because the TPM transport failed
	Refused       uint64 // signals answered 1
}

// Server serves one TPM over the mssim protocol to any number of clients,
// executing their commands one at a time.
type Server struct {
	tpm      transport.TPM
	loc      LocalityTPM
	platform Platform
	log      *slog.Logger
	max      uint32
	maxConns int
	frameTO  time.Duration
	blocking bool

	tpmMu sync.Mutex // serializes everything sent to the TPM

	connMu sync.Mutex
	conns  map[net.Conn]struct{}
	nextID uint64

	accepted, commands, malformed, backendErrs, refused atomic.Uint64
}

// NewServer returns a Server for cfg.
func NewServer(cfg Config) (*Server, error) {
	if cfg.TPM == nil {
		return nil, errors.New("mssim: Config.TPM is nil")
	}
	s := &Server{
		tpm:      cfg.TPM,
		platform: cfg.Platform,
		log:      cfg.Logger,
		max:      cfg.MaxCommandSize,
		maxConns: cfg.MaxConns,
		frameTO:  cfg.FrameTimeout,
		blocking: !cfg.NetPoller,
		conns:    map[net.Conn]struct{}{},
	}
	s.loc, _ = cfg.TPM.(LocalityTPM)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.max == 0 {
		s.max = DefaultMaxCommandSize
	}
	if s.maxConns == 0 {
		s.maxConns = 256
	}
	if s.frameTO == 0 {
		s.frameTO = DefaultFrameTimeout
	}
	return s, nil
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	return Stats{
		Accepted:      s.accepted.Load(),
		Commands:      s.commands.Load(),
		Malformed:     s.malformed.Load(),
		BackendErrors: s.backendErrs.Load(),
		Refused:       s.refused.Load(),
	}
}

// Listen opens the command port at addr and the platform port at the next
// port number on the same host. With port 0 it picks a free pair.
func Listen(addr string) (cmd, plat net.Listener, err error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("mssim: address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65534 {
		return nil, nil, fmt.Errorf("mssim: address %q: port must be 0..65534 (the platform port is port+1)", addr)
	}
	tries := 1
	if port == 0 {
		tries = 32
	}
	for i := 0; i < tries; i++ {
		cmd, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, nil, fmt.Errorf("mssim: command port: %w", err)
		}
		p := cmd.Addr().(*net.TCPAddr).Port
		if p == 65535 {
			cmd.Close()
			continue
		}
		plat, err = net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p+1)))
		if err == nil {
			return cmd, plat, nil
		}
		cmd.Close()
	}
	return nil, nil, fmt.Errorf("mssim: platform port next to %q: %w", addr, err)
}

// Serve accepts clients on both listeners until ctx is cancelled, then
// closes the listeners and every connection, waits for the handlers to
// return and returns nil. Failing accepts (say, out of file descriptors
// under a flood of clients) are logged and retried with a growing pause;
// they never stop the server. If a listener is closed by someone else,
// Serve stops the other one too and returns an error saying so.
func (s *Server) Serve(ctx context.Context, cmdLn, platLn net.Listener) error {
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	stop := context.AfterFunc(ctx, func() {
		cmdLn.Close()
		platLn.Close()
		s.connMu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.connMu.Unlock()
	})
	defer stop()
	for _, l := range []struct {
		ln   net.Listener
		port Port
	}{{cmdLn, PortTPM}, {platLn, PortPlatform}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- s.accept(ctx, l.ln, l.port, &wg)
		}()
	}
	err1 := <-errc
	// Whichever listener ended first, stop the other, then the connections.
	cmdLn.Close()
	platLn.Close()
	err2 := <-errc
	s.connMu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.connMu.Unlock()
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	if err1 == nil {
		err1 = err2
	}
	return err1 // the first cause; the other listener was closed by us
}

func (s *Server) accept(ctx context.Context, ln net.Listener, port Port, wg *sync.WaitGroup) error {
	const maxPause = time.Second
	pause := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("mssim: %v listener closed while serving", port)
			}
			s.log.Error("mssim: accept failed; retrying", "port", port.String(), "reason", err.Error(), "pause", pause.String())
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(pause):
			}
			pause = min(2*pause, maxPause)
			continue
		}
		pause = 5 * time.Millisecond
		s.accepted.Add(1)
		s.connMu.Lock()
		if ctx.Err() != nil {
			s.connMu.Unlock()
			c.Close()
			return nil
		}
		if len(s.conns) >= s.maxConns {
			s.connMu.Unlock()
			s.log.Warn("mssim: connection refused: too many open connections", "port", port.String(), "remote", c.RemoteAddr().String(), "limit", s.maxConns)
			c.Close()
			continue
		}
		s.nextID++
		id := s.nextID
		if s.blocking {
			c = newBlockingConn(c)
		}
		s.conns[c] = struct{}{}
		s.connMu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handle(c, port, id)
			s.connMu.Lock()
			delete(s.conns, c)
			s.connMu.Unlock()
			c.Close()
		}()
	}
}

// handle serves one connection until the client leaves or misbehaves.
func (s *Server) handle(c net.Conn, port Port, id uint64) {
	log := s.log.With("conn", id, "port", port.String(), "remote", c.RemoteAddr().String())
	log.Debug("mssim: client connected")
	fr := &frameReader{c: c, timeout: s.frameTO}
	dec := NewDecoder(bufio.NewReaderSize(fr, int(s.max)+16), port, s.max)
	dec.started = func() { fr.inFrame = true }
	var out []byte
	for {
		f, err := dec.Next()
		fr.frameDone()
		if err != nil {
			var fe *FrameError
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				s.malformed.Add(1)
				log.Warn("mssim: closing connection: malformed frame", "reason",
					fmt.Sprintf("frame %v not completed within %v", f.Cmd, s.frameTO))
			case errors.As(err, &fe):
				s.malformed.Add(1)
				log.Warn("mssim: closing connection: malformed frame", "reason", err.Error())
			case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
				log.Debug("mssim: client left without SESSION_END")
			default:
				log.Info("mssim: closing connection: read failed", "reason", err.Error())
			}
			return
		}
		out = out[:0]
		var keep bool
		out, keep = s.dispatch(log, port, f, out)
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				log.Info("mssim: closing connection: write failed", "reason", err.Error())
				return
			}
		}
		if !keep {
			return
		}
	}
}

// frameReader arms the connection's read deadline only when the decoder,
// inside a frame, has to wait for more bytes from the network: a frame that
// arrived whole (the usual case) costs no timer.
type frameReader struct {
	c       net.Conn
	timeout time.Duration
	inFrame bool
	armed   bool
}

func (r *frameReader) Read(p []byte) (int, error) {
	if r.inFrame && !r.armed {
		// Wall-clock time at the network edge only; the model never sees it.
		r.c.SetReadDeadline(time.Now().Add(r.timeout))
		r.armed = true
	}
	return r.c.Read(p)
}

func (r *frameReader) frameDone() {
	r.inFrame = false
	if r.armed {
		r.c.SetReadDeadline(time.Time{})
		r.armed = false
	}
}

// dispatch acts on one well-formed frame, appending the answer to out, and
// reports whether the connection stays open.
func (s *Server) dispatch(log *slog.Logger, port Port, f Frame, out []byte) ([]byte, bool) {
	ci, _ := Info(f.Cmd) // the decoder only returns known codes
	switch ci.Action {
	case ActExecute:
		switch f.Cmd {
		case SendCommand:
			rsp, err := s.execute(f.Locality, f.Payload)
			if err != nil {
				s.backendErrs.Add(1)
				log.Error("mssim: closing connection: TPM transport failed", "command", f.String(), "reason", err.Error())
				return out, false
			}
			s.commands.Add(1)
			return appendResponse(out, rsp), true
		case RemoteHandshake:
			if f.Value == 0 {
				s.malformed.Add(1)
				log.Warn("mssim: closing connection: REMOTE_HANDSHAKE with client version 0")
				return out, false
			}
			out = binary.BigEndian.AppendUint32(out, ServerVersion)
			out = binary.BigEndian.AppendUint32(out, EndpointPlatformAvailable|EndpointInRawMode)
			return binary.BigEndian.AppendUint32(out, AckOK), true
		}
	case ActAck:
		log.Debug("mssim: acknowledged", "signal", f.String())
		return binary.BigEndian.AppendUint32(out, AckOK), true
	case ActPlatform:
		if s.platform != nil {
			if err := s.platformSignal(f.Cmd); err != nil {
				s.refused.Add(1)
				log.Warn("mssim: signal failed", "signal", f.String(), "reason", err.Error())
				return binary.BigEndian.AppendUint32(out, AckRefused), true
			}
			return binary.BigEndian.AppendUint32(out, AckOK), true
		}
		if f.Cmd == SignalPowerOn {
			// The TPM is powered while served; power-on of a powered TPM
			// is a no-op in the reference too.
			return binary.BigEndian.AppendUint32(out, AckOK), true
		}
		s.refused.Add(1)
		log.Info("mssim: refused: the TPM stays powered while served", "signal", f.String())
		return binary.BigEndian.AppendUint32(out, AckRefused), true
	case ActRefuse:
		s.refused.Add(1)
		log.Info("mssim: refused: not modelled", "signal", f.String())
		return binary.BigEndian.AppendUint32(out, AckRefused), true
	case ActClose:
		if f.Cmd == Stop {
			log.Info("mssim: TPM_STOP ends this connection only; the server stops on its own shutdown")
		} else {
			log.Debug("mssim: session end")
		}
		return out, false
	case ActUnmodelled:
		s.malformed.Add(1)
		log.Warn("mssim: closing connection: not modelled (no H-CRTM in this platform)", "signal", f.String())
		return out, false
	}
	log.Error("mssim: closing connection: no handler", "command", f.String(), "action", ci.Action.String())
	return out, false
}

func (s *Server) platformSignal(c Command) error {
	s.tpmMu.Lock()
	defer s.tpmMu.Unlock()
	return s.platform.Signal(c)
}

// rcLocality is TPM_RC_LOCALITY (TPM 2.0 Part 2, 6.6.3: RC_VER1 + 0x007).
const rcLocality = 0x107

func (s *Server) execute(locality uint8, cmd []byte) ([]byte, error) {
	if locality != 0 && s.loc == nil {
		// The TPM cannot be reached at another locality through this
		// transport; answer as a TPM does for a command at a locality it
		// does not accept.
		return tpmError(rcLocality), nil
	}
	s.tpmMu.Lock()
	defer s.tpmMu.Unlock()
	if s.loc != nil {
		return s.loc.SendLocality(locality, cmd)
	}
	return s.tpm.Send(cmd)
}

// tpmError is a 10-byte TPM 2.0 response carrying only rc.
func tpmError(rc uint32) []byte {
	b := []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[6:], rc)
	return b
}

// Startup result codes.
const (
	rcSuccess    = 0x000
	rcInitialize = 0x100 // TPM_RC_INITIALIZE: TPM not initialized / already started
)

// EnsureStarted sends TPM2_Startup(TPM_SU_CLEAR) through t, as platform
// firmware does at boot, so that clients which never send Startup (most
// tpm2-tools commands) find a started TPM. A TPM that was already started
// answers TPM_RC_INITIALIZE, which is fine. It reports whether this call did
// the startup.
func EnsureStarted(t transport.TPM) (bool, error) {
	cmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0} // TPM2_Startup(TPM_SU_CLEAR)
	rsp, err := t.Send(cmd)
	if err != nil {
		return false, fmt.Errorf("mssim: TPM2_Startup: %w", err)
	}
	if len(rsp) < 10 {
		return false, fmt.Errorf("mssim: TPM2_Startup: %d-byte response, want at least 10", len(rsp))
	}
	switch rc := binary.BigEndian.Uint32(rsp[6:10]); rc {
	case rcSuccess:
		return true, nil
	case rcInitialize:
		return false, nil
	default:
		return false, fmt.Errorf("mssim: TPM2_Startup answered TPM_RC 0x%03x", rc)
	}
}
