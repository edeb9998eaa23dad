package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/mssim"
	"github.com/google/go-tpm/tpm2/transport"
)

const serveHelp = `
Usage: ffatpm serve [--addr HOST:PORT] [--backend sim|swtpm:HOST:PORT] [--boot [--preset NAME] [--out DIR]]

Serve the emulated chain as a TPM 2.0 simulator over the Microsoft/TCG
simulator TCP protocol ("mssim"), which tpm2-tools (TCTI mssim), IBM's TSS,
go-tpm and go-tpm-tools speak. The command port is --addr, the platform port
the next port number. Every command goes normal world -> FF-A -> SPMC -> TPM
partition -> CRB -> TPM engine and back; clients are served concurrently and
their commands run one at a time. The TPM is started (TPM2_Startup(CLEAR)) as
firmware would, so clients need not send Startup; one that does gets
TPM_RC_INITIALIZE, as from a real TPM. SIGINT or SIGTERM stops the server.

Examples:

  ffatpm serve &
  TPM2TOOLS_TCTI=mssim:host=127.0.0.1,port=2321 tpm2_pcrread sha256:0,10
  ffatpm serve --backend swtpm:127.0.0.1:2321 --addr 127.0.0.1:2421
`

// Exit statuses of "ffatpm serve" (the same values as the other commands').
const (
	serveExitOK    = 0
	serveExitError = 1
	serveExitUsage = 2
)

// serveUsageError is a mistake in the flags of "ffatpm serve".
type serveUsageError struct{ msg string }

func (e *serveUsageError) Error() string { return e.msg }

// serveConfig is what the flags of "ffatpm serve" ask for.
type serveConfig struct {
	addr    string
	backend string
	boot    bool
	preset  string
	out     string
	verbose bool
	poller  bool
}

// runServe is "ffatpm serve": it returns the exit status (0 after a clean
// shutdown when ctx is cancelled, 1 on an error, 2 on a usage error).
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, code, done := parseServeFlags(args, stdout, stderr)
	if done {
		return code
	}
	if err := serve(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "ffatpm serve: %s\n", strings.Join(strings.Fields(err.Error()), " "))
		var ue *serveUsageError
		var bue *usageError // from the scenario resolution shared with "ffatpm boot"
		if errors.As(err, &ue) || errors.As(err, &bue) {
			return serveExitUsage
		}
		return serveExitError
	}
	return serveExitOK
}

func parseServeFlags(args []string, stdout, stderr io.Writer) (serveConfig, int, bool) {
	var cfg serveConfig
	fs := flag.NewFlagSet("ffatpm serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:2321", "command port `HOST:PORT`; the platform port is PORT+1 (port 0 picks a free pair)")
	fs.StringVar(&cfg.backend, "backend", "sim", "`ENGINE` behind the TPM partition: sim (built-in reference TPM) or\nswtpm:HOST:PORT (the server port of `swtpm socket --tpm2`)")
	fs.BoolVar(&cfg.boot, "boot", false, "boot the scenario first, so the PCRs hold its firmware and IMA measurements\n(the built-in TPM is power-cycled first; a swtpm backend is used as it is)")
	fs.StringVar(&cfg.preset, "preset", "", "with --boot: the built-in scenario `NAME` to boot (default: the default scenario)")
	fs.StringVar(&cfg.out, "out", "", "with --boot: write the boot's files (as \"ffatpm boot --out\") to `DIR`")
	fs.BoolVar(&cfg.verbose, "verbose", false, "log every connection and signal, not only problems")
	fs.BoolVar(&cfg.verbose, "v", false, "same as --verbose")
	fs.BoolVar(&cfg.poller, "netpoller", false, "serve connections through Go's netpoller; by default, on Linux, each\nconnection is served with blocking reads, which costs about a third less CPU per command")
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(stdout, fs, serveHelp)
		return cfg, serveExitOK, true
	}
	if err != nil {
		msg := strings.Replace(err.Error(), ": -", ": --", 1)
		fmt.Fprintf(stderr, "ffatpm serve: %s (see \"ffatpm serve --help\")\n", msg)
		return cfg, serveExitUsage, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ffatpm serve: unexpected argument %q (see \"ffatpm serve --help\")\n", fs.Arg(0))
		return cfg, serveExitUsage, true
	}
	if !cfg.boot && (cfg.preset != "" || cfg.out != "") {
		fmt.Fprintln(stderr, "ffatpm serve: --preset and --out need --boot (see \"ffatpm serve --help\")")
		return cfg, serveExitUsage, true
	}
	if _, _, err := parseServeAddr(cfg.addr); err != nil {
		fmt.Fprintf(stderr, "ffatpm serve: --addr: %v\n", err)
		return cfg, serveExitUsage, true
	}
	if _, err := parseBackend(cfg.backend); err != nil {
		fmt.Fprintf(stderr, "ffatpm serve: --backend: %v\n", err)
		return cfg, serveExitUsage, true
	}
	return cfg, serveExitOK, false
}

func parseServeAddr(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not HOST:PORT", addr)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65534 {
		return "", 0, fmt.Errorf("port %q must be a number 0..65534 (the platform port is PORT+1)", port)
	}
	return host, p, nil
}

// serveBackend is a parsed --backend.
type serveBackend struct {
	kind string // "sim" or "swtpm"
	addr string // swtpm: HOST:PORT of its server port
}

func parseBackend(s string) (serveBackend, error) {
	if s == "sim" {
		return serveBackend{kind: "sim"}, nil
	}
	if rest, ok := strings.CutPrefix(s, "swtpm:"); ok {
		if _, p, err := parseServeAddr(rest); err != nil || p == 0 {
			return serveBackend{}, fmt.Errorf("%q: want swtpm:HOST:PORT with the port of `swtpm socket --server`", s)
		}
		return serveBackend{kind: "swtpm", addr: rest}, nil
	}
	return serveBackend{}, fmt.Errorf("%q: want sim or swtpm:HOST:PORT", s)
}

// openEngine opens the TPM engine that will sit behind the TPM partition.
func openEngine(ctx context.Context, b serveBackend) (transport.TPM, func() error, error) {
	switch b.kind {
	case "sim":
		sim, err := engine.OpenSimulator(engine.SimulatorOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("starting the built-in TPM simulator: %w", err)
		}
		return sim, sim.Close, nil
	case "swtpm":
		c, err := mssim.Dial(ctx, b.addr, mssim.ClientConfig{NoPlatform: true})
		if err != nil {
			return nil, nil, fmt.Errorf("connecting to swtpm at %s (is `swtpm socket --tpm2 --server type=tcp,port=PORT` running?): %w", b.addr, err)
		}
		return c, c.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown backend %q", b.kind)
}

func serve(ctx context.Context, cfg serveConfig, stdout, stderr io.Writer) error {
	backend, err := parseBackend(cfg.backend)
	if err != nil {
		return &serveUsageError{msg: "--backend: " + err.Error()}
	}
	var (
		eng         transport.TPM
		closeEngine func() error
		sim         *engine.Simulator // the built-in TPM, which power signals can cycle
	)
	switch {
	case cfg.boot && backend.kind == "sim":
		sim, err = engine.OpenSimulator(engine.SimulatorOptions{})
		if err != nil {
			return fmt.Errorf("starting the built-in TPM simulator: %w", err)
		}
		defer sim.Close()
		if err := serveBoot(ctx, sim, nil, cfg, stdout); err != nil {
			return err
		}
		eng, closeEngine = sim, func() error { return nil }
	default:
		eng, closeEngine, err = openEngine(ctx, backend)
		if err != nil {
			return err
		}
		sim, _ = eng.(*engine.Simulator)
		if cfg.boot {
			if err := serveBoot(ctx, nil, eng, cfg, stdout); err != nil {
				closeEngine()
				return err
			}
		}
	}
	defer closeEngine()

	machine, err := newServePower(sim, eng, cfg.backend)
	if err != nil {
		return fmt.Errorf("building the chain: %w", err)
	}
	defer machine.close()

	if _, err := mssim.EnsureStarted(machine); err != nil {
		return fmt.Errorf("starting the TPM through the chain: %w", err)
	}

	level := slog.LevelWarn
	if cfg.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		}}))
	srv, err := mssim.NewServer(mssim.Config{TPM: machine, Platform: machine, Logger: logger, NetPoller: cfg.poller})
	if err != nil {
		return err
	}
	cmdLn, platLn, err := mssim.Listen(cfg.addr)
	if err != nil {
		return err
	}
	host, _, _ := parseServeAddr(cfg.addr)
	port := cmdLn.Addr().(*net.TCPAddr).Port
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(stderr, "ffatpm serve: warning: listening on %s, not only loopback: anyone who can reach it can use the TPM\n", host)
	}
	fmt.Fprintf(stdout, "ffatpm serve: TPM on %s (platform port %d), path %s\n", cmdLn.Addr(), port+1, machine.path())
	fmt.Fprintf(stdout, "ffatpm serve: TPM2TOOLS_TCTI=mssim:host=%s,port=%d\n", host, port)
	if err := srv.Serve(ctx, cmdLn, platLn); err != nil {
		return err
	}
	st := srv.Stats()
	fmt.Fprintf(stdout, "ffatpm serve: stopped: %d connections, %d commands, %d malformed frames, %d transport errors\n",
		st.Accepted, st.Commands, st.Malformed, st.BackendErrors)
	return nil
}
