package kbuild

// Summary is what Load found, in a form for --json output.
type Summary struct {
	Version  string          `json:"version"`
	Files    []FileUse       `json:"files"`
	Kconfig  []SymbolSummary `json:"kconfig"`
	Reach    string          `json:"reachability"`
	Levels   []LevelOrder    `json:"link_order"`
	Absent   []string        `json:"absent_initcalls,omitempty"`
	Facts    []Fact          `json:"facts"`
	Patches  PatchFacts      `json:"patches"`
	Warnings []Warning       `json:"warnings,omitempty"`
}

// SymbolSummary is one resolved Kconfig symbol.
type SymbolSummary struct {
	Name    string `json:"name"`
	Value   string `json:"value"` // y, m, n, the string, the number; "" when unset
	Origin  Origin `json:"origin"`
	Decides bool   `json:"decides"`
	Pos     Pos    `json:"pos,omitzero"`
	Why     string `json:"why"`
}

// Summary returns the loaded facts for JSON output: every known symbol
// (the deciding ones marked), the link order with its facts, the patch
// switches and the warnings.
func (in *Inputs) Summary() Summary {
	s := Summary{Version: in.Version, Files: in.Files, Reach: in.Kconfig.CRBFFAReach(), Levels: in.LinkOrder.Levels,
		Absent: in.LinkOrder.Absent, Facts: in.LinkOrder.Facts, Patches: in.Patches, Warnings: in.Warnings}
	for _, r := range in.Kconfig.All() {
		sym, _ := KnownSymbol(r.Name)
		v := ""
		if r.Set {
			v = r.Value.Text()
		}
		s.Kconfig = append(s.Kconfig, SymbolSummary{Name: r.Name, Value: v, Origin: r.Origin, Decides: sym.Decides, Pos: r.Pos, Why: r.Why})
	}
	return s
}
