package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses, documented in docs/cli.md.
const (
	exitOK       = 0 // the command did its job (a boot was emulated, whatever its verdict)
	exitError    = 1 // something failed: a check in verify, an I/O error, a model error
	exitUsage    = 2 // bad flags, arguments or scenario file
	exitMismatch = 3 // --expect was given and the verdict differs
)

// usageError is a mistake of the user: a bad flag, argument or scenario file.
// It is reported on one line and the command exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// command is one subcommand of ffatpm.
type command struct {
	name    string
	summary string // one line for "ffatpm help"
	hidden  bool   // internal commands (workers) are not listed
	run     func(ctx context.Context, e *env, args []string) int
}

func commands() []command {
	return []command{
		{name: "boot", summary: "emulate one boot and print its log and verdict", run: runBoot},
		{name: "explore", summary: "boot every configuration that matters and group them by verdict", run: runExplore},
		{name: "verify", summary: "check a measurement list against PCR values and an event log", run: runVerify},
		{name: "trace", summary: "show a boot's FF-A calls, CRB accesses and driver-core events", run: runTrace},
		{name: "presets", summary: "list the built-in scenarios", run: runPresets},
		{name: "serve", summary: "serve the emulated chain as a TPM simulator (mssim protocol)", run: dispatchServe},
		{name: "bench", summary: "measure the chain side by side with its baselines and print ratios", run: runBench},
		{name: "help", summary: "show help for a command", run: runHelp},
		{name: workerCommand, hidden: true, run: runWorker},
	}
}

func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

const mainUsage = `ffatpm emulates the Arm boot chain that connects a firmware TPM to Linux IMA:

  FF-A -> SPMC -> TPM secure partition -> CRB -> TPM 2.0 -> kernel driver core -> IMA

and shows which kernel configurations and initcall orders lose the TPM, and why.

Usage:

  ffatpm <command> [flags]

Commands:

%s
Examples:

  ffatpm boot                                  # the working chain, end to end
  ffatpm boot --preset seed-002-without-patches  # IMA misses the TPM
  ffatpm presets                               # every built-in scenario
  ffatpm explore                               # every configuration, grouped by verdict
  ffatpm boot --out /tmp/m && evmctl ima_measurement \
      --pcrs sha256,/tmp/m/pcrs-sha256.txt \
      /tmp/m/sys/kernel/security/ima/binary_runtime_measurements

Run "ffatpm help <command>" (or "ffatpm <command> --help") for its flags and examples.
Exit status: 0 done, 1 error, 2 usage error, 3 --expect mismatch.
`

func printMainUsage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		if c.hidden {
			continue
		}
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, mainUsage, b.String())
}

// run dispatches to a subcommand and returns the exit status.
func run(ctx context.Context, e *env) int {
	if len(e.args) == 0 {
		printMainUsage(e.stderr)
		return exitUsage
	}
	name := e.args[0]
	switch name {
	case "-h", "-help", "--help":
		printMainUsage(e.stdout)
		return exitOK
	}
	c, ok := lookupCommand(name)
	if !ok {
		fmt.Fprintf(e.stderr, "ffatpm: unknown command %q (run \"ffatpm help\" for the list)\n", name)
		return exitUsage
	}
	return c.run(ctx, e, e.args[1:])
}

func runHelp(ctx context.Context, e *env, args []string) int {
	switch len(args) {
	case 0:
		printMainUsage(e.stdout)
		return exitOK
	case 1:
		c, ok := lookupCommand(args[0])
		if !ok || c.hidden {
			fmt.Fprintf(e.stderr, "ffatpm help: unknown command %q\n", args[0])
			return exitUsage
		}
		if c.name == "help" {
			printMainUsage(e.stdout)
			return exitOK
		}
		return c.run(ctx, e, []string{"--help"})
	default:
		fmt.Fprintln(e.stderr, "ffatpm help: takes at most one command name")
		return exitUsage
	}
}

// newFlagSet returns a flag set that reports nothing by itself: parse reports
// errors on one line and help on stdout.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("ffatpm "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args with fs. It returns done=true with the exit status
// to use when the command must stop: help was asked for (status 0, help on
// stdout) or the flags were wrong (status 2, one line on stderr).
func parseFlags(e *env, fs *flag.FlagSet, help string, args []string) (done bool, code int) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(e.stdout, fs, help)
		return true, exitOK
	}
	if err != nil {
		msg := err.Error()
		// The flag package names flags with one dash; we document two.
		msg = strings.Replace(msg, ": -", ": --", 1)
		msg = strings.Replace(msg, "flag -", "flag --", 1)
		// A flag name or value with a newline must not break the one line.
		msg = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(msg)
		fmt.Fprintf(e.stderr, "%s: %s (see \"%s --help\")\n", fs.Name(), msg, fs.Name())
		return true, exitUsage
	}
	return false, exitOK
}

// printCommandHelp prints help (the command's text with usage, description and
// examples) followed by the flags, each with a double dash.
func printCommandHelp(w io.Writer, fs *flag.FlagSet, help string) {
	fmt.Fprint(w, strings.TrimLeft(help, "\n"))
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		arg := "--" + f.Name
		if name != "" {
			arg += " " + name
		}
		fmt.Fprintf(&b, "  %s\n    \t%s", arg, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" && f.DefValue != "0" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	if b.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", b.String())
	}
}

// report prints err on one line prefixed with the command name and returns
// the exit status that fits it.
func report(e *env, cmd string, err error) int {
	fmt.Fprintf(e.stderr, "ffatpm %s: %s\n", cmd, oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitError
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// noArgs rejects positional arguments for commands that take none.
func noArgs(e *env, fs *flag.FlagSet) (done bool, code int) {
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "%s: unexpected argument %q (flags start with --; see \"%s --help\")\n", fs.Name(), fs.Arg(0), fs.Name())
		return true, exitUsage
	}
	return false, exitOK
}
