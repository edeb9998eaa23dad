package main

// Faults seen from the command line: `ffatpm serve` with a TPM backend
// (--backend swtpm:HOST:PORT) that is down, fails, truncates its answers,
// answers a TPM error code, or goes away mid-run. The command runs as a
// separate process (the "ffatpm" program testscript.Main puts on PATH), so
// these tests use nothing of the package's internals. The backend is an
// mssim server in this process over the simulator, with crb/crbtest's
// SwitchEngine in front to inject the fault on demand.

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/crb/crbtest"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/mssim"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relBackend is a swtpm stand-in: an mssim server on loopback whose TPM is
// the simulator behind a SwitchEngine.
type relBackend struct {
	addr   string
	sw     *crbtest.SwitchEngine
	cancel context.CancelFunc
	done   chan struct{}
}

func startRelBackend(t *testing.T, faulty transport.TPM) *relBackend {
	t.Helper()
	sim, err := engine.OpenSimulator(engine.SimulatorOptions{Seed: 3})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sim.Close() })
	sw := &crbtest.SwitchEngine{Normal: sim, Faulty: faulty}
	srv, err := mssim.NewServer(mssim.Config{TPM: sw})
	require.NoError(t, err)
	cmdLn, platLn, err := mssim.Listen("127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	b := &relBackend{addr: cmdLn.Addr().String(), sw: sw, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		_ = srv.Serve(ctx, cmdLn, platLn)
	}()
	t.Cleanup(b.stop)
	return b
}

func (b *relBackend) stop() {
	b.cancel()
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
	}
}

// relServe is a running `ffatpm serve` process.
type relServe struct {
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	out    strings.Builder
	exited chan error
}

func (s *relServe) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

var relListening = regexp.MustCompile(`TPM on (127\.0\.0\.1:\d+)`)

// startRelServe starts `ffatpm serve --addr 127.0.0.1:0 args...` and waits
// until it listens (or exits, which is returned as an error).
func startRelServe(t *testing.T, args ...string) (*relServe, error) {
	t.Helper()
	if _, err := exec.LookPath("ffatpm"); err != nil {
		t.Skip("the ffatpm program is not on PATH (testscript.Main provides it)")
	}
	s := &relServe{exited: make(chan error, 1)}
	s.cmd = exec.Command("ffatpm", append([]string{"serve", "-v", "--addr", "127.0.0.1:0"}, args...)...)
	pr, pw := net.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	require.NoError(t, s.cmd.Start())
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := relListening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case listening <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		err := s.cmd.Wait()
		pw.Close()
		s.exited <- err
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
	})
	select {
	case s.addr = <-listening:
		return s, nil
	case err := <-s.exited:
		s.exited <- err
		time.Sleep(50 * time.Millisecond) // let the reader drain
		return s, errors.New("serve exited before listening")
	case <-time.After(60 * time.Second):
		return s, errors.New("serve did not listen within 60 s")
	}
}

// TestCLIBackendDown: serve with a swtpm backend nobody listens on exits
// non-zero at once, naming the address and what to start.
func TestCLIBackendDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	s, err := startRelServe(t, "--backend", "swtpm:"+dead)
	require.Error(t, err, "serve must not start without its backend")
	exitErr := <-s.exited
	var ee *exec.ExitError
	require.True(t, errors.As(exitErr, &ee), "exit status: %v", exitErr)
	assert.NotZero(t, ee.ExitCode())
	out := s.output()
	t.Logf("exit %d: %s", ee.ExitCode(), out)
	assert.Contains(t, out, dead, "the message names the backend address")
	assert.Contains(t, out, "refused", "the message says why")
}

// TestCLIBackendFaults: with serve running over a healthy backend, the
// backend starts failing; each client command gets a clear failure (a TPM
// error response or a closed connection, never a hang or a success), serve
// keeps running and logs the reason, and answers again when it can.
func TestCLIBackendFaults(t *testing.T) {
	cases := []struct {
		name   string
		faulty transport.TPM
		// wantRC: the client sees this TPM response code (0: any failure).
		wantRC tpm2.TPMRC
		// recovers: after the fault stops, commands succeed again without
		// restarting anything (no fatal error state in the TPM model).
		recovers bool
	}{
		{"engine error", crbtest.ErrorEngine(errors.New("injected: swtpm socket reset")), 0, false},
		{"truncated response", nil, 0, false},
		{"TPM_RC_FAILURE", crbtest.RCEngine(0x101), tpm2.TPMRCFailure, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startRelBackend(t, tc.faulty)
			if tc.faulty == nil {
				b.sw.Faulty = crbtest.TruncatingEngine(b.sw.Normal, 12)
			}
			s, err := startRelServe(t, "--backend", "swtpm:"+b.addr)
			require.NoError(t, err, "serve: %s", s.output())
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cl, err := mssim.Dial(ctx, s.addr, mssim.ClientConfig{PowerOn: true})
			require.NoError(t, err)
			defer cl.Close()
			_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(cl)
			require.NoError(t, err, "healthy backend")

			b.sw.Arm()
			_, ferr := tpm2.GetRandom{BytesRequested: 8}.Execute(cl)
			b.sw.Disarm()
			t.Logf("client during the fault: %v", ferr)
			require.Error(t, ferr, "a failing backend must not look like success")
			if tc.wantRC != 0 {
				var rc tpm2.TPMRC
				require.True(t, errors.As(ferr, &rc), "a TPM error code reaches the client: %v", ferr)
				assert.Equal(t, tc.wantRC, rc)
			}

			// serve is still there: a new client connects and gets an answer.
			cl2, err := mssim.Dial(ctx, s.addr, mssim.ClientConfig{})
			require.NoError(t, err, "serve still accepts: %s", s.output())
			defer cl2.Close()
			_, aerr := tpm2.GetRandom{BytesRequested: 8}.Execute(cl2)
			t.Logf("next client after the fault: %v", aerr)
			if tc.recovers {
				assert.NoError(t, aerr)
			} else {
				assert.Error(t, aerr, "the TPM stays in its fatal error state until reset")
			}
			select {
			case err := <-s.exited:
				t.Fatalf("serve exited: %v\n%s", err, s.output())
			default:
			}
			t.Logf("serve output:\n%s", s.output())
		})
	}
}

// TestCLIBackendGoesAway: the backend stops while serve runs: the client's
// command fails, and serve neither hangs nor crashes.
func TestCLIBackendGoesAway(t *testing.T) {
	b := startRelBackend(t, nil)
	s, err := startRelServe(t, "--backend", "swtpm:"+b.addr)
	require.NoError(t, err, "serve: %s", s.output())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := mssim.Dial(ctx, s.addr, mssim.ClientConfig{PowerOn: true})
	require.NoError(t, err)
	defer cl.Close()
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(cl)
	require.NoError(t, err)
	b.stop()
	done := make(chan error, 1)
	go func() {
		_, err := tpm2.GetRandom{BytesRequested: 8}.Execute(cl)
		done <- err
	}()
	select {
	case err := <-done:
		t.Logf("client after the backend went away: %v", err)
		assert.Error(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the client's command hangs after the backend went away")
	}
	select {
	case err := <-s.exited:
		t.Logf("serve exited: %v", err)
	default:
		t.Logf("serve still running")
	}
	t.Logf("serve output:\n%s", s.output())
}
