// Command gendoc writes docs/ffa-compliance.md from the ffa support table.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ffatpm/ffatpm/ffa"
)

func main() {
	out := flag.String("o", "docs/ffa-compliance.md", "output file")
	flag.Parse()
	if err := os.WriteFile(*out, ffa.ComplianceMarkdown(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
