package verdict

import (
	"fmt"

	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kbuild"
)

// Config returns the model's configuration with every symbol the model
// knows set to its resolved value, so that the model's own defaults never
// stand in for what the real configuration says.
func Config(k *kbuild.Kconfig) *kernel.Config {
	c := kernel.NewConfig()
	for _, r := range k.All() {
		if !r.Set {
			continue
		}
		switch r.Value.Kind {
		case kbuild.KindTristate:
			c.Set(r.Name, tristate(r.Value.Tri))
		case kbuild.KindString:
			c.SetString(r.Name, r.Value.Str)
		case kbuild.KindInt, kbuild.KindHex:
			c.SetInt(r.Name, r.Value.Int)
		}
	}
	return c
}

// Order returns the link order in the model's form.
func Order(lo *kbuild.LinkOrder) (kernel.Order, error) {
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

// Patches returns the patch switches in the model's form.
func Patches(p kbuild.PatchFacts) kernel.Patches {
	return kernel.Patches{
		FFAInitRootfs:   p.FFAInitRootfs,
		CRBFFARegister:  p.CRBFFARegister,
		FFABusInFFAInit: p.FFABusInFFAInit,
	}
}

func tristate(t kbuild.Tristate) kernel.Tristate {
	switch t {
	case kbuild.Yes:
		return kernel.Y
	case kbuild.Module:
		return kernel.M
	}
	return kernel.N
}
