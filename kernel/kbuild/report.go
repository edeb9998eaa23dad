package kbuild

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// WriteReport writes what Load found, for people: the files used, the
// deciding Kconfig symbols with their reasons, the reachability of
// tpm_crb_ffa from tpm_crb, the link order per level with how it was
// derived, the patch switches and the warnings. Paths are shown relative
// to base when they are under it (golden files stay machine-independent).
func (in *Inputs) WriteReport(w io.Writer, base string) error {
	rel := func(p string) string {
		if base == "" {
			return p
		}
		if r, err := filepath.Rel(base, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
		return p
	}
	relText := func(s string) string {
		if base == "" {
			return s
		}
		return strings.ReplaceAll(s, strings.TrimSuffix(base, "/")+"/", "")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "kernel: Linux %s\n", orPlaceholder(in.Version))
	b.WriteString("files:\n")
	for _, f := range in.Files {
		state := "used"
		if !f.Used {
			state = "skipped"
		}
		fmt.Fprintf(&b, "  %-15s %s (%s, %s)", f.Role, rel(f.Path), f.How, state)
		if f.Note != "" {
			fmt.Fprintf(&b, ": %s", relText(f.Note))
		}
		b.WriteByte('\n')
	}
	b.WriteString("kconfig (symbols that decide whether IMA finds the TPM):\n")
	for _, r := range in.Kconfig.Decisive() {
		fmt.Fprintf(&b, "  %-20s %-7s %s\n", r.Name, r.Value.Text(), relText(r.Why))
	}
	for _, n := range []string{"IMA_MEASURE_PCR_IDX", "IMA_DEFAULT_HASH", "IMA_DEFAULT_TEMPLATE"} {
		r := in.Kconfig.Get(n)
		v := "(none)"
		if r.Set {
			v = r.Value.Text()
		}
		fmt.Fprintf(&b, "  %-20s %-7s %s\n", n, v, relText(r.Why))
	}
	b.WriteString("reachability:\n")
	fmt.Fprintf(&b, "  %s\n", in.Kconfig.CRBFFAReach())
	b.WriteString("link order:\n")
	for _, l := range in.LinkOrder.Levels {
		fmt.Fprintf(&b, "  %-11s %s  [%s]\n", l.Level.Name()+":", strings.Join(l.Fns, ", "), l.How)
	}
	for _, a := range in.LinkOrder.Absent {
		fmt.Fprintf(&b, "  (built in but no initcall in the image: %s)\n", a)
	}
	b.WriteString("link-order facts:\n")
	for _, f := range in.LinkOrder.Facts {
		fmt.Fprintf(&b, "  - %s\n", relText(f.String()))
	}
	b.WriteString("patch switches:\n")
	fmt.Fprintf(&b, "  ffa_init_rootfs=%v crb_ffa_register=%v ffa_bus_in_ffa_init=%v\n", in.Patches.FFAInitRootfs, in.Patches.CRBFFARegister, in.Patches.FFABusInFFAInit)
	for _, f := range in.Patches.Facts {
		fmt.Fprintf(&b, "  - %s\n", relText(f.String()))
	}
	if len(in.Warnings) > 0 {
		b.WriteString("warnings:\n")
		for _, wn := range in.Warnings {
			fmt.Fprintf(&b, "  - %s\n", relText(wn.String()))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// CRBFFAReach explains whether built-in or modular tpm_crb reaches
// tpm_crb_ffa's functions (IS_REACHABLE(CONFIG_TCG_ARM_CRB_FFA) in
// drivers/char/tpm/tpm_crb_ffa.h) and what the stubs return.
func (k *Kconfig) CRBFFAReach() string {
	crb, ffa := k.Tri("TCG_CRB"), k.Tri("TCG_ARM_CRB_FFA")
	switch {
	case crb == No:
		return "TCG_CRB=n: no tpm_crb driver"
	case k.Get("TCG_ARM_CRB_FFA").Origin == NotInVersion:
		return fmt.Sprintf("Linux %s has no tpm_crb_ffa (drivers/char/tpm/tpm_crb_ffa.c and the FF-A start method 15 in tpm_crb came with TCG_ARM_CRB_FFA in v6.15): tpm_crb cannot use a TPM behind FF-A", orPlaceholder(k.Version))
	case Reachable(crb, ffa):
		return fmt.Sprintf("tpm_crb (%s) reaches tpm_crb_ffa (%s): IS_REACHABLE(CONFIG_TCG_ARM_CRB_FFA) is true, tpm_crb_ffa_init() is the real one", crb, ffa)
	case ffa == No:
		return fmt.Sprintf("tpm_crb (%s) cannot reach tpm_crb_ffa (TCG_ARM_CRB_FFA=n): tpm_crb_ffa.h's stubs are compiled in, and tpm_crb_ffa_init() returns 0 (success) without any FF-A call", crb)
	default:
		return fmt.Sprintf("tpm_crb (%s) cannot reach tpm_crb_ffa (%s): built-in code does not link against a module, so IS_REACHABLE(CONFIG_TCG_ARM_CRB_FFA) is false and tpm_crb_ffa.h's stubs are compiled in: tpm_crb_ffa_init() returns 0 (success) without any FF-A call", crb, ffa)
	}
}
