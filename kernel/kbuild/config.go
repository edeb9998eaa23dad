package kbuild

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Tristate is a Kconfig tristate value. The order n < m < y is the one
// Kconfig's expression arithmetic uses (&& is min, || is max, ! is 2-x).
type Tristate uint8

// Tristate values.
const (
	No     Tristate = iota // n: not built
	Module                 // m: built as a loadable module
	Yes                    // y: built into vmlinux
)

func (t Tristate) String() string {
	switch t {
	case No:
		return "n"
	case Module:
		return "m"
	case Yes:
		return "y"
	}
	return fmt.Sprintf("Tristate(%d)", uint8(t))
}

// MarshalText writes y, m or n.
func (t Tristate) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// ParseTristate accepts y, m or n.
func ParseTristate(s string) (Tristate, error) {
	switch s {
	case "y":
		return Yes, nil
	case "m":
		return Module, nil
	case "n":
		return No, nil
	}
	return No, fmt.Errorf("not a tristate value %q (want y, m or n)", s)
}

// Kind says how a .config value was written.
type Kind uint8

// Value kinds.
const (
	KindTristate Kind = iota // y, m, n (also bool symbols)
	KindString               // "quoted"
	KindInt                  // decimal
	KindHex                  // 0x...
)

func (k Kind) String() string {
	switch k {
	case KindTristate:
		return "tristate"
	case KindString:
		return "string"
	case KindInt:
		return "int"
	case KindHex:
		return "hex"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Value is one symbol's value as written in a .config.
type Value struct {
	Kind Kind
	Tri  Tristate // KindTristate
	Str  string   // KindString: the unquoted text
	Int  int64    // KindInt, KindHex
}

// TriValue returns a tristate value.
func TriValue(t Tristate) Value { return Value{Kind: KindTristate, Tri: t} }

// StringValue returns a string value.
func StringValue(s string) Value { return Value{Kind: KindString, Str: s} }

// IntValue returns a decimal value.
func IntValue(n int64) Value { return Value{Kind: KindInt, Int: n} }

// String formats v as .config writes it (y, "text", 10, 0x1f).
func (v Value) String() string {
	switch v.Kind {
	case KindTristate:
		return v.Tri.String()
	case KindString:
		return quoteKconfig(v.Str)
	case KindInt:
		return strconv.FormatInt(v.Int, 10)
	case KindHex:
		return "0x" + strconv.FormatUint(uint64(v.Int), 16)
	}
	return "?"
}

// Text is the value without quotes (strings) or as String otherwise.
func (v Value) Text() string {
	if v.Kind == KindString {
		return v.Str
	}
	return v.String()
}

func quoteKconfig(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// Setting is one assignment read from a .config.
type Setting struct {
	Name  string // without the CONFIG_ prefix
	Value Value
	Pos   Pos
	// NotSet marks a "# CONFIG_X is not set" line (Value is n).
	NotSet bool
}

// Warning is something odd in an input that does not stop the load.
type Warning struct {
	Pos Pos    `json:"pos"`
	Msg string `json:"msg"`
}

func (w Warning) String() string { return w.Pos.String() + ": " + w.Msg }

// Config is a parsed kernel .config.
type Config struct {
	File string
	// Gzip reports that the file was gzip-compressed (/proc/config.gz).
	Gzip bool
	// Arch and Version come from the "# Linux/<arch> <version> Kernel
	// Configuration" header that conf_write puts at the top; empty if absent.
	Arch, Version string
	Warnings      []Warning

	settings map[string]Setting
	order    []string
}

// Lookup returns the assignment of symbol name (with or without the CONFIG_
// prefix) and whether the file has one.
func (c *Config) Lookup(name string) (Setting, bool) {
	if s, ok := c.settings[name]; ok {
		return s, true
	}
	s, ok := c.settings[strings.TrimPrefix(name, "CONFIG_")]
	return s, ok
}

// Names returns the assigned symbols in file order.
func (c *Config) Names() []string { return append([]string(nil), c.order...) }

// Len is the number of distinct symbols the file assigns.
func (c *Config) Len() int { return len(c.order) }

// maxConfigSize bounds what a gzip'd config may expand to (real ones are
// ~300 KiB; this stops a decompression bomb).
const maxConfigSize = 64 << 20

var headerRE = regexp.MustCompile(`^# Linux/([A-Za-z0-9_.-]+) (\S+) Kernel Configuration$`)

// isSymName reports whether s is a Kconfig symbol name (letters, digits, _).
func isSymName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// allDigits reports whether s is a non-empty run of decimal (or hex) digits.
func allDigits(s string, hex bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= '0' && c <= '9' || hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')
		if !ok {
			return false
		}
	}
	return true
}

// ReadConfigFile reads a .config or a gzip-compressed one (config.gz).
func ReadConfigFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig parses a kernel configuration as scripts/kconfig writes it.
// Data starting with the gzip magic is decompressed first (line numbers
// then count lines of the decompressed text). Every line must be empty, a
// comment, "# CONFIG_X is not set" or "CONFIG_X=value"; anything else is a
// *ParseError naming the file and line. A symbol assigned twice keeps the
// last value (as merge_config.sh and conf_read do) with a warning.
func ParseConfig(name string, data []byte) (*Config, error) {
	c := &Config{File: name, settings: map[string]Setting{}}
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		plain, err := gunzip(name, data)
		if err != nil {
			return nil, err
		}
		data = plain
		c.Gzip = true
	}
	if !utf8Printable(data) {
		// Strings may hold any byte, but a file with NULs is not a config.
		if i := bytes.IndexByte(data, 0); i >= 0 {
			return nil, lineErr(name, 1+bytes.Count(data[:i], []byte{'\n'}), "NUL byte in a text file: not a kernel .config (binary file?)")
		}
	}
	for i, raw := range splitLines(data) {
		ln := i + 1
		line := string(raw)
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			continue
		case strings.HasPrefix(t, "#"):
			if strings.HasPrefix(t, "# CONFIG_") && strings.HasSuffix(t, " is not set") {
				if sym := t[len("# CONFIG_") : len(t)-len(" is not set")]; isSymName(sym) {
					c.set(Setting{Name: sym, Value: TriValue(No), Pos: Pos{File: name, Line: ln}, NotSet: true})
					continue
				}
			}
			if c.Version == "" && strings.HasPrefix(t, "# Linux/") {
				if m := headerRE.FindStringSubmatch(t); m != nil {
					c.Arch, c.Version = m[1], m[2]
				}
			}
			continue
		case strings.HasPrefix(t, "CONFIG_"):
			eq := strings.IndexByte(t, '=')
			if eq < 0 {
				return nil, lineErr(name, ln, "%q has no '=': want CONFIG_NAME=value", clip(t))
			}
			sym := strings.TrimPrefix(t[:eq], "CONFIG_")
			if !isSymName(sym) {
				return nil, lineErr(name, ln, "bad symbol name %q (Kconfig names are letters, digits and _)", clip(t[:eq]))
			}
			v, err := parseConfigValue(t[eq+1:])
			if err != nil {
				return nil, lineErr(name, ln, "CONFIG_%s: %v", sym, err)
			}
			c.set(Setting{Name: sym, Value: v, Pos: Pos{File: name, Line: ln}})
		default:
			return nil, lineErr(name, ln, "unexpected text %q: want CONFIG_NAME=value, \"# CONFIG_NAME is not set\" or a # comment", clip(t))
		}
	}
	return c, nil
}

func (c *Config) set(s Setting) {
	if old, ok := c.settings[s.Name]; ok {
		c.Warnings = append(c.Warnings, Warning{Pos: s.Pos, Msg: fmt.Sprintf("CONFIG_%s set again (was %s at line %d); the last value wins", s.Name, old.Value, old.Pos.Line)})
	} else {
		c.order = append(c.order, s.Name)
	}
	c.settings[s.Name] = s
}

func parseConfigValue(s string) (Value, error) {
	switch {
	case s == "y" || s == "m" || s == "n":
		t, _ := ParseTristate(s)
		return TriValue(t), nil
	case strings.HasPrefix(s, `"`):
		return parseQuoted(s)
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") && allDigits(s[2:], true):
		u, err := strconv.ParseUint(s[2:], 16, 64)
		if err != nil {
			return Value{}, fmt.Errorf("hex value %s does not fit in 64 bits", clip(s))
		}
		return Value{Kind: KindHex, Int: int64(u)}, nil
	case allDigits(strings.TrimPrefix(s, "-"), false):
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return Value{}, fmt.Errorf("decimal value %s does not fit in 64 bits", clip(s))
		}
		return IntValue(n), nil
	case s == "":
		return Value{}, errors.New("empty value: want y, m, n, a quoted string or a number")
	}
	return Value{}, fmt.Errorf("malformed value %q: want y, m, n, a \"quoted string\", a decimal or a 0x hex number", clip(s))
}

// parseQuoted undoes conf_write's quoting: the value is in double quotes and
// only \" and \\ are escaped.
func parseQuoted(s string) (Value, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) {
				return Value{}, errors.New("string ends inside an escape: missing closing quote")
			}
			i++
			b.WriteByte(s[i])
		case '"':
			if rest := s[i+1:]; rest != "" {
				return Value{}, fmt.Errorf("text %q after the closing quote", clip(rest))
			}
			return StringValue(b.String()), nil
		default:
			b.WriteByte(s[i])
		}
	}
	return Value{}, errors.New("unterminated string: missing closing quote")
}

func gunzip(name string, data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, offErr(name, 0, "gzip header: %v", err)
	}
	zr.Multistream(false)
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, maxConfigSize+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fileErr(name, "gzip stream truncated after %d decompressed bytes (incomplete download or copy?)", n)
		}
		return nil, fileErr(name, "gzip: %v (after %d decompressed bytes)", err, n)
	}
	if n > maxConfigSize {
		return nil, fileErr(name, "decompresses to more than %d MiB: not a kernel config", maxConfigSize>>20)
	}
	return out.Bytes(), nil
}

func utf8Printable(b []byte) bool { return bytes.IndexByte(b, 0) < 0 }

// clip shortens s for an error message.
func clip(s string) string {
	const max = 60
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// WriteConfig writes settings in .config syntax, sorted by name. It is the
// inverse of ParseConfig for the lines it writes (used to show the smallest
// change as a config fragment and by round-trip tests).
func WriteConfig(w io.Writer, settings []Setting) error {
	s := append([]Setting(nil), settings...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Name < s[j].Name })
	for _, st := range s {
		var err error
		if st.Value.Kind == KindTristate && st.Value.Tri == No {
			_, err = fmt.Fprintf(w, "# CONFIG_%s is not set\n", st.Name)
		} else {
			_, err = fmt.Fprintf(w, "CONFIG_%s=%s\n", st.Name, st.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
