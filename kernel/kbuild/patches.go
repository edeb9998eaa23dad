package kbuild

import "fmt"

// PatchFacts says which of the model's patch switches a real kernel has
// (see kernel.Patches), and how each was decided.
type PatchFacts struct {
	// FFAInitRootfs: ffa_init is rootfs_initcall (0e0546eabcd6, v6.17).
	FFAInitRootfs bool `json:"ffa_init_rootfs"`
	// CRBFFARegister: built-in tpm_crb_ffa registers its driver from
	// tpm_crb_ffa_init() instead of an initcall (746d9e9f62a6, v6.17;
	// reverted by 677042afb97a).
	CRBFFARegister bool `json:"crb_ffa_register"`
	// FFABusInFFAInit: the FF-A bus is registered inside ffa_init (kernels
	// before the ffa-core/ffa-module split) instead of by arm_ffa_bus_init.
	FFABusInFFAInit bool `json:"ffa_bus_in_ffa_init"`
	// Exact lists the switches an input file decided (the others come from
	// the kernel version).
	Exact map[string]bool `json:"exact"`
	Facts []Fact          `json:"facts"`
}

// InferPatches decides the patch switches from an initcall table when there
// is one (exact), else from modules.builtin and the kernel version.
func InferPatches(kc *Kconfig, builtin *ModuleList, tab *InitcallTable) PatchFacts {
	p := PatchFacts{Exact: map[string]bool{}}
	ffa := kc.Tri("ARM_FFA_TRANSPORT")
	crbffa := kc.Tri("TCG_ARM_CRB_FFA")
	newer := kc.Version != "" && !versionLess(kc.Version, "6.17")
	add := func(subject, text string, pos Pos) {
		p.Facts = append(p.Facts, Fact{Kind: "patch", Subject: subject, Text: text, Pos: pos})
	}

	// ffa_init's level.
	switch {
	case ffa != Yes:
		add("ffa_init_rootfs", fmt.Sprintf("ARM_FFA_TRANSPORT=%s: ffa_init is not a built-in initcall, so its level does not matter", ffa), Pos{})
	case tab != nil:
		if e, _, ok := tab.Find("ffa_init"); ok {
			p.FFAInitRootfs = e.Level == "rootfs"
			p.Exact["ffa_init_rootfs"] = true
			add("ffa_init_rootfs", fmt.Sprintf("%s places ffa_init at %s (%s)", tab.Kind, e.Level.Name(), e.Symbol), e.Pos)
		}
	case kc.Version == "":
		add("ffa_init_rootfs", "no initcall table and no kernel version: ffa_init taken as device_initcall (before v6.17)", Pos{})
	default:
		p.FFAInitRootfs = newer
		add("ffa_init_rootfs", fmt.Sprintf("no initcall table: Linux %s has ffa_init as %s", kc.Version, map[bool]string{true: "rootfs_initcall (v6.17+, 0e0546eabcd6)", false: "device_initcall (before v6.17)"}[newer]), Pos{})
	}

	// tpm_crb_ffa registration.
	switch {
	case crbffa != Yes:
		add("crb_ffa_register", fmt.Sprintf("TCG_ARM_CRB_FFA=%s: the built-in registration path does not apply", crbffa), Pos{})
	case tab != nil:
		_, _, has := tab.Find("tpm_crb_ffa_driver_init")
		p.CRBFFARegister = !has
		p.Exact["crb_ffa_register"] = true
		if has {
			add("crb_ffa_register", fmt.Sprintf("%s has tpm_crb_ffa_driver_init: the driver registers from its initcall (no 746d9e9f62a6, or its revert 677042afb97a)", tab.Kind), Pos{File: tab.File})
		} else {
			add("crb_ffa_register", fmt.Sprintf("TCG_ARM_CRB_FFA=y but %s has no tpm_crb_ffa_driver_init: built-in tpm_crb_ffa registers from tpm_crb_ffa_init() (746d9e9f62a6)", tab.Kind), Pos{File: tab.File})
		}
	case kc.Version == "":
		add("crb_ffa_register", "no initcall table and no kernel version: taken as without 746d9e9f62a6 (tpm_crb_ffa registers from its own device initcall)", Pos{})
	default:
		p.CRBFFARegister = newer
		add("crb_ffa_register", fmt.Sprintf("no initcall table: Linux %s %s; a kernel with the revert 677042afb97a (2026) needs its System.map or vmlinux to tell", kc.Version,
			map[bool]string{true: "is v6.17 or later, so 746d9e9f62a6 is assumed present", false: "predates 746d9e9f62a6 (v6.17)"}[newer]), Pos{})
	}

	// FF-A bus registration.
	switch {
	case ffa == No:
		add("ffa_bus_in_ffa_init", "ARM_FFA_TRANSPORT=n: no FF-A bus", Pos{})
	case ffa == Yes && tab != nil:
		_, _, has := tab.Find("arm_ffa_bus_init")
		p.FFABusInFFAInit = !has
		p.Exact["ffa_bus_in_ffa_init"] = true
		add("ffa_bus_in_ffa_init", fmt.Sprintf("%s %s arm_ffa_bus_init", tab.Kind, map[bool]string{true: "has", false: "has no"}[has]), Pos{File: tab.File})
	case builtin != nil && ffa == Yes:
		core := builtin.Index("drivers/firmware/arm_ffa/ffa-core.o")
		mod := builtin.Index("drivers/firmware/arm_ffa/ffa-module.o")
		if mod >= 0 {
			p.FFABusInFFAInit = core < 0
			p.Exact["ffa_bus_in_ffa_init"] = true
			if core >= 0 {
				add("ffa_bus_in_ffa_init", fmt.Sprintf("%s lists ffa-core.ko: the bus has its own subsys_initcall (arm_ffa_bus_init)", builtin.File), builtin.Entries[core].Pos)
			} else {
				add("ffa_bus_in_ffa_init", fmt.Sprintf("%s lists ffa-module.ko but no ffa-core.ko: bus.o is linked into ffa-module, whose ffa_init registers the bus", builtin.File), builtin.Entries[mod].Pos)
			}
			break
		}
		fallthrough
	default:
		add("ffa_bus_in_ffa_init", "no file shows how the FF-A bus is registered: the model's default (arm_ffa_bus_init at subsys level) is used", Pos{})
	}
	return p
}
