package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, newEnv(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	stop()
	os.Exit(code)
}

// env is everything a command may touch in the outside world. Tests build one
// with buffers; main builds it from the process.
type env struct {
	args   []string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// stderrIsTerminal enables the progress line of long commands.
	stderrIsTerminal bool
	// getenv reads the process environment (CI=true, FFATPM_WORKERS, ...).
	getenv func(string) string
	// self is the path of the running executable, used to start workers.
	self string
}

func newEnv(args []string, stdin io.Reader, stdout, stderr io.Writer) *env {
	e := &env{args: args, stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	if f, ok := stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			e.stderrIsTerminal = true
		}
	}
	if exe, err := os.Executable(); err == nil {
		e.self = exe
	}
	return e
}
