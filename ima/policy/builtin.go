package policy

// Built-in policy names accepted by ima_policy= on the kernel command line.
const (
	NameTCB         = "tcb"
	NameOriginalTCB = "original_tcb"
)

func fsmagic(m uint32) *uint32 { return &m }

func eq(v uint32) *IDCond { return &IDCond{Op: OpEq, Value: v} }

// dontMeasureRules is ima_policy.c's dont_measure_rules: pseudo and
// in-memory filesystems are never measured.
func dontMeasureRules() []Rule {
	magics := []uint32{ProcSuperMagic, SysfsMagic, DebugfsMagic, TmpfsMagic, DevptsSuperMagic,
		BinfmtfsMagic, SecurityfsMagic, SelinuxMagic, SmackMagic, CgroupSuperMagic,
		Cgroup2SuperMagic, NsfsMagic, EfivarfsMagic}
	out := make([]Rule, len(magics))
	for i, m := range magics {
		out[i] = Rule{Action: DontMeasure, FSMagic: fsmagic(m), PCR: -1}
	}
	return out
}

// TCB returns the policy ima_policy=tcb installs: dont_measure_rules then
// default_measurement_rules (executables, mmapped code, files root reads
// or opens as root, modules, firmware and policies).
func TCB() *Policy {
	rules := dontMeasureRules()
	rules = append(rules,
		Rule{Action: Measure, Func: MmapCheck, Mask: MayExec, PCR: -1},
		Rule{Action: Measure, Func: BprmCheck, Mask: MayExec, PCR: -1},
		Rule{Action: Measure, Func: FileCheck, Mask: MayRead, InMask: true, EUID: eq(0), PCR: -1},
		Rule{Action: Measure, Func: FileCheck, Mask: MayRead, InMask: true, UID: eq(0), PCR: -1},
		Rule{Action: Measure, Func: ModuleCheck, PCR: -1},
		Rule{Action: Measure, Func: FirmwareCheck, PCR: -1},
		Rule{Action: Measure, Func: PolicyCheck, PCR: -1},
	)
	return &Policy{Rules: rules}
}

// OriginalTCB returns ima_policy=original_tcb: like TCB, but FILE_CHECK
// matches exactly MAY_READ with uid 0 only (original_measurement_rules).
func OriginalTCB() *Policy {
	rules := dontMeasureRules()
	rules = append(rules,
		Rule{Action: Measure, Func: MmapCheck, Mask: MayExec, PCR: -1},
		Rule{Action: Measure, Func: BprmCheck, Mask: MayExec, PCR: -1},
		Rule{Action: Measure, Func: FileCheck, Mask: MayRead, UID: eq(0), PCR: -1},
		Rule{Action: Measure, Func: ModuleCheck, PCR: -1},
		Rule{Action: Measure, Func: FirmwareCheck, PCR: -1},
	)
	return &Policy{Rules: rules}
}

// Builtin returns the built-in policy for an ima_policy= name.
func Builtin(name string) (*Policy, error) {
	switch name {
	case NameTCB:
		return TCB(), nil
	case NameOriginalTCB:
		return OriginalTCB(), nil
	}
	return nil, &Error{Token: name, Reason: "unknown built-in policy (want tcb or original_tcb)"}
}
