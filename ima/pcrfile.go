package ima

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// PCRValues maps a register index to its value for one bank.
type PCRValues map[int][]byte

// WritePCRFile writes values in evmctl's --pcrs file form, one
// "PCR-NN: <hex>" line per register in index order (the form tpm2-tools'
// and sysfs's PCR dumps are converted to for ima_measurement).
func WritePCRFile(w io.Writer, values PCRValues) error {
	bw := bufio.NewWriter(w)
	max := -1
	for i := range values {
		if i > max {
			max = i
		}
	}
	for i := 0; i <= max; i++ {
		v, ok := values[i]
		if !ok {
			continue
		}
		fmt.Fprintf(bw, "PCR-%02d: %x\n", i, v)
	}
	return bw.Flush()
}

// ParsePCRFile parses evmctl's "PCR-NN: <hex>" form. Every value must have
// the same length; blank lines are skipped.
func ParsePCRFile(data []byte) (PCRValues, error) {
	out := PCRValues{}
	size := -1
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		rest, ok := strings.CutPrefix(s, "PCR-")
		if !ok {
			return nil, fmt.Errorf("ima: PCR file line %d: want \"PCR-NN: <hex>\", got %q", line, s)
		}
		idx, val, ok := strings.Cut(rest, ":")
		if !ok {
			return nil, fmt.Errorf("ima: PCR file line %d: missing ':' in %q", line, s)
		}
		n, err := strconv.Atoi(idx)
		if err != nil || n < 0 || n >= TPMPCRs {
			return nil, fmt.Errorf("ima: PCR file line %d: index %q not in 0..%d", line, idx, TPMPCRs-1)
		}
		b, err := hex.DecodeString(strings.TrimSpace(val))
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("ima: PCR file line %d: value of PCR-%02d is not hex", line, n)
		}
		if size >= 0 && len(b) != size {
			return nil, fmt.Errorf("ima: PCR file line %d: PCR-%02d is %d bytes, earlier values are %d", line, n, len(b), size)
		}
		if _, dup := out[n]; dup {
			return nil, fmt.Errorf("ima: PCR file line %d: PCR-%02d given twice", line, n)
		}
		size = len(b)
		out[n] = b
	}
	return out, sc.Err()
}
