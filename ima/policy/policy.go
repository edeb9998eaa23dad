package policy

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Action is a rule's action.
type Action int

// Actions, in ima_policy.c's token order.
const (
	Measure Action = iota + 1
	DontMeasure
	Appraise
	DontAppraise
	Audit
	Hash
	DontHash
)

func actionNames() [8]string {
	return [...]string{"", "measure", "dont_measure", "appraise", "dont_appraise", "audit", "hash", "dont_hash"}
}

func (a Action) String() string {
	if a > 0 && int(a) < len(actionNames()) {
		return actionNames()[a]
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// Func is the hook a measurement request comes from (enum ima_hooks).
type Func int

// Hooks, with the names the policy language uses.
const (
	FileCheck Func = iota + 1
	MmapCheck
	MmapCheckReqprot
	BprmCheck
	CredsCheck
	PostSetattr
	ModuleCheck
	FirmwareCheck
	KexecKernelCheck
	KexecInitramfsCheck
	PolicyCheck
	KexecCmdline
	KeyCheck
	CriticalData
	SetxattrCheck
)

func funcNames() [16]string {
	return [...]string{"", "FILE_CHECK", "MMAP_CHECK", "MMAP_CHECK_REQPROT", "BPRM_CHECK", "CREDS_CHECK",
		"POST_SETATTR", "MODULE_CHECK", "FIRMWARE_CHECK", "KEXEC_KERNEL_CHECK", "KEXEC_INITRAMFS_CHECK",
		"POLICY_CHECK", "KEXEC_CMDLINE", "KEY_CHECK", "CRITICAL_DATA", "SETXATTR_CHECK"}
}

func (f Func) String() string {
	if f > 0 && int(f) < len(funcNames()) {
		return funcNames()[f]
	}
	return fmt.Sprintf("func(%d)", int(f))
}

// ParseFunc accepts the policy language's func= values, including the
// legacy aliases PATH_CHECK and FILE_MMAP.
func ParseFunc(s string) (Func, error) {
	switch s {
	case "PATH_CHECK":
		return FileCheck, nil
	case "FILE_MMAP":
		return MmapCheck, nil
	case "POST_SETATTR":
		return 0, fmt.Errorf("func=%s is internal and not accepted in a policy", s)
	}
	for i, n := range funcNames() {
		if i > 0 && n == s {
			return Func(i), nil
		}
	}
	return 0, fmt.Errorf("unknown func %q", s)
}

// Mask is the access mask (MAY_* in include/linux/fs.h).
type Mask uint32

// Access bits.
const (
	MayExec   Mask = 0x1
	MayWrite  Mask = 0x2
	MayRead   Mask = 0x4
	MayAppend Mask = 0x8
)

func (m Mask) String() string {
	switch m {
	case MayExec:
		return "MAY_EXEC"
	case MayWrite:
		return "MAY_WRITE"
	case MayRead:
		return "MAY_READ"
	case MayAppend:
		return "MAY_APPEND"
	}
	return fmt.Sprintf("%#x", uint32(m))
}

func parseMask(s string) (Mask, error) {
	switch s {
	case "MAY_EXEC":
		return MayExec, nil
	case "MAY_WRITE":
		return MayWrite, nil
	case "MAY_READ":
		return MayRead, nil
	case "MAY_APPEND":
		return MayAppend, nil
	}
	return 0, fmt.Errorf("unknown mask %q (want MAY_EXEC, MAY_WRITE, MAY_READ or MAY_APPEND, optionally prefixed by ^)", s)
}

// Filesystem magic numbers (include/uapi/linux/magic.h) used by the
// built-in policies and the embedded file set.
const (
	ProcSuperMagic    uint32 = 0x9fa0
	SysfsMagic        uint32 = 0x62656572
	DebugfsMagic      uint32 = 0x64626720
	TmpfsMagic        uint32 = 0x01021994
	DevptsSuperMagic  uint32 = 0x1cd1
	BinfmtfsMagic     uint32 = 0x42494e4d
	SecurityfsMagic   uint32 = 0x73636673
	SelinuxMagic      uint32 = 0xf97cff8c
	SmackMagic        uint32 = 0x43415d53
	CgroupSuperMagic  uint32 = 0x27e0eb
	Cgroup2SuperMagic uint32 = 0x63677270
	NsfsMagic         uint32 = 0x6e736673
	EfivarfsMagic     uint32 = 0xde5e81e4
	RamfsMagic        uint32 = 0x858458f6
	Ext4SuperMagic    uint32 = 0xef53
)

// Op is an id condition's comparison.
type Op byte

// Comparisons for uid=, uid<, uid>.
const (
	OpEq Op = '='
	OpLt Op = '<'
	OpGt Op = '>'
)

// IDCond is a uid/euid/gid/egid/fowner/fgroup condition.
type IDCond struct {
	Op    Op
	Value uint32
}

func (c IDCond) match(v uint32) bool {
	switch c.Op {
	case OpLt:
		return v < c.Value
	case OpGt:
		return v > c.Value
	}
	return v == c.Value
}

// Rule is one policy rule. Pointer fields are nil when the rule does not
// set the condition.
type Rule struct {
	Action  Action
	Func    Func // 0: any
	Mask    Mask // 0: any
	InMask  bool // ^mask: any of the bits instead of exactly the mask
	FSMagic *uint32
	FSName  string
	FSUUID  string
	UID     *IDCond
	EUID    *IDCond
	GID     *IDCond
	EGID    *IDCond
	FOwner  *IDCond
	FGroup  *IDCond
	PCR     int // -1: not set
	// Template is the template for matching measurements ("" = default).
	Template string
	// Extra keeps appraise options (appraise_type=, appraise_flag=,
	// appraise_algos=) and permit_directio: accepted, not modelled.
	Extra []string
	// Line is the 1-based source line (0 for built-in rules).
	Line int
}

// Request describes one access the hooks ask the policy about.
type Request struct {
	Func    Func
	Mask    Mask
	UID     uint32
	EUID    uint32
	GID     uint32
	EGID    uint32
	FOwner  uint32
	FGroup  uint32
	FSMagic uint32
	FSName  string
	FSUUID  string
}

// Matches reports whether the rule's conditions hold for r
// (ima_match_rules).
func (ru *Rule) Matches(r Request) bool {
	if ru.Func != 0 && ru.Func != r.Func {
		return false
	}
	if ru.Mask != 0 {
		if ru.InMask {
			if ru.Mask&r.Mask == 0 {
				return false
			}
		} else if ru.Mask != r.Mask {
			return false
		}
	}
	if ru.FSMagic != nil && *ru.FSMagic != r.FSMagic {
		return false
	}
	if ru.FSName != "" && ru.FSName != r.FSName {
		return false
	}
	if ru.FSUUID != "" && !strings.EqualFold(ru.FSUUID, r.FSUUID) {
		return false
	}
	for _, c := range []struct {
		cond *IDCond
		v    uint32
	}{{ru.UID, r.UID}, {ru.EUID, r.EUID}, {ru.GID, r.GID}, {ru.EGID, r.EGID}, {ru.FOwner, r.FOwner}, {ru.FGroup, r.FGroup}} {
		if c.cond != nil && !c.cond.match(c.v) {
			return false
		}
	}
	return true
}

// String renders the rule in the policy language (as the policy file in
// securityfs shows it).
func (ru *Rule) String() string {
	var b strings.Builder
	b.WriteString(ru.Action.String())
	if ru.Func != 0 {
		fmt.Fprintf(&b, " func=%s", ru.Func)
	}
	if ru.Mask != 0 {
		b.WriteString(" mask=")
		if ru.InMask {
			b.WriteByte('^')
		}
		b.WriteString(ru.Mask.String())
	}
	if ru.FSMagic != nil {
		fmt.Fprintf(&b, " fsmagic=0x%x", *ru.FSMagic)
	}
	if ru.FSName != "" {
		fmt.Fprintf(&b, " fsname=%s", ru.FSName)
	}
	if ru.FSUUID != "" {
		fmt.Fprintf(&b, " fsuuid=%s", ru.FSUUID)
	}
	for _, c := range []struct {
		name string
		cond *IDCond
	}{{"uid", ru.UID}, {"euid", ru.EUID}, {"gid", ru.GID}, {"egid", ru.EGID}, {"fowner", ru.FOwner}, {"fgroup", ru.FGroup}} {
		if c.cond != nil {
			fmt.Fprintf(&b, " %s%c%d", c.name, c.cond.Op, c.cond.Value)
		}
	}
	if ru.PCR >= 0 {
		fmt.Fprintf(&b, " pcr=%d", ru.PCR)
	}
	if ru.Template != "" {
		fmt.Fprintf(&b, " template=%s", ru.Template)
	}
	for _, e := range ru.Extra {
		b.WriteString(" " + e)
	}
	return b.String()
}

// Policy is an ordered rule list.
type Policy struct {
	Rules []Rule
}

// Decision is the outcome of a measurement lookup.
type Decision struct {
	Measure  bool
	PCR      int    // -1: the default register
	Template string // "": the default template
	Rule     *Rule  // the deciding rule, nil if none matched
}

// Match returns the measurement decision for r: the first matching
// measure or dont_measure rule decides; with none, nothing is measured.
func (p *Policy) Match(r Request) Decision {
	if p == nil {
		return Decision{PCR: -1}
	}
	for i := range p.Rules {
		ru := &p.Rules[i]
		if ru.Action != Measure && ru.Action != DontMeasure {
			continue
		}
		if !ru.Matches(r) {
			continue
		}
		return Decision{Measure: ru.Action == Measure, PCR: ru.PCR, Template: ru.Template, Rule: ru}
	}
	return Decision{PCR: -1}
}

// String renders the policy, one rule per line.
func (p *Policy) String() string {
	var b strings.Builder
	for i := range p.Rules {
		b.WriteString(p.Rules[i].String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Error is a parse error naming the line and the offending token.
type Error struct {
	Line   int
	Token  string
	Reason string
}

func (e *Error) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("ima policy: line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("ima policy: line %d: %q: %s", e.Line, e.Token, e.Reason)
}

// maxRuleLen bounds one rule's length, as a write to the policy file is
// bounded by a page.
const maxRuleLen = 4096

// Parse parses a policy in the IMA policy language. Blank lines and lines
// starting with '#' are skipped.
func Parse(text string) (*Policy, error) {
	p := &Policy{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 1024), maxRuleLen)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		r, err := ParseRule(s, line)
		if err != nil {
			return nil, err
		}
		p.Rules = append(p.Rules, r)
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{Line: line + 1, Reason: "rule longer than 4096 bytes"}
	}
	return p, nil
}

// ParseRule parses one rule; line is used in errors.
func ParseRule(s string, line int) (Rule, error) {
	r := Rule{PCR: -1, Line: line}
	toks := strings.Fields(s)
	if len(toks) == 0 {
		return r, &Error{Line: line, Reason: "empty rule"}
	}
	for i, n := range actionNames() {
		if i > 0 && toks[0] == n {
			r.Action = Action(i)
		}
	}
	if r.Action == 0 {
		return r, &Error{Line: line, Token: toks[0], Reason: "a rule must start with an action (measure, dont_measure, appraise, dont_appraise, audit, hash, dont_hash)"}
	}
	seen := map[string]bool{}
	for _, tok := range toks[1:] {
		bad := func(reason string) (Rule, error) { return r, &Error{Line: line, Token: tok, Reason: reason} }
		if tok == "permit_directio" {
			r.Extra = append(r.Extra, tok)
			continue
		}
		k := strings.IndexAny(tok, "=<>")
		if k <= 0 {
			return bad("want key=value")
		}
		key, op, val := tok[:k], Op(tok[k]), tok[k+1:]
		if seen[key] {
			return bad("condition given twice")
		}
		seen[key] = true
		if val == "" {
			return bad("empty value")
		}
		if op != OpEq && !isIDKey(key) {
			return bad("only uid, euid, gid, egid, fowner and fgroup take < or >")
		}
		switch key {
		case "func":
			f, err := ParseFunc(val)
			if err != nil {
				return bad(err.Error())
			}
			r.Func = f
		case "mask":
			v := val
			if strings.HasPrefix(v, "^") {
				r.InMask, v = true, v[1:]
			}
			m, err := parseMask(v)
			if err != nil {
				return bad(err.Error())
			}
			r.Mask = m
		case "fsmagic":
			// kstrtoul base 16, which accepts a 0x prefix.
			m, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(val, "0x"), "0X"), 16, 32)
			if err != nil {
				return bad("fsmagic must be a hexadecimal 32-bit number")
			}
			mm := uint32(m)
			r.FSMagic = &mm
		case "fsname":
			r.FSName = val
		case "fsuuid":
			if !validUUID(val) {
				return bad("fsuuid must be a UUID (8-4-4-4-12 hex digits)")
			}
			r.FSUUID = val
		case "uid", "euid", "gid", "egid", "fowner", "fgroup":
			v, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return bad("id must be a decimal 32-bit number")
			}
			c := &IDCond{Op: op, Value: uint32(v)}
			switch key {
			case "uid":
				r.UID = c
			case "euid":
				r.EUID = c
			case "gid":
				r.GID = c
			case "egid":
				r.EGID = c
			case "fowner":
				r.FOwner = c
			case "fgroup":
				r.FGroup = c
			}
		case "pcr":
			if r.Action != Measure {
				return bad("pcr= is only valid on measure rules")
			}
			v, err := strconv.Atoi(val)
			if err != nil || v < 0 || v > 23 {
				return bad("pcr must be a register index 0..23")
			}
			r.PCR = v
		case "template":
			if r.Action != Measure {
				return bad("template= is only valid on measure rules")
			}
			switch val {
			case "ima", "ima-ng", "ima-sig":
			default:
				return bad("template must be ima, ima-ng or ima-sig")
			}
			r.Template = val
		case "appraise_type", "appraise_flag", "appraise_algos":
			if r.Action != Appraise {
				return bad(key + "= is only valid on appraise rules")
			}
			r.Extra = append(r.Extra, tok)
		case "obj_user", "obj_role", "obj_type", "subj_user", "subj_role", "subj_type":
			return bad("LSM label conditions are not modelled")
		case "keyrings", "label", "digest_type":
			return bad("this option is not modelled")
		default:
			return bad("unknown condition")
		}
	}
	return r, nil
}

func isIDKey(k string) bool {
	switch k {
	case "uid", "euid", "gid", "egid", "fowner", "fgroup":
		return true
	}
	return false
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
