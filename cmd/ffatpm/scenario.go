package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// A scenario is what a boot is made from, as the user writes it: a preset to
// start from, Kconfig values, link orders, patch switches and the IMA root of
// trust. The same fields are read from YAML or JSON files (docs/cli.md lists
// them) and set by boot's flags. A nil pointer or empty value means "keep what
// the preset (or the default scenario) says".
type scenario struct {
	Preset         string              `json:"preset,omitempty" yaml:"preset,omitempty"`
	Description    string              `json:"description,omitempty" yaml:"description,omitempty"`
	Kernel         string              `json:"kernel,omitempty" yaml:"kernel,omitempty"`
	Config         map[string]string   `json:"config,omitempty" yaml:"config,omitempty"`
	Order          map[string][]string `json:"order,omitempty" yaml:"order,omitempty"`
	FFAInitcall    string              `json:"ffa_initcall,omitempty" yaml:"ffa_initcall,omitempty"`
	CRBFFARegister *bool               `json:"crb_ffa_register,omitempty" yaml:"crb_ffa_register,omitempty"`
	CRBFFABugOn    *bool               `json:"crb_ffa_bug_on,omitempty" yaml:"crb_ffa_bug_on,omitempty"`
	FFABusInit     *bool               `json:"ffa_bus_in_ffa_init,omitempty" yaml:"ffa_bus_in_ffa_init,omitempty"`
	IMALateSync    *bool               `json:"ima_late_sync,omitempty" yaml:"ima_late_sync,omitempty"`
	IMALateRetry   *bool               `json:"ima_late_retry,omitempty" yaml:"ima_late_retry,omitempty"`
	RoT            string              `json:"rot,omitempty" yaml:"rot,omitempty"`
	Measure        string              `json:"measure,omitempty" yaml:"measure,omitempty"`
	Modprobe       []string            `json:"modprobe,omitempty" yaml:"modprobe,omitempty"`
	Expect         string              `json:"expect,omitempty" yaml:"expect,omitempty"`
}

// scenarioFields names every key a scenario file may hold, in the order
// docs/cli.md documents them.
var scenarioFields = [...]string{"preset", "description", "kernel", "config", "order", "ffa_initcall",
	"crb_ffa_register", "crb_ffa_bug_on", "ffa_bus_in_ffa_init", "ima_late_sync", "ima_late_retry", "rot", "measure", "modprobe", "expect"}

// maxScenarioSize bounds what parseScenario reads; real scenarios are a few
// hundred bytes, so 64 KiB is plenty.
const maxScenarioSize = 64 << 10

// parseScenario decodes a scenario file, YAML or JSON (JSON is detected by a
// leading '{'). Unknown keys, wrong types, duplicate keys and values outside
// their closed sets are errors that name the line. It checks syntax and
// closed sets only; names of initcalls and Kconfig symbols are checked against
// the model by resolve.
func parseScenario(data []byte) (*scenario, error) {
	if len(data) > maxScenarioSize {
		return nil, fmt.Errorf("file is %d bytes, more than the %d a scenario may have", len(data), maxScenarioSize)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		if err := checkJSON(trimmed); err != nil {
			return nil, err
		}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("file is empty")
		}
		return nil, fmt.Errorf("not valid YAML or JSON: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("line %d: a scenario file holds one document, found a second", extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, errors.New("file is empty")
		}
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: a scenario is a mapping of fields (%s), found %s", root.Line, strings.Join(scenarioFields[:], ", "), kindName(root))
	}
	s := &scenario{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: field names are plain words, found %s", k.Line, kindName(k))
		}
		if seen[k.Value] {
			return nil, fmt.Errorf("line %d: field %q given twice", k.Line, k.Value)
		}
		seen[k.Value] = true
		if err := s.setField(k.Value, v); err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", v.Line, k.Value, err)
		}
	}
	return s, nil
}

func (s *scenario) setField(key string, v *yaml.Node) error {
	switch key {
	case "preset":
		return scalarString(v, &s.Preset)
	case "description":
		return scalarString(v, &s.Description)
	case "kernel":
		return scalarString(v, &s.Kernel)
	case "config":
		m, err := stringMap(v)
		if err != nil {
			return err
		}
		for sym, val := range m {
			if err := checkSymbolName(sym); err != nil {
				return err
			}
			if val == "" {
				return fmt.Errorf("%s has an empty value (use y, m or n)", sym)
			}
		}
		s.Config = m
	case "order":
		if v.Kind != yaml.MappingNode {
			return fmt.Errorf("want a mapping of level: [initcall, ...], found %s", kindName(v))
		}
		s.Order = map[string][]string{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			lk, lv := v.Content[i], v.Content[i+1]
			var level string
			if err := scalarString(lk, &level); err != nil {
				return err
			}
			level = normalizeLevel(level)
			if _, ok := parseLevel(level); !ok {
				return fmt.Errorf("unknown initcall level %q (levels: %s)", level, strings.Join(levelNames(), ", "))
			}
			if _, dup := s.Order[level]; dup {
				return fmt.Errorf("level %q given twice", level)
			}
			names, err := stringList(lv)
			if err != nil {
				return fmt.Errorf("%s: %w", level, err)
			}
			if err := checkOrderNames(names); err != nil {
				return fmt.Errorf("%s: %w", level, err)
			}
			s.Order[level] = names
		}
	case "ffa_initcall":
		if err := scalarString(v, &s.FFAInitcall); err != nil {
			return err
		}
		return checkOneOf("ffa_initcall", s.FFAInitcall, ffaInitcallLevels)
	case "crb_ffa_register":
		return scalarBool(v, &s.CRBFFARegister)
	case "crb_ffa_bug_on":
		return scalarBool(v, &s.CRBFFABugOn)
	case "ffa_bus_in_ffa_init":
		return scalarBool(v, &s.FFABusInit)
	case "ima_late_sync":
		return scalarBool(v, &s.IMALateSync)
	case "ima_late_retry":
		return scalarBool(v, &s.IMALateRetry)
	case "rot":
		if err := scalarString(v, &s.RoT); err != nil {
			return err
		}
		return checkOneOf("rot", s.RoT, rootsOfTrust())
	case "measure":
		return scalarString(v, &s.Measure)
	case "modprobe":
		names, err := stringList(v)
		if err != nil {
			return err
		}
		s.Modprobe = names
	case "expect":
		if err := scalarString(v, &s.Expect); err != nil {
			return err
		}
		return checkOneOf("expect", s.Expect, verdictNames[:])
	default:
		return fmt.Errorf("unknown field (fields: %s)", strings.Join(scenarioFields[:], ", "))
	}
	return nil
}

// checkJSON reports the first JSON syntax error with its line and column,
// which the YAML parser would describe less clearly.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, err2 := dec.Token(); !errors.Is(err2, io.EOF) {
			off := dec.InputOffset()
			line, col := lineCol(data, off)
			return fmt.Errorf("line %d, column %d: unexpected data after the JSON object", line, col)
		}
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// Offset counts the bytes read, including the offending one.
		line, col := lineCol(data, se.Offset-1)
		return fmt.Errorf("line %d, column %d: invalid JSON: %s", line, col, se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("invalid JSON: the file ends inside the object")
	}
	return fmt.Errorf("invalid JSON: %s", err)
}

func lineCol(data []byte, off int64) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col = 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	default:
		return "nothing"
	}
}

func scalarString(v *yaml.Node, dst *string) error {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return fmt.Errorf("want a string, found %s", kindName(v))
	}
	*dst = v.Value
	return nil
}

func scalarBool(v *yaml.Node, dst **bool) error {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
		switch v.Value {
		case "true":
			t := true
			*dst = &t
			return nil
		case "false":
			f := false
			*dst = &f
			return nil
		}
	}
	return fmt.Errorf("want true or false, found %s", kindName(v))
}

func stringList(v *yaml.Node) ([]string, error) {
	if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
		// Also accept the flag form "a,b,c".
		return splitList(v.Value), nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("want a list of names, found %s", kindName(v))
	}
	out := make([]string, 0, len(v.Content))
	for _, it := range v.Content {
		var s string
		if err := scalarString(it, &s); err != nil {
			return nil, fmt.Errorf("list item on line %d: %w", it.Line, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func stringMap(v *yaml.Node) (map[string]string, error) {
	if v.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("want a mapping of SYMBOL: value, found %s", kindName(v))
	}
	m := map[string]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		var k, val string
		if err := scalarString(v.Content[i], &k); err != nil {
			return nil, err
		}
		if err := scalarString(v.Content[i+1], &val); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("%s given twice", k)
		}
		m[k] = val
	}
	return m, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func checkOneOf(what, v string, set []string) error {
	for _, s := range set {
		if v == s {
			return nil
		}
	}
	return fmt.Errorf("%q is not a valid %s (one of: %s)", v, what, strings.Join(set, ", "))
}

// checkSymbolName accepts Kconfig symbol names with or without CONFIG_.
func checkSymbolName(sym string) error {
	if sym == "" {
		return errors.New("empty Kconfig symbol name")
	}
	for _, c := range sym {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 'a' && c <= 'z') {
			return fmt.Errorf("%q is not a Kconfig symbol name", sym)
		}
	}
	return nil
}

func checkOrderNames(names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" {
			return errors.New("empty initcall name")
		}
		if seen[n] {
			return fmt.Errorf("initcall %q listed twice", n)
		}
		seen[n] = true
	}
	return nil
}

// marshalScenario writes s as YAML with its keys in documented order.
func marshalScenario(s *scenario) []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	_ = enc.Encode(s)
	_ = enc.Close()
	return b.Bytes()
}

// sortedKeys returns m's keys sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
