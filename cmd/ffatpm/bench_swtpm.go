package main

import (
	"fmt"
	"os/exec"

	"github.com/ffatpm/ffatpm/crb/mssim/loopback"
)

// startSwtpm starts swtpm (bin, or "swtpm" from PATH when empty) on a free
// loopback port pair (loopback.StartSwtpm). The error says why when swtpm is
// not installed or does not come up.
func startSwtpm(bin string) (*loopback.Swtpm, error) {
	if bin == "" {
		bin = "swtpm"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("swtpm is not installed (%v); install it (Debian/Ubuntu: apt-get install swtpm) or pass --swtpm PATH", err)
	}
	return loopback.StartSwtpm(path)
}
