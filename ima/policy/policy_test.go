package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRules(t *testing.T) {
	tests := []struct {
		in   string
		want string // String() of the parsed rule
	}{
		{"measure func=BPRM_CHECK mask=MAY_EXEC", "measure func=BPRM_CHECK mask=MAY_EXEC"},
		{"measure func=FILE_CHECK mask=^MAY_READ euid=0", "measure func=FILE_CHECK mask=^MAY_READ euid=0"},
		{"dont_measure fsmagic=0x9fa0", "dont_measure fsmagic=0x9fa0"},
		{"dont_measure fsmagic=9fa0", "dont_measure fsmagic=0x9fa0"},
		{"measure func=PATH_CHECK", "measure func=FILE_CHECK"},
		{"measure func=FILE_MMAP mask=MAY_EXEC", "measure func=MMAP_CHECK mask=MAY_EXEC"},
		{"measure uid<1000 fowner>0", "measure uid<1000 fowner>0"},
		{"measure func=MODULE_CHECK pcr=11 template=ima-sig", "measure func=MODULE_CHECK pcr=11 template=ima-sig"},
		{"appraise func=MODULE_CHECK appraise_type=imasig", "appraise func=MODULE_CHECK appraise_type=imasig"},
		{"measure fsuuid=1b3f0a2e-6b64-4b51-9a1c-3b3b9e3b1f00", "measure fsuuid=1b3f0a2e-6b64-4b51-9a1c-3b3b9e3b1f00"},
		{"  measure   func=POLICY_CHECK  ", "measure func=POLICY_CHECK"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRule(tt.in, 1)
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.String())
			// The rendering parses back to the same rule.
			r2, err := ParseRule(r.String(), 1)
			require.NoError(t, err)
			assert.Equal(t, r, r2)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, token, reason string }{
		{"measur func=FILE_CHECK", "measur", "must start with an action"},
		{"measure func=FOO_CHECK", "func=FOO_CHECK", `unknown func "FOO_CHECK"`},
		{"measure mask=MAY_FLY", "mask=MAY_FLY", "unknown mask"},
		{"measure fsmagic=zz", "fsmagic=zz", "hexadecimal"},
		{"measure uid=-1", "uid=-1", "decimal"},
		{"measure func=FILE_CHECK func=BPRM_CHECK", "func=BPRM_CHECK", "given twice"},
		{"dont_measure pcr=11", "pcr=11", "only valid on measure"},
		{"measure pcr=24", "pcr=24", "0..23"},
		{"measure template=ima-buf", "template=ima-buf", "ima, ima-ng or ima-sig"},
		{"measure func<FILE_CHECK", "func<FILE_CHECK", "take < or >"},
		{"measure obj_type=foo_t", "obj_type=foo_t", "LSM"},
		{"measure bogus", "bogus", "key=value"},
		{"measure func=", "func=", "empty value"},
		{"measure fsuuid=xyz", "fsuuid=xyz", "UUID"},
		{"measure func=POST_SETATTR", "func=POST_SETATTR", "internal"},
		{"measure appraise_type=imasig", "appraise_type=imasig", "only valid on appraise"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse("# comment\n\n" + tt.in + "\n")
			require.Error(t, err)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 3, pe.Line)
			assert.Equal(t, tt.token, pe.Token)
			assert.Contains(t, err.Error(), tt.reason)
			assert.Contains(t, err.Error(), "line 3")
		})
	}
	_, err := Parse(strings.Repeat("x", 5000))
	assert.ErrorContains(t, err, "longer than 4096")
}

func TestTCBMatches(t *testing.T) {
	root := func(f Func, m Mask, magic uint32) Request {
		return Request{Func: f, Mask: m, FSMagic: magic}
	}
	user := func(f Func, m Mask) Request {
		return Request{Func: f, Mask: m, UID: 1000, EUID: 1000, FSMagic: Ext4SuperMagic}
	}
	tests := []struct {
		name    string
		req     Request
		tcb     bool
		origTCB bool
	}{
		{"exec", root(BprmCheck, MayExec, Ext4SuperMagic), true, true},
		{"exec by user", user(BprmCheck, MayExec), true, true},
		{"mmap exec", root(MmapCheck, MayExec, RamfsMagic), true, true},
		{"root read", root(FileCheck, MayRead, Ext4SuperMagic), true, true},
		{"root read+write", root(FileCheck, MayRead|MayWrite, Ext4SuperMagic), true, false},
		{"root write only", root(FileCheck, MayWrite, Ext4SuperMagic), false, false},
		{"user read", user(FileCheck, MayRead), false, false},
		{"module", root(ModuleCheck, 0, Ext4SuperMagic), true, true},
		{"firmware", root(FirmwareCheck, 0, Ext4SuperMagic), true, true},
		{"policy", root(PolicyCheck, 0, Ext4SuperMagic), true, false},
		{"proc", root(BprmCheck, MayExec, ProcSuperMagic), false, false},
		{"sysfs", root(FileCheck, MayRead, SysfsMagic), false, false},
		{"tmpfs", root(BprmCheck, MayExec, TmpfsMagic), false, false},
		{"securityfs", root(FileCheck, MayRead, SecurityfsMagic), false, false},
		{"kexec", root(KexecKernelCheck, 0, Ext4SuperMagic), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.tcb, TCB().Match(tt.req).Measure, "tcb")
			assert.Equal(t, tt.origTCB, OriginalTCB().Match(tt.req).Measure, "original_tcb")
		})
	}
}

// The tcb policy rendered in the policy language parses back to itself.
func TestBuiltinRoundTrip(t *testing.T) {
	for _, name := range []string{NameTCB, NameOriginalTCB} {
		p, err := Builtin(name)
		require.NoError(t, err)
		q, err := Parse(p.String())
		require.NoError(t, err)
		for i := range q.Rules {
			q.Rules[i].Line = 0
		}
		assert.Equal(t, p.Rules, q.Rules)
	}
	_, err := Builtin("appraise_tcb")
	assert.ErrorContains(t, err, "unknown built-in policy")
	assert.Contains(t, TCB().String(), "measure func=FILE_CHECK mask=^MAY_READ euid=0\n")
}

func TestFirstMatchDecides(t *testing.T) {
	p, err := Parse("dont_measure fsmagic=858458f6\nmeasure func=BPRM_CHECK pcr=11\nmeasure\n")
	require.NoError(t, err)
	d := p.Match(Request{Func: BprmCheck, Mask: MayExec, FSMagic: RamfsMagic})
	assert.False(t, d.Measure)
	assert.Equal(t, 1, d.Rule.Line)
	d = p.Match(Request{Func: BprmCheck, Mask: MayExec})
	assert.True(t, d.Measure)
	assert.Equal(t, 11, d.PCR)
	d = p.Match(Request{Func: FileCheck})
	assert.True(t, d.Measure)
	assert.Equal(t, -1, d.PCR)
	var nilPolicy *Policy
	assert.False(t, nilPolicy.Match(Request{Func: BprmCheck}).Measure)
}

func FuzzParse(f *testing.F) {
	f.Add(TCB().String())
	f.Add("measure func=FILE_CHECK mask=^MAY_READ uid<1000\n# c\ndont_measure fsmagic=9fa0")
	f.Add("appraise func=MODULE_CHECK appraise_type=imasig\nmeasure pcr=11 template=ima-sig")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			var pe *Error
			if !asError(err, &pe) {
				t.Fatalf("error is not *Error: %v", err)
			}
			return
		}
		// What parses renders to text that parses to the same rules.
		q, err := Parse(p.String())
		if err != nil {
			t.Fatalf("rendering %q does not parse: %v", p.String(), err)
		}
		if len(q.Rules) != len(p.Rules) {
			t.Fatalf("round trip changed the rule count")
		}
		for i := range p.Rules {
			if p.Rules[i].String() != q.Rules[i].String() {
				t.Fatalf("rule %d: %q != %q", i, p.Rules[i].String(), q.Rules[i].String())
			}
		}
		p.Match(Request{Func: FileCheck, Mask: MayRead})
	})
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}
