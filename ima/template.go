package ima

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"path"
	"strings"

	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// Template names (security/integrity/ima/ima_template.c builtin_templates).
const (
	TemplateIMA   = "ima"
	TemplateIMANG = "ima-ng"
	TemplateSig   = "ima-sig"
)

// Field identifiers (ima_template.c supported_fields).
const (
	FieldD   = "d"
	FieldN   = "n"
	FieldDNG = "d-ng"
	FieldNNG = "n-ng"
	FieldSig = "sig"
)

// EventNameLenMax is IMA_EVENT_NAME_LEN_MAX: the "n" field's limit and, plus
// one, the width its name is padded to in the "ima" template's digest.
const EventNameLenMax = 255

// Template is a template descriptor: its name and its fields in order.
type Template struct {
	Name   string
	Fields []string
}

// LookupTemplate returns one of the templates this package implements.
func LookupTemplate(name string) (Template, error) {
	switch name {
	case TemplateIMA:
		return Template{TemplateIMA, []string{FieldD, FieldN}}, nil
	case TemplateIMANG:
		return Template{TemplateIMANG, []string{FieldDNG, FieldNNG}}, nil
	case TemplateSig:
		return Template{TemplateSig, []string{FieldDNG, FieldNNG, FieldSig}}, nil
	}
	return Template{}, fmt.Errorf("ima: unknown template %q (want ima, ima-ng or ima-sig)", name)
}

// Event is what one measurement records in the template data.
type Event struct {
	// Name is the file name (or "boot_aggregate"/"boot_aggregate_late").
	Name string
	// Digest is the file digest in IMA's hash algorithm. For the "ima"
	// template it must be SHA-1. nil with Violation.
	Digest hashalg.Digest
	// Sig is the security.ima signature (ima-sig), possibly empty.
	Sig []byte
	// Violation records an integrity violation: the digest field is zeros
	// and the template digest is zero (Linux: ima_add_violation).
	Violation bool
}

// Field is one template field's data as Linux stores it.
type Field struct {
	ID   string
	Data []byte
}

// eventName applies ima_write_template_field_data's string rules: spaces
// become underscores and a NUL terminates the string.
func eventName(name string, limit bool) []byte {
	if limit && len(name) > EventNameLenMax {
		// Linux falls back to the dentry name, then truncates.
		name = path.Base(name)
		if len(name) > EventNameLenMax {
			name = name[:EventNameLenMax]
		}
	}
	b := make([]byte, len(name)+1)
	copy(b, name)
	for i := 0; i < len(name); i++ {
		if b[i] == ' ' {
			b[i] = '_'
		}
	}
	return b
}

// digestNG builds a d-ng field: "<algo>:" NUL digest. A violation has a
// zero digest of the algorithm's size.
func digestNG(d hashalg.Digest, violationAlg hashalg.Alg, violation bool) []byte {
	alg, dig := d.Alg, d.Digest
	if violation {
		alg, dig = violationAlg, make([]byte, violationAlg.Size())
	}
	b := make([]byte, 0, len(alg.String())+2+len(dig))
	b = append(b, alg.String()...)
	b = append(b, ':', 0)
	return append(b, dig...)
}

// BuildFields builds the template data for ev, as ima_alloc_init_template does.
// hashAlgo is IMA's hash algorithm (ima_hash=), used for violations.
func (t Template) BuildFields(ev Event, hashAlgo hashalg.Alg) ([]Field, error) {
	out := make([]Field, 0, len(t.Fields))
	for _, f := range t.Fields {
		var data []byte
		switch f {
		case FieldD:
			if ev.Violation {
				data = make([]byte, hashalg.SHA1.Size())
			} else {
				if ev.Digest.Alg != hashalg.SHA1 || len(ev.Digest.Digest) != 20 {
					return nil, fmt.Errorf("ima: template %q needs a SHA-1 digest, got %v", t.Name, ev.Digest.Alg)
				}
				data = append([]byte(nil), ev.Digest.Digest...)
			}
		case FieldN:
			data = eventName(ev.Name, true)
		case FieldDNG:
			if !ev.Violation && len(ev.Digest.Digest) != ev.Digest.Alg.Size() {
				return nil, fmt.Errorf("ima: %v digest of %q is %d bytes, want %d", ev.Digest.Alg, ev.Name, len(ev.Digest.Digest), ev.Digest.Alg.Size())
			}
			data = digestNG(ev.Digest, hashAlgo, ev.Violation)
		case FieldNNG:
			data = eventName(ev.Name, false)
		case FieldSig:
			data = append([]byte(nil), ev.Sig...)
		default:
			return nil, fmt.Errorf("ima: template %q: unsupported field %q", t.Name, f)
		}
		out = append(out, Field{ID: f, Data: data})
	}
	return out, nil
}

// TemplateDigest computes the template digest of fields with alg, as
// ima_calc_field_array_hash_tfm does: for "ima", the raw d field and the n
// field zero-padded to 256 bytes; for every other template each field as a
// little-endian u32 length followed by its data. For a bank Go cannot hash
// (SM3), Linux stores the SHA-1 digest zero-padded to the bank's size.
func TemplateDigest(template string, fields []Field, alg hashalg.Alg) []byte {
	if !alg.Available() {
		out := make([]byte, alg.Size())
		copy(out, TemplateDigest(template, fields, hashalg.SHA1))
		return out
	}
	h := alg.New()
	var l [4]byte
	for _, f := range fields {
		if template == TemplateIMA {
			if f.ID == FieldN {
				var buf [EventNameLenMax + 1]byte
				copy(buf[:], f.Data)
				h.Write(buf[:])
				continue
			}
			h.Write(f.Data)
			continue
		}
		binary.LittleEndian.PutUint32(l[:], uint32(len(f.Data)))
		h.Write(l[:])
		h.Write(f.Data)
	}
	return h.Sum(nil)
}

// TemplateDataLen is ima_template_entry.template_data_len: each field's
// length word plus its data.
func TemplateDataLen(fields []Field) int {
	n := 0
	for _, f := range fields {
		n += 4 + len(f.Data)
	}
	return n
}

// splitDigestNG parses a d-ng field into algorithm name and digest.
func splitDigestNG(data []byte) (algo string, digest []byte, err error) {
	i := bytes.IndexByte(data, ':')
	if i < 0 || i+1 >= len(data) || data[i+1] != 0 {
		return "", nil, fmt.Errorf("d-ng field is not \"<algo>:\\0<digest>\" (%d bytes)", len(data))
	}
	return string(data[:i]), data[i+2:], nil
}

// cString returns data up to its first NUL.
func cString(data []byte) string {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		data = data[:i]
	}
	return string(data)
}

// fieldText renders a field as the ASCII list shows it (IMA_SHOW_ASCII).
func fieldText(f Field) string {
	switch f.ID {
	case FieldDNG:
		algo, d, err := splitDigestNG(f.Data)
		if err != nil {
			return fmt.Sprintf("%x", f.Data)
		}
		var sb strings.Builder
		if algo != "" {
			sb.WriteString(algo)
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%x", d)
		return sb.String()
	case FieldN, FieldNNG:
		return cString(f.Data)
	default: // d, sig
		return fmt.Sprintf("%x", f.Data)
	}
}
