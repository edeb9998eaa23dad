package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseScenarioYAMLAndJSONAgree(t *testing.T) {
	yamlText := `
preset: seed-002-without-patches
config: {TCG_CRB: m, IMA: y}
order:
  device: [ffa_init, crb_acpi_driver_init]
  late_initcall_sync: init_ima
ffa_initcall: rootfs
crb_ffa_register: false
ima_late_sync: true
ima_late_retry: false
rot: rtmr
measure: files
modprobe: [tpm_crb]
expect: late
`
	jsonText := `{"preset":"seed-002-without-patches","config":{"TCG_CRB":"m","IMA":"y"},
"order":{"device":["ffa_init","crb_acpi_driver_init"],"late_sync":["init_ima"]},
"ffa_initcall":"rootfs","crb_ffa_register":false,"ima_late_sync":true,"ima_late_retry":false,
"rot":"rtmr","measure":"files","modprobe":["tpm_crb"],"expect":"late"}`
	a, err := parseScenario([]byte(yamlText))
	require.NoError(t, err)
	b, err := parseScenario([]byte(jsonText))
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Equal(t, []string{"init_ima"}, a.Order["late_sync"])
	require.NotNil(t, a.CRBFFARegister)
	assert.False(t, *a.CRBFFARegister)
}

func TestParseScenarioErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "file is empty"},
		{"comment only", "# nothing\n", "file is empty"},
		{"scalar", "hello", `line 1: a scenario is a mapping of fields`},
		{"unknown field", "rot: tpm\nfoo: 1", "line 2: foo: unknown field"},
		{"bad rot", "rot: tdx", `line 1: rot: "tdx" is not a valid rot (one of: tpm, rtmr)`},
		{"bad expect", "expect: ok", `"ok" is not a valid expect`},
		{"bad ffa level", "ffa_initcall: late", `"late" is not a valid ffa_initcall`},
		{"bool as string", `ima_late_sync: "true"`, ""},
		{"bool wrong", "ima_late_sync: 1", `want true or false, found "1"`},
		{"config list", "config: [a]", "want a mapping of SYMBOL: value, found a list"},
		{"config bad symbol", "config: {TCG-CRB: y}", `"TCG-CRB" is not a Kconfig symbol name`},
		{"config empty value", `config: {TCG_CRB: ""}`, "TCG_CRB has an empty value"},
		{"order dup level", "order: {device: [a], device_initcall: [b]}", `level "device" given twice`},
		{"order dup name", "order: {device: [a, a]}", `initcall "a" listed twice`},
		{"order nested", "order: {device: [[a]]}", "list item on line 1: want a string, found a list"},
		{"null preset", "preset: null", "want a string, found"},
		{"json trailing", `{"rot":"tpm"} {}`, "unexpected data after the JSON object"},
		{"json truncated", `{"rot":`, "invalid JSON"},
		{"too big", string(make([]byte, maxScenarioSize+1)), "more than the"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseScenario([]byte(tt.in))
			if tt.want == "" {
				assert.Error(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// FuzzParseScenario checks that any input gives a scenario or an error (no
// panic, no hang), that errors fit on one line, and that a parsed scenario
// survives a round trip through its YAML form.
func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(defaultScenarioYAML))
	f.Add([]byte("preset: v6.17\nconfig: {TCG_CRB: m}\norder:\n  device: [ffa_init]\ncrb_ffa_register: true\n"))
	f.Add([]byte(`{"order":{"late":["init_ima","deferred_probe_initcall"]},"rot":"rtmr"}`))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Add([]byte("order: {device: a,b,c}\nmodprobe: tpm_crb\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseScenario(data)
		if err != nil {
			if msg := err.Error(); oneLine(msg) == "" {
				t.Fatalf("empty error for %q", data)
			}
			return
		}
		again, err := parseScenario(marshalScenario(s))
		if err != nil {
			t.Fatalf("re-parsing the YAML form of %q: %v\n%s", data, err, marshalScenario(s))
		}
		normalize := func(s *scenario) {
			if len(s.Config) == 0 {
				s.Config = nil
			}
			if len(s.Order) == 0 {
				s.Order = nil
			}
			if len(s.Modprobe) == 0 {
				s.Modprobe = nil
			}
		}
		normalize(s)
		normalize(again)
		assert.Equal(t, s, again)
	})
}

// FuzzBootFlags feeds arbitrary arguments to "boot --show-scenario" (which
// resolves the scenario and stops before booting): every input ends with
// status 0, or 2 and one line on stderr; never a panic.
func FuzzBootFlags(f *testing.F) {
	f.Add("--order\x00device=ffa_init,crb_acpi_driver_init\x00--crb-ffa-register=false")
	f.Add("--config\x00TCG_CRB=m\x00--preset\x00seed-002-without-patches")
	f.Add("--ffa-initcall=rootfs\x00--ima-late-sync\x00--rot\x00rtmr")
	f.Add("--order\x00late_initcall_sync=init_ima\x00--order\x00late=x,x")
	f.Fuzz(func(t *testing.T, s string) {
		args := append([]string{"boot", "--show-scenario"}, strings.Split(s, "\x00")...)
		for _, a := range args[2:] {
			if strings.HasPrefix(strings.TrimLeft(a, "-"), "scenario") || strings.HasPrefix(strings.TrimLeft(a, "-"), "kernel") ||
				strings.HasPrefix(strings.TrimLeft(a, "-"), "modules") || strings.HasPrefix(strings.TrimLeft(a, "-"), "system-map") ||
				strings.HasPrefix(strings.TrimLeft(a, "-"), "vmlinux") || strings.HasPrefix(strings.TrimLeft(a, "-"), "h") {
				return // file-reading flags and help are covered elsewhere
			}
		}
		code, _, stderr := runCLI(t, args...)
		switch code {
		case exitOK:
		case exitUsage:
			if strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 || stderr == "" {
				t.Fatalf("usage error is not one line: %q", stderr)
			}
		default:
			t.Fatalf("status %d for %q: %s", code, args, stderr)
		}
	})
}
