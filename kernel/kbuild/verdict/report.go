package verdict

import (
	"fmt"
	"io"
	"strings"

	"github.com/ffatpm/ffatpm/kernel/kbuild"
)

// WriteWhy writes the why section: the verdict of the modelled boot, the
// Kconfig symbols and link-order facts that decided it (each one checked by
// booting with it changed), the Kconfig values and link order the boot
// used with where each came from, and the smallest change that makes IMA
// find the TPM, checked by booting with it.
func (ex *Explanation) WriteWhy(w io.Writer, in *kbuild.Inputs) error {
	var b strings.Builder
	if ex.TPMAtIMA {
		fmt.Fprintf(&b, "verdict: IMA finds the TPM (%s)\n", ex.Detail)
	} else {
		fmt.Fprintf(&b, "verdict: IMA does not find the TPM (%s)\n", ex.Detail)
	}
	b.WriteString("decided by (each checked by booting the model with it changed):\n")
	if len(ex.Deciding) == 0 {
		b.WriteString("  no single Kconfig value or adjacent link-order pair changes the verdict on its own\n")
	}
	for _, d := range ex.Deciding {
		turn := "IMA would not find the TPM"
		if d.Flipped {
			turn = "IMA would find the TPM"
		}
		fmt.Fprintf(&b, "  - %s: %s\n    with %s, %s\n", d.Kind, d.Text, d.Flip, turn)
	}
	b.WriteString("kconfig used:\n")
	for _, r := range in.Kconfig.Decisive() {
		fmt.Fprintf(&b, "  %-19s %s  (%s)\n", r.Name, r.Value.Text(), r.Why)
	}
	fmt.Fprintf(&b, "  %s\n", in.Kconfig.CRBFFAReach())
	b.WriteString("link order used:\n")
	for _, l := range in.LinkOrder.Levels {
		fmt.Fprintf(&b, "  %-10s %s  [%s]\n", l.Level.Name()+":", strings.Join(l.Fns, ", "), l.How)
	}
	fmt.Fprintf(&b, "patch switches inferred: ffa_init_rootfs=%v crb_ffa_register=%v ffa_bus_in_ffa_init=%v\n",
		in.Patches.FFAInitRootfs, in.Patches.CRBFFARegister, in.Patches.FFABusInFFAInit)
	switch {
	case ex.TPMAtIMA:
	case len(ex.Fixes) > 0:
		fmt.Fprintf(&b, "smallest change that makes IMA find the TPM (checked by booting the model with it; %d boots in all):\n", ex.Boots)
		for _, f := range ex.Fixes {
			fmt.Fprintf(&b, "  - %s\n", f.Change)
			for _, e := range f.Effects {
				fmt.Fprintf(&b, "      and so %s\n", e)
			}
			if f.Checked.Detail != "" {
				fmt.Fprintf(&b, "      result: %s\n", f.Checked.Detail)
			}
		}
	default:
		fmt.Fprintf(&b, "smallest change: none in this kernel (%s; %d boots)\n", ex.NoFix, ex.Boots)
		if u := ex.Upgrade; u != nil {
			fmt.Fprintf(&b, "on a newer kernel: %s:\n", u.Why)
			switch {
			case u.Baseline.TPMAtIMA:
				fmt.Fprintf(&b, "  no further change needed (%s)\n", u.Baseline.Detail)
			case len(u.Fixes) == 0:
				fmt.Fprintf(&b, "  still no change of up to %d Kconfig symbols and patch switches works\n", MaxSize)
			}
			for _, f := range u.Fixes {
				fmt.Fprintf(&b, "  - %s\n", f.Change)
				for _, o := range f.Change.Kconfig {
					if s, ok := kbuild.KnownSymbol(o.Name); ok && s.New && s.Since == "" {
						fmt.Fprintf(&b, "      CONFIG_%s needs a kernel with %s (later than v%s)\n", o.Name, s.SinceNote, u.Version)
					}
				}
				for _, e := range f.Effects {
					fmt.Fprintf(&b, "      and so %s\n", e)
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
