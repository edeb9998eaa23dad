package kbuild

import (
	"bytes"
	"fmt"
)

// ParseError is a malformed input file. Line is 1-based for text files;
// binary files (vmlinux, gzip streams) set Offset instead and Line to 0.
type ParseError struct {
	File   string
	Line   int
	Offset int64 // byte offset, meaningful when HasOffset
	// HasOffset reports that Offset names the place (binary inputs).
	HasOffset bool
	Msg       string
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.HasOffset:
		return fmt.Sprintf("%s: offset %#x: %s", e.File, e.Offset, e.Msg)
	default:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
}

func lineErr(file string, line int, format string, args ...any) error {
	return &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func offErr(file string, off int64, format string, args ...any) error {
	return &ParseError{File: file, Offset: off, HasOffset: true, Msg: fmt.Sprintf(format, args...)}
}

func fileErr(file string, format string, args ...any) error {
	return &ParseError{File: file, Msg: fmt.Sprintf(format, args...)}
}

// Pos is where a fact came from: a file and a 1-based line, or a byte offset
// in a binary file.
type Pos struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Offset int64  `json:"offset,omitempty"`
}

func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line > 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	case p.Offset > 0:
		return fmt.Sprintf("%s@%#x", p.File, p.Offset)
	}
	return p.File
}

// splitLines splits data into lines without a length limit (bufio.Scanner
// stops at 64 KiB), dropping one trailing newline and a CR before each LF.
func splitLines(data []byte) [][]byte {
	if len(data) == 0 {
		return nil
	}
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var ln []byte
		if i < 0 {
			ln, data = data, nil
		} else {
			ln, data = data[:i], data[i+1:]
		}
		if n := len(ln); n > 0 && ln[n-1] == '\r' {
			ln = ln[:n-1]
		}
		lines = append(lines, ln)
	}
	return lines
}
