// Command gendoc writes docs/crb.md from package crb's tables.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbtest"
)

func main() {
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()
	doc := crb.DocMarkdown() + crbtest.CasesMarkdown()
	if *out == "" {
		fmt.Print(doc)
		return
	}
	if err := os.WriteFile(*out, []byte(doc), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
