package kbuild

import (
	"fmt"

	"github.com/ffatpm/ffatpm/kernel"
)

// KernelConfig returns the model's configuration with every symbol the
// model knows set to its resolved value, so that the model's own defaults
// never stand in for what the real configuration says.
func (k *Kconfig) KernelConfig() *kernel.Config {
	c := kernel.NewConfig()
	for _, r := range k.All() {
		if !r.Set {
			continue
		}
		switch r.Value.Kind {
		case KindTristate:
			c.Set(r.Name, kernel.Tristate(r.Value.Tri))
		case KindString:
			c.SetString(r.Name, r.Value.Str)
		case KindInt, KindHex:
			c.SetInt(r.Name, r.Value.Int)
		}
	}
	return c
}

// KernelOrder returns the link order in the model's form.
func (lo *LinkOrder) KernelOrder() (kernel.Order, error) {
	o := kernel.Order{}
	for _, l := range lo.Levels {
		kl, err := kernel.ParseLevel(string(l.Level))
		if err != nil {
			return nil, fmt.Errorf("level %q: %w", l.Level, err)
		}
		o.Set(kl, l.Fns...)
	}
	return o, nil
}

// KernelPatches returns the patch switches in the model's form.
func (p PatchFacts) KernelPatches() kernel.Patches {
	return kernel.Patches{
		FFAInitRootfs:   p.FFAInitRootfs,
		CRBFFARegister:  p.CRBFFARegister,
		FFABusInFFAInit: p.FFABusInFFAInit,
	}
}
