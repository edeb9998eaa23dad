package mssim

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hashTPM is a fake engine whose answer is a function of the command: a
// success header followed by SHA-256 of the command, so a client can tell
// that the answer it got is for the command it sent.
type hashTPM struct {
	mu       sync.Mutex
	inFlight int
	maxSeen  int
	calls    int
	locs     []uint8
	withLoc  bool
	fail     error
}

func hashAnswer(cmd []byte) []byte {
	sum := sha256.Sum256(cmd)
	rsp := []byte{0x80, 0x01, 0, 0, 0, 42, 0, 0, 0, 0}
	return append(rsp, sum[:]...)
}

func (h *hashTPM) Send(cmd []byte) ([]byte, error) {
	h.mu.Lock()
	h.inFlight++
	h.calls++
	if h.inFlight > h.maxSeen {
		h.maxSeen = h.inFlight
	}
	h.mu.Unlock()
	defer func() { h.mu.Lock(); h.inFlight--; h.mu.Unlock() }()
	if h.fail != nil {
		return nil, h.fail
	}
	return hashAnswer(cmd), nil
}

// locTPM adds SendLocality to hashTPM.
type locTPM struct{ *hashTPM }

func (l locTPM) SendLocality(loc uint8, cmd []byte) ([]byte, error) {
	l.mu.Lock()
	l.locs = append(l.locs, loc)
	l.mu.Unlock()
	return l.Send(cmd)
}

type testServer struct {
	srv  *Server
	addr string // command port
	plat string
	logs *lockedBuffer
	stop func() error
}

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	logs := &lockedBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := NewServer(cfg)
	require.NoError(t, err)
	cl, pl, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, cl, pl) }()
	ts := &testServer{srv: srv, addr: cl.Addr().String(), plat: pl.Addr().String(), logs: logs}
	var once sync.Once
	var serr error
	ts.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case serr = <-done:
			case <-time.After(10 * time.Second):
				serr = errors.New("server did not stop within 10 s of cancel")
			}
		})
		return serr
	}
	t.Cleanup(func() { require.NoError(t, ts.stop()) })
	return ts
}

func dialRaw(t testing.TB, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

func u32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// requireClosed asserts the server closed the connection (EOF, no more bytes).
func requireClosed(t testing.TB, r *bufio.Reader) {
	t.Helper()
	_, err := r.ReadByte()
	require.ErrorIs(t, err, io.EOF, "the server should have closed the connection")
}

func TestServerSendCommand(t *testing.T) {
	fake := &hashTPM{}
	ts := startServer(t, Config{TPM: fake})
	c, err := Dial(context.Background(), ts.addr, ClientConfig{PowerOn: true})
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		cmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, byte(i)}
		rsp, err := c.Send(cmd)
		require.NoError(t, err)
		require.Equal(t, hashAnswer(cmd), rsp)
	}
	v, fl, err := c.Handshake()
	require.NoError(t, err)
	assert.Equal(t, ServerVersion, v)
	assert.Equal(t, EndpointPlatformAvailable|EndpointInRawMode, fl)
	require.NoError(t, c.Close())
	assert.Equal(t, uint64(5), ts.srv.Stats().Commands)
}

// TestServerWireAnswers checks the exact bytes the server answers to each
// well-formed frame, and whether the connection stays open, against the
// reference TcpServer.c behaviour (with this package's documented
// differences for power signals, STOP and H-CRTM).
func TestServerWireAnswers(t *testing.T) {
	cmd := []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x45}
	tests := []struct {
		name   string
		port   Port
		send   []byte
		answer []byte
		open   bool
	}{
		{"send command", PortTPM, append(append([]byte{0, 0, 0, 8, 0}, u32s(10)...), cmd...),
			append(append(u32s(42), hashAnswer(cmd)...), u32s(0)...), true},
		{"handshake", PortTPM, u32s(15, 1), u32s(1, 5, 0), true},
		{"handshake version 0", PortTPM, u32s(15, 0), nil, false},
		{"alternative result", PortTPM, u32s(16, 7), u32s(0), true},
		{"session end", PortTPM, u32s(20), nil, false},
		{"stop ends only the connection", PortTPM, u32s(21), nil, false},
		{"hash start not modelled", PortTPM, u32s(5), nil, false},
		{"hash data not modelled", PortTPM, append(u32s(6, 2), 1, 2), nil, false},
		{"power on", PortPlatform, u32s(1), u32s(0), true},
		{"power off refused", PortPlatform, u32s(2), u32s(1), true},
		{"phys pres on", PortPlatform, u32s(3), u32s(0), true},
		{"phys pres off", PortPlatform, u32s(4), u32s(0), true},
		{"cancel on", PortPlatform, u32s(9), u32s(0), true},
		{"cancel off", PortPlatform, u32s(10), u32s(0), true},
		{"nv on", PortPlatform, u32s(11), u32s(0), true},
		{"nv off refused", PortPlatform, u32s(12), u32s(1), true},
		{"key cache on", PortPlatform, u32s(13), u32s(0), true},
		{"key cache off", PortPlatform, u32s(14), u32s(0), true},
		{"reset refused", PortPlatform, u32s(17), u32s(1), true},
		{"restart refused", PortPlatform, u32s(18), u32s(1), true},
		{"platform session end", PortPlatform, u32s(20), nil, false},
		{"platform stop", PortPlatform, u32s(21), nil, false},
		{"command response sizes refused", PortPlatform, u32s(25), u32s(1), true},
		{"act get signaled refused", PortPlatform, u32s(26, 0), u32s(1), true},
		{"failure mode refused", PortPlatform, u32s(30), u32s(1), true},
	}
	ts := startServer(t, Config{TPM: &hashTPM{}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := ts.addr
			if tt.port == PortPlatform {
				addr = ts.plat
			}
			c, r := dialRaw(t, addr)
			_, err := c.Write(tt.send)
			require.NoError(t, err)
			got := make([]byte, len(tt.answer))
			_, err = io.ReadFull(r, got)
			require.NoError(t, err)
			require.Equal(t, len(tt.answer), len(got))
			if len(got) > 0 {
				require.Equal(t, tt.answer, got)
			}
			if !tt.open {
				requireClosed(t, r)
				return
			}
			// Still open: a second power-on (or handshake) is answered.
			if tt.port == PortPlatform {
				_, err = c.Write(u32s(1))
				require.NoError(t, err)
				_, err = io.ReadFull(r, got[:4])
				require.NoError(t, err)
				require.Equal(t, u32s(0), got[:4])
			} else {
				_, err = c.Write(u32s(15, 1))
				require.NoError(t, err)
				h := make([]byte, 12)
				_, err = io.ReadFull(r, h)
				require.NoError(t, err)
				require.Equal(t, u32s(1, 5, 0), h)
			}
		})
	}
	st := ts.srv.Stats()
	assert.Equal(t, uint64(3), st.Malformed, "version-0 handshake and two H-CRTM signals")
}

// TestServerMalformedFrames: each malformed frame closes its connection with
// a logged reason; the server keeps serving other clients.
func TestServerMalformedFrames(t *testing.T) {
	tests := []struct {
		name   string
		port   Port
		send   []byte
		reason string
	}{
		{"unknown code", PortTPM, u32s(99), "unknown command code"},
		{"platform code on command port", PortTPM, u32s(1), "not accepted on this port"},
		{"command code on platform port", PortPlatform, append(append(u32s(8), 0), u32s(10)...), "not accepted on this port"},
		{"oversized command", PortTPM, append(append(u32s(8), 0), u32s(DefaultMaxCommandSize+1)...), "over the limit"},
		{"size 4 GiB", PortTPM, append(append(u32s(8), 0), u32s(0xffffffff)...), "over the limit"},
		{"oversized hash data", PortTPM, u32s(6, 1<<20), "over the limit"},
		{"truncated code", PortTPM, []byte{0, 0}, "inside a frame"},
		{"truncated size", PortTPM, append(u32s(8), 0, 0), "inside a frame"},
		{"truncated payload", PortTPM, append(append(u32s(8), 0), append(u32s(12), 0x80, 1)...), "inside a frame"},
		{"unknown platform code", PortPlatform, u32s(0x12345678), "unknown command code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &hashTPM{}
			ts := startServer(t, Config{TPM: fake})
			addr := ts.addr
			if tt.port == PortPlatform {
				addr = ts.plat
			}
			c, r := dialRaw(t, addr)
			_, err := c.Write(tt.send)
			require.NoError(t, err)
			if tt.reason == "inside a frame" {
				c.(*net.TCPConn).CloseWrite()
			}
			requireClosed(t, r)
			require.Eventually(t, func() bool { return ts.srv.Stats().Malformed == 1 }, 5*time.Second, 5*time.Millisecond)
			assert.Contains(t, ts.logs.String(), "malformed frame")
			assert.Contains(t, ts.logs.String(), tt.reason)
			assert.Zero(t, fake.calls, "nothing reaches the TPM from a malformed frame")

			// The server still serves.
			cl, err := Dial(context.Background(), ts.addr, ClientConfig{PowerOn: true})
			require.NoError(t, err)
			defer cl.Close()
			cmd := []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7a}
			rsp, err := cl.Send(cmd)
			require.NoError(t, err)
			require.Equal(t, hashAnswer(cmd), rsp)
		})
	}
}

func TestServerLocality(t *testing.T) {
	cmd := []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7a}
	t.Run("transport without localities answers TPM_RC_LOCALITY", func(t *testing.T) {
		fake := &hashTPM{}
		ts := startServer(t, Config{TPM: fake})
		c, err := Dial(context.Background(), ts.addr, ClientConfig{NoPlatform: true})
		require.NoError(t, err)
		defer c.Close()
		rsp, err := c.SendLocality(3, cmd)
		require.NoError(t, err)
		require.Equal(t, []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x07}, rsp)
		assert.Zero(t, fake.calls)
	})
	t.Run("transport with localities gets the frame's locality", func(t *testing.T) {
		fake := &hashTPM{}
		ts := startServer(t, Config{TPM: locTPM{fake}})
		c, err := Dial(context.Background(), ts.addr, ClientConfig{NoPlatform: true})
		require.NoError(t, err)
		defer c.Close()
		for _, loc := range []uint8{0, 3, 4} {
			rsp, err := c.SendLocality(loc, cmd)
			require.NoError(t, err)
			require.Equal(t, hashAnswer(cmd), rsp)
		}
		fake.mu.Lock()
		defer fake.mu.Unlock()
		assert.Equal(t, []uint8{0, 3, 4}, fake.locs)
	})
}

func TestServerBackendError(t *testing.T) {
	fake := &hashTPM{fail: errors.New("CRB: timeout C waiting for CTRL_START to clear")}
	ts := startServer(t, Config{TPM: fake})
	c, err := Dial(context.Background(), ts.addr, ClientConfig{NoPlatform: true})
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Send([]byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7a})
	require.Error(t, err)
	_, err = c.Send([]byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7a})
	require.ErrorIs(t, err, ErrClientBroken)
	require.Eventually(t, func() bool { return ts.srv.Stats().BackendErrors == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.Contains(t, ts.logs.String(), "timeout C")
}

type recPlatform struct {
	mu   sync.Mutex
	got  []Command
	fail Command
}

func (p *recPlatform) Signal(c Command) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, c)
	if c == p.fail {
		return errors.New("no")
	}
	return nil
}

func TestServerPlatformDelegation(t *testing.T) {
	p := &recPlatform{fail: SignalRestart}
	ts := startServer(t, Config{TPM: &hashTPM{}, Platform: p})
	c, err := Dial(context.Background(), ts.addr, ClientConfig{})
	require.NoError(t, err)
	defer c.Close()
	for _, s := range []Command{SignalPowerOff, SignalPowerOn, SignalReset} {
		require.NoError(t, c.Signal(s))
	}
	var se *SignalError
	require.ErrorAs(t, c.Signal(SignalRestart), &se)
	assert.Equal(t, AckRefused, se.Code)
	require.NoError(t, c.Signal(SignalNVOn), "NV_ON is acknowledged by the server itself")
	assert.Equal(t, []Command{SignalPowerOff, SignalPowerOn, SignalReset, SignalRestart}, p.got)
}

// TestServerClientLeavesWithoutSessionEnd: tpm2-tss never sends SESSION_END;
// closing the sockets must end the handlers and leave the server serving.
func TestServerClientLeavesWithoutSessionEnd(t *testing.T) {
	ts := startServer(t, Config{TPM: &hashTPM{}})
	for i := 0; i < 20; i++ {
		c, err := Dial(context.Background(), ts.addr, ClientConfig{PowerOn: true})
		require.NoError(t, err)
		_, err = c.Send([]byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7a})
		require.NoError(t, err)
		require.NoError(t, c.closeConns())
	}
	require.Eventually(t, func() bool {
		ts.srv.connMu.Lock()
		defer ts.srv.connMu.Unlock()
		return len(ts.srv.conns) == 0
	}, 5*time.Second, 5*time.Millisecond, "handlers of departed clients must end")
	assert.Equal(t, uint64(20), ts.srv.Stats().Commands)
}

// TestServerShutdown: cancelling the context closes listeners and idle or
// half-sent connections and Serve returns.
func TestServerShutdown(t *testing.T) {
	ts := startServer(t, Config{TPM: &hashTPM{}})
	idle, ir := dialRaw(t, ts.addr)
	_ = idle
	half, hr := dialRaw(t, ts.addr)
	_, err := half.Write(append(u32s(8), 0, 0, 0)) // stalls inside a frame
	require.NoError(t, err)
	pl, pr := dialRaw(t, ts.plat)
	_ = pl
	require.Eventually(t, func() bool { return ts.srv.Stats().Accepted == 3 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, ts.stop())
	for _, r := range []*bufio.Reader{ir, hr, pr} {
		_, err := r.ReadByte()
		require.Error(t, err)
	}
	_, err = net.DialTimeout("tcp", ts.addr, time.Second)
	require.Error(t, err, "listener must be closed")
}

func TestServerMaxConns(t *testing.T) {
	ts := startServer(t, Config{TPM: &hashTPM{}, MaxConns: 2})
	dialRaw(t, ts.addr)
	dialRaw(t, ts.plat)
	require.Eventually(t, func() bool { return ts.srv.Stats().Accepted == 2 }, 5*time.Second, 5*time.Millisecond)
	_, r := dialRaw(t, ts.addr)
	requireClosed(t, r)
	assert.Contains(t, ts.logs.String(), "too many open connections")
}

func TestListenPortPair(t *testing.T) {
	cl, pl, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	defer cl.Close()
	defer pl.Close()
	assert.Equal(t, cl.Addr().(*net.TCPAddr).Port+1, pl.Addr().(*net.TCPAddr).Port)
	for _, bad := range []string{"127.0.0.1", "127.0.0.1:65535", "127.0.0.1:x"} {
		_, _, err := Listen(bad)
		assert.Error(t, err, bad)
	}
}

// flakyListener fails its first n Accepts, as a listener out of file
// descriptors does.
type flakyListener struct {
	net.Listener
	mu sync.Mutex
	n  int
}

func (f *flakyListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if f.n > 0 {
		f.n--
		f.mu.Unlock()
		return nil, errors.New("accept4: too many open files")
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

func TestServerAcceptErrorsAreRetried(t *testing.T) {
	logs := &lockedBuffer{}
	srv, err := NewServer(Config{TPM: &hashTPM{}, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	cl, pl, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, &flakyListener{Listener: cl, n: 3}, pl) }()
	c, err := Dial(context.Background(), cl.Addr().String(), ClientConfig{PowerOn: true})
	require.NoError(t, err)
	cmd := []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7a}
	rsp, err := c.Send(cmd)
	require.NoError(t, err, "served after the failing accepts")
	require.Equal(t, hashAnswer(cmd), rsp)
	c.Close()
	assert.Equal(t, 3, strings.Count(logs.String(), "accept failed; retrying"))
	cancel()
	require.NoError(t, <-done)
}

func TestServerListenerClosedUnderneath(t *testing.T) {
	srv, err := NewServer(Config{TPM: &hashTPM{}})
	require.NoError(t, err)
	cl, pl, err := Listen("127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), cl, pl) }()
	_, r := dialRaw(t, pl.Addr().String())
	require.Eventually(t, func() bool { return srv.Stats().Accepted == 1 }, 5*time.Second, 5*time.Millisecond)
	cl.Close()
	select {
	case err := <-done:
		require.ErrorContains(t, err, "command port listener closed while serving")
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its listener was closed")
	}
	requireClosed(t, r)
}

// TestServerFrameTimeout: a client that stalls inside a frame is cut off;
// one that idles between frames is not.
func TestServerFrameTimeout(t *testing.T) {
	ts := startServer(t, Config{TPM: &hashTPM{}, FrameTimeout: 200 * time.Millisecond})
	idle, ir := dialRaw(t, ts.addr)
	stall, sr := dialRaw(t, ts.addr)
	_, err := stall.Write(append(u32s(8), 0, 0, 0)) // code + locality + half a size
	require.NoError(t, err)
	requireClosed(t, sr)
	assert.Contains(t, ts.logs.String(), "frame TPM_SEND_COMMAND not completed within 200ms")
	assert.Equal(t, uint64(1), ts.srv.Stats().Malformed)

	time.Sleep(300 * time.Millisecond) // longer than the frame timeout, between frames
	_, err = idle.Write(u32s(15, 1))
	require.NoError(t, err)
	h := make([]byte, 12)
	_, err = io.ReadFull(ir, h)
	require.NoError(t, err, "an idle client is kept")
	require.Equal(t, u32s(1, 5, 0), h)
}
