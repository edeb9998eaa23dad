package kernel

// driverState holds the modelled drivers' static variables.
type driverState struct{}

// builtinInitcalls returns the initcalls of the code the model contains.
func (k *Kernel) builtinInitcalls() []Initcall {
	return []Initcall{
		{Name: "deferred_probe_initcall", Level: LevelLate, Object: "drivers/base/dd.o", Fn: deferredProbeInitcall},
	}
}
