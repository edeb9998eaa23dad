package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/crb/mssim"
	"github.com/ffatpm/ffatpm/crb/mssim/mssimtest"
	"github.com/google/go-tpm-tools/client"
	legacy "github.com/google/go-tpm/legacy/tpm2"
	"github.com/google/go-tpm/tpm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests here that start "serve" with the built-in simulator must not run in
// parallel: the simulator is one per process.

type serveOutBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *serveOutBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *serveOutBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type runningServeT struct {
	addr, port     string
	stdout, stderr *serveOutBuffer
	stop           func() int // cancels (as SIGINT/SIGTERM do) and returns the exit status
}

var serveListeningRE = regexp.MustCompile(`TPM on (127\.0\.0\.1:(\d+))`)

// startServeT runs "ffatpm serve" with args (plus --addr 127.0.0.1:0) until
// the test ends.
func startServeT(t testing.TB, args ...string) *runningServeT {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningServeT{stdout: &serveOutBuffer{}, stderr: &serveOutBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- runServe(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), rs.stdout, rs.stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := serveListeningRE.FindStringSubmatch(rs.stdout.String()); m != nil {
			rs.addr, rs.port = m[1], m[2]
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d before listening: stdout %q stderr %q", code, rs.stdout, rs.stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not listen within 20 s: stdout %q stderr %q", rs.stdout, rs.stderr)
		}
	}
	var once sync.Once
	code := -1
	rs.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("serve did not stop within 20 s of cancel")
			}
		})
		return code
	}
	t.Cleanup(func() { rs.stop() })
	return rs
}

func TestServeFlags(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--help"}, serveExitOK, "Usage: ffatpm serve"},
		{[]string{"--addr", "nonsense"}, serveExitUsage, `--addr: "nonsense" is not HOST:PORT`},
		{[]string{"--addr", "127.0.0.1:65535"}, serveExitUsage, "platform port is PORT+1"},
		{[]string{"--backend", "qemu"}, serveExitUsage, `--backend: "qemu": want sim or swtpm:HOST:PORT`},
		{[]string{"--backend", "swtpm:localhost"}, serveExitUsage, "want swtpm:HOST:PORT"},
		{[]string{"--preset", "x"}, serveExitUsage, "--preset and --out need --boot"},
		{[]string{"--out", "/tmp/x"}, serveExitUsage, "--preset and --out need --boot"},
		{[]string{"--nope"}, serveExitUsage, "flag provided but not defined: --nope"},
		{[]string{"extra"}, serveExitUsage, `unexpected argument "extra"`},
		{[]string{"--boot", "--preset", "no-such-preset"}, serveExitUsage, `unknown preset "no-such-preset"`},
		{[]string{"--backend", "swtpm:127.0.0.1:1"}, serveExitError, "connecting to swtpm at 127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := runServe(context.Background(), tt.args, &out, &errb)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, out.String()+errb.String(), tt.msg)
		})
	}
}

// TestServeTPM2Tools: tpm2-tools with TCTI mssim against "ffatpm serve".
func TestServeTPM2Tools(t *testing.T) {
	mssimtest.NeedTool(t, "tpm2_startup")
	rs := startServeT(t)
	assert.Contains(t, rs.stdout.String(), "path normal world -> FF-A -> SPMC -> TPM partition -> CRB -> sim")
	mssimtest.RunTPM2Tools(t, "mssim:host=127.0.0.1,port="+rs.port, t.TempDir())
	require.Equal(t, serveExitOK, rs.stop())
	assert.Regexp(t, `stopped: \d+ connections, \d+ commands, 0 malformed frames, 0 transport errors`, rs.stdout.String())
	assert.Empty(t, rs.stderr.String(), "nothing worth a warning happened")
}

// TestServeGoTPMTools: go-tpm-tools' client package over our transport.TPM
// (mssim.Client) against "ffatpm serve".
func TestServeGoTPMTools(t *testing.T) {
	rs := startServeT(t)
	c, err := mssim.Dial(context.Background(), rs.addr, mssim.ClientConfig{PowerOn: true})
	require.NoError(t, err)
	defer c.Close()
	rw := mssim.ReadWriter(c)
	pcrs, err := client.ReadPCRs(rw, legacy.PCRSelection{Hash: legacy.AlgSHA256, PCRs: []int{0, 1, 2, 3, 4, 5, 6, 7, 10}})
	require.NoError(t, err)
	assert.Len(t, pcrs.GetPcrs(), 9)
	k, err := client.AttestationKeyRSA(rw)
	require.NoError(t, err)
	defer k.Close()
	sig, err := k.SignData([]byte("ffatpm serve"))
	require.NoError(t, err)
	assert.NotEmpty(t, sig)

	_, err = tpm2.Startup{StartupType: tpm2.TPMSUClear}.Execute(c)
	require.ErrorIs(t, err, tpm2.TPMRCInitialize, "serve starts the TPM; a client's Startup gets TPM_RC_INITIALIZE")
}

// TestServeSwtpmBackend: --backend swtpm:HOST:PORT puts a real swtpm behind
// the TPM partition.
func TestServeSwtpmBackend(t *testing.T) {
	sw := mssimtest.StartSwtpm(t)
	rs := startServeT(t, "--backend", "swtpm:"+sw)
	c, err := mssim.Dial(context.Background(), rs.addr, mssim.ClientConfig{PowerOn: true})
	require.NoError(t, err)
	defer c.Close()
	r, err := tpm2.GetRandom{BytesRequested: 24}.Execute(c)
	require.NoError(t, err)
	assert.Len(t, r.RandomBytes.Buffer, 24)
	// swtpm's manufacturer is IBM ("IBM "); the reference simulator's is "MSFT".
	cap, err := tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(tpm2.TPMPTManufacturer), PropertyCount: 1}.Execute(c)
	require.NoError(t, err)
	props, err := cap.CapabilityData.Data.TPMProperties()
	require.NoError(t, err)
	require.NotEmpty(t, props.TPMProperty)
	assert.Equal(t, uint32(0x49424d00), props.TPMProperty[0].Value, "manufacturer must be swtpm's")
	require.Equal(t, serveExitOK, rs.stop())
}

// TestServeShutdownWithClients: cancelling (SIGINT/SIGTERM) stops the server
// with status 0 while clients are still connected.
func TestServeShutdownWithClients(t *testing.T) {
	rs := startServeT(t, "--verbose")
	var cs []*mssim.Client
	for i := 0; i < 4; i++ {
		c, err := mssim.Dial(context.Background(), rs.addr, mssim.ClientConfig{PowerOn: true})
		require.NoError(t, err)
		cs = append(cs, c)
	}
	for _, c := range cs { // each connection accepted and served before the stop
		_, err := tpm2.GetRandom{BytesRequested: 8}.Execute(c)
		require.NoError(t, err)
	}
	require.Equal(t, serveExitOK, rs.stop())
	for _, c := range cs {
		_, err := tpm2.GetRandom{BytesRequested: 8}.Execute(c)
		assert.Error(t, err, "the server is gone")
		c.Close()
	}
	assert.Contains(t, rs.stdout.String(), "stopped: 8 connections")
}

// TestServeBadTPMCommands: well-framed but nonsensical TPM commands (empty,
// shorter than a header, header size disagreeing) never bring serve down.
func TestServeBadTPMCommands(t *testing.T) {
	rs := startServeT(t)
	for _, cmd := range [][]byte{{}, {0x80}, {0x80, 0x01, 0, 0, 0, 99, 0, 0, 0x01, 0x7b}, bytes.Repeat([]byte{0xff}, 64)} {
		c, err := mssim.Dial(context.Background(), rs.addr, mssim.ClientConfig{NoPlatform: true})
		require.NoError(t, err)
		rsp, err := c.Send(cmd)
		if err == nil {
			// A TPM answer must be an error code, not success.
			require.GreaterOrEqual(t, len(rsp), 10)
			assert.NotEqual(t, []byte{0, 0, 0, 0}, rsp[6:10], "command %x", cmd)
		}
		c.Close()
	}
	c, err := mssim.Dial(context.Background(), rs.addr, mssim.ClientConfig{NoPlatform: true})
	require.NoError(t, err)
	defer c.Close()
	_, err = tpm2.GetRandom{BytesRequested: 8}.Execute(c)
	require.NoError(t, err, "serve still answers")
	require.Equal(t, serveExitOK, rs.stop())
}

// TestServeFlagsDocumented: docs/mssim.md (which docs/cli.md points to for
// serve) names every flag of "ffatpm serve".
func TestServeFlagsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/mssim.md")
	require.NoError(t, err)
	var out bytes.Buffer
	require.Equal(t, serveExitOK, runServe(context.Background(), []string{"--help"}, &out, io.Discard))
	flags := regexp.MustCompile(`(?m)^  (--?[a-z]+)`).FindAllStringSubmatch(out.String(), -1)
	require.NotEmpty(t, flags)
	for _, f := range flags {
		name := strings.TrimLeft(f[1], "-")
		assert.Regexp(t, "`-{1,2}"+name+"[ `]", string(doc), "flag %s", f[1])
	}
}
