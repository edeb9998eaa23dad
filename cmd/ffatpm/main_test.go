package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the golden files of the testscript scripts")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ffatpm": func() {
			os.Exit(run(context.Background(), newEnv(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)))
		},
	})
}

// TestScripts runs the CLI scripts in testdata/script. With -update, "cmp"
// rewrites the golden files the scripts compare against.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("CI", os.Getenv("CI"))
			// A real kernel's files (Linux 6.1 on QEMU with SeaBIOS), kept by the ima package.
			ref, err := filepath.Abs("../../ima/testdata/linux-6.1-qemu-seabios")
			if err != nil {
				return err
			}
			env.Setenv("REAL", ref)
			// Kernel build outputs made for the model and from Debian packages (testdata/kernels/README.md).
			kernels, err := filepath.Abs("../../testdata/kernels")
			if err != nil {
				return err
			}
			env.Setenv("KERNELS", kernels)
			return nil
		},
	})
}
