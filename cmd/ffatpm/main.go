// Command ffatpm emulates the Arm boot chain that connects a firmware TPM to
// Linux IMA: FF-A -> SPMC -> TPM secure partition -> CRB -> TPM 2.0 -> kernel
// driver core -> IMA.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "boot" {
		fmt.Fprintln(os.Stderr, "usage: ffatpm boot")
		os.Exit(2)
	}
	fmt.Println("ffatpm: boot is not implemented yet")
}
