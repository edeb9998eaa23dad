package ima

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// File names under /sys/kernel/security/ima (ima_fs.c). The un-suffixed
// names carry SHA-1 template digests; newer kernels add one file per
// algorithm of ima_algo_array with the algorithm's name as suffix.
const (
	BinaryListName = "binary_runtime_measurements"
	ASCIIListName  = "ascii_runtime_measurements"
)

// BinaryFileName returns the binary list's file name for alg; with
// suffixed=false the SHA-1 list has the legacy un-suffixed name.
func BinaryFileName(alg hashalg.Alg, suffixed bool) string {
	if !suffixed {
		return BinaryListName
	}
	return BinaryListName + "_" + alg.String()
}

// ASCIIFileName is BinaryFileName for the ASCII list.
func ASCIIFileName(alg hashalg.Alg, suffixed bool) string {
	if !suffixed {
		return ASCIIListName
	}
	return ASCIIListName + "_" + alg.String()
}

func (l *List) algIndex(alg hashalg.Alg) (int, error) {
	for i, a := range l.algs {
		if a == alg {
			return i, nil
		}
	}
	return 0, fmt.Errorf("ima: the list keeps no %v template digests (has %v)", alg, l.algs)
}

// WriteBinary writes the list as binary_runtime_measurements(_alg) in the
// native (little-endian) format of ima_measurements_show.
func (l *List) WriteBinary(w io.Writer, alg hashalg.Alg) error {
	ai, err := l.algIndex(alg)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	var u [4]byte
	put := func(v int) {
		binary.LittleEndian.PutUint32(u[:], uint32(v))
		bw.Write(u[:])
	}
	for _, e := range l.Entries() {
		put(e.PCR)
		bw.Write(e.Digests[ai])
		put(len(e.Template))
		bw.WriteString(e.Template)
		if e.Template == TemplateIMA {
			// ima: no template length; d without length; n as
			// length + string without its NUL.
			for _, f := range e.Fields {
				switch f.ID {
				case FieldD:
					bw.Write(f.Data)
				default:
					s := cString(f.Data)
					put(len(s))
					bw.WriteString(s)
				}
			}
			continue
		}
		put(TemplateDataLen(e.Fields))
		for _, f := range e.Fields {
			put(len(f.Data))
			bw.Write(f.Data)
		}
	}
	return bw.Flush()
}

// WriteASCII writes the list as ascii_runtime_measurements(_alg) in the
// format of ima_ascii_measurements_show: "%2d <digest> <template>" and
// " <field>" per field (an empty field leaves just the space).
func (l *List) WriteASCII(w io.Writer, alg hashalg.Alg) error {
	ai, err := l.algIndex(alg)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	hexbuf := make([]byte, 0, 128)
	for _, e := range l.Entries() {
		fmt.Fprintf(bw, "%2d ", e.PCR)
		hexbuf = hex.AppendEncode(hexbuf[:0], e.Digests[ai])
		bw.Write(hexbuf)
		bw.WriteByte(' ')
		bw.WriteString(e.Template)
		for _, f := range e.Fields {
			bw.WriteByte(' ')
			if len(f.Data) == 0 {
				continue
			}
			bw.WriteString(fieldText(f))
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ExportFiles renders the securityfs files a kernel would show: the
// un-suffixed SHA-1 lists, plus (perBank) one suffixed pair per algorithm
// of the list, as kernels since v6.10 do. Linux 6.1 writes only the
// un-suffixed pair.
func (l *List) ExportFiles(perBank bool) (map[string][]byte, error) {
	out := map[string][]byte{}
	add := func(alg hashalg.Alg, suffixed bool) error {
		var b, a byteBuf
		if err := l.WriteBinary(&b, alg); err != nil {
			return err
		}
		if err := l.WriteASCII(&a, alg); err != nil {
			return err
		}
		out[BinaryFileName(alg, suffixed)] = b
		out[ASCIIFileName(alg, suffixed)] = a
		return nil
	}
	if err := add(hashalg.SHA1, false); err != nil {
		return nil, err
	}
	if perBank {
		for _, a := range l.algs {
			if err := add(a, true); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// SortedNames returns the keys of files in order.
func SortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type byteBuf []byte

func (b *byteBuf) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

// WriteFiles writes ExportFiles(perBank) into dir (created if needed).
func (l *List) WriteFiles(dir string, perBank bool) error {
	files, err := l.ExportFiles(perBank)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, n := range SortedNames(files) {
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// PCRFileName is the name WritePCRFiles gives bank alg's file.
func PCRFileName(alg hashalg.Alg) string { return "pcrs-" + alg.String() + ".txt" }

// WritePCRFiles reads PCR0..23 of every bank of rot and writes one evmctl
// PCR file per bank into dir, named by PCRFileName.
func WritePCRFiles(dir string, rot RootOfTrust) error {
	all, err := ReadAll(rot, TPMPCRs)
	if err != nil {
		return err
	}
	for alg, vals := range all {
		p := PCRValues{}
		for i, v := range vals {
			p[i] = v
		}
		var b byteBuf
		if err := WritePCRFile(&b, p); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, PCRFileName(alg)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
