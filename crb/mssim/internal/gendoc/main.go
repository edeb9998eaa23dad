// Command gendoc writes docs/mssim.md from package mssim's support table.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ffatpm/ffatpm/crb/mssim"
)

func main() {
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()
	doc := mssim.DocMarkdown()
	if *out == "" {
		fmt.Print(doc)
		return
	}
	if err := os.WriteFile(*out, []byte(doc), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
