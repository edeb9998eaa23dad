package ima

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// Limits the parsers enforce (evmctl and Linux's ima_restore use the same
// bounds for names; template data is bounded by what is left of the input).
const (
	maxTemplateNameLen = 255
	maxFieldCount      = 16
)

// Record is one parsed measurement list record.
type Record struct {
	PCR            uint32
	TemplateDigest []byte
	Template       string
	// Fields holds the template fields. For templates this package knows
	// they carry their IDs; for others the IDs are empty.
	Fields []Field
}

// Name returns the record's file name field (n or n-ng), or "".
func (r *Record) Name() string {
	for _, f := range r.Fields {
		if f.ID == FieldN || f.ID == FieldNNG {
			return cString(f.Data)
		}
	}
	return ""
}

// FileDigest returns the record's file digest: the d-ng algorithm and digest,
// or SHA-1 for the "ima" template's d field.
func (r *Record) FileDigest() (algo string, digest []byte, ok bool) {
	for _, f := range r.Fields {
		switch f.ID {
		case FieldD:
			return "sha1", f.Data, true
		case FieldDNG:
			a, d, err := splitDigestNG(f.Data)
			return a, d, err == nil
		}
	}
	return "", nil, false
}

// Violation reports whether the template digest is all zeros.
func (r *Record) Violation() bool { return allZero(r.TemplateDigest) }

// Recompute returns the template digest of the record's template data for alg.
func (r *Record) Recompute(alg hashalg.Alg) []byte {
	return TemplateDigest(r.Template, r.Fields, alg)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func fieldIDs(template string) []string {
	if t, err := LookupTemplate(template); err == nil {
		return t.Fields
	}
	return nil
}

// ParseError names the record and offset where a list stopped making sense.
type ParseError struct {
	Record int
	Offset int
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("ima: binary list: record %d at offset %d: %s", e.Record, e.Offset, e.Reason)
}

// ParseBinary parses a binary_runtime_measurements file whose template
// digests are digestSize bytes (20 for the un-suffixed SHA-1 file).
func ParseBinary(data []byte, digestSize int) ([]Record, error) {
	if digestSize <= 0 || digestSize > 64 {
		return nil, fmt.Errorf("ima: binary list: digest size %d out of range", digestSize)
	}
	var out []Record
	off := 0
	for n := 0; off < len(data); n++ {
		start := off
		fail := func(format string, args ...any) ([]Record, error) {
			return out, &ParseError{Record: n, Offset: start, Reason: fmt.Sprintf(format, args...)}
		}
		u32 := func() (uint32, bool) {
			if len(data)-off < 4 {
				return 0, false
			}
			v := binary.LittleEndian.Uint32(data[off:])
			off += 4
			return v, true
		}
		take := func(k int) ([]byte, bool) {
			if k < 0 || len(data)-off < k {
				return nil, false
			}
			b := data[off : off+k : off+k]
			off += k
			return b, true
		}
		var r Record
		pcr, ok := u32()
		if !ok {
			return fail("truncated PCR index")
		}
		r.PCR = pcr
		if r.TemplateDigest, ok = take(digestSize); !ok {
			return fail("truncated template digest (want %d bytes)", digestSize)
		}
		nl, ok := u32()
		if !ok {
			return fail("truncated template name length")
		}
		if nl == 0 || nl > maxTemplateNameLen {
			return fail("template name length %d out of range 1..%d", nl, maxTemplateNameLen)
		}
		name, ok := take(int(nl))
		if !ok {
			return fail("truncated template name (want %d bytes)", nl)
		}
		r.Template = string(name)
		if r.Template == TemplateIMA {
			d, ok := take(20)
			if !ok {
				return fail("truncated ima template digest")
			}
			fl, ok := u32()
			if !ok {
				return fail("truncated ima template file name length")
			}
			if fl > EventNameLenMax {
				return fail("ima template file name length %d exceeds %d", fl, EventNameLenMax)
			}
			fn, ok := take(int(fl))
			if !ok {
				return fail("truncated ima template file name (want %d bytes)", fl)
			}
			nameData := append(append([]byte(nil), fn...), 0)
			r.Fields = []Field{{ID: FieldD, Data: d}, {ID: FieldN, Data: nameData}}
			out = append(out, r)
			continue
		}
		tl, ok := u32()
		if !ok {
			return fail("truncated template data length")
		}
		td, ok := take(int(tl))
		if !ok || int(tl) < 0 {
			return fail("template data length %d exceeds the %d bytes left", tl, len(data)-off)
		}
		ids := fieldIDs(r.Template)
		for p := 0; p < len(td); {
			if len(r.Fields) >= maxFieldCount {
				return fail("more than %d template fields", maxFieldCount)
			}
			if len(td)-p < 4 {
				return fail("template field %d: truncated length", len(r.Fields))
			}
			fl := int(binary.LittleEndian.Uint32(td[p:]))
			p += 4
			if fl < 0 || fl > len(td)-p {
				return fail("template field %d: length %d exceeds the %d bytes left", len(r.Fields), fl, len(td)-p)
			}
			f := Field{}
			if fl > 0 { // an empty field is nil, as built
				f.Data = td[p : p+fl : p+fl]
			}
			if len(r.Fields) < len(ids) {
				f.ID = ids[len(r.Fields)]
			}
			r.Fields = append(r.Fields, f)
			p += fl
		}
		if ids != nil && len(r.Fields) != len(ids) {
			return fail("template %q has %d fields, want %d", r.Template, len(r.Fields), len(ids))
		}
		out = append(out, r)
	}
	return out, nil
}

// ParseASCII parses an ascii_runtime_measurements file, rebuilding the
// template data of the templates this package knows (so template digests
// can be recomputed from it).
func ParseASCII(data []byte) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		fail := func(format string, args ...any) ([]Record, error) {
			return out, fmt.Errorf("ima: ascii list: line %d: %s", line, fmt.Sprintf(format, args...))
		}
		parts := strings.Split(strings.TrimLeft(sc.Text(), " "), " ")
		if len(parts) < 3 {
			return fail("want \"<pcr> <digest> <template> <fields...>\", got %d words", len(parts))
		}
		pcr, err := strconv.ParseUint(parts[0], 10, 32)
		if err != nil {
			return fail("PCR %q is not a number", parts[0])
		}
		td, err := hex.DecodeString(parts[1])
		if err != nil || len(td) == 0 {
			return fail("template digest %q is not hex", parts[1])
		}
		r := Record{PCR: uint32(pcr), TemplateDigest: td, Template: parts[2]}
		ids := fieldIDs(r.Template)
		if ids == nil {
			return fail("template %q is not one this parser knows (ima, ima-ng, ima-sig)", r.Template)
		}
		vals := parts[3:]
		if len(vals) != len(ids) {
			return fail("template %q wants %d fields, got %d", r.Template, len(ids), len(vals))
		}
		for i, id := range ids {
			v := vals[i]
			var d []byte
			switch id {
			case FieldD, FieldSig:
				d, err = hex.DecodeString(v)
				if err != nil {
					return fail("field %s %q is not hex", id, v)
				}
				if len(d) == 0 {
					d = nil
				}
			case FieldDNG:
				algo, hx, found := strings.Cut(v, ":")
				if !found {
					algo, hx = "", v
				}
				dig, err := hex.DecodeString(hx)
				if err != nil {
					return fail("field d-ng %q: digest is not hex", v)
				}
				d = append(append([]byte(algo), ':', 0), dig...)
			case FieldN, FieldNNG:
				d = append([]byte(v), 0)
			}
			r.Fields = append(r.Fields, Field{ID: id, Data: d})
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("ima: ascii list: %w", err)
	}
	return out, nil
}
