package kernel_test

import (
	"fmt"

	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
)

// Boot seed 002's kernel (no fixes, seed 002's link order) with a stand-in
// for IMA's init_ima, and see where the TPM chip was registered.
func ExampleBoot() {
	p, _ := kernel.LookupPreset("before-v6.17")
	_, pl := kerneltest.NewFastWorld(nil) // or kerneltest.NewMachine for the full SPMC/CRB models
	spec := p.Spec(pl)
	ima := &kerneltest.IMAProbe{}
	spec.Initcalls = []kernel.Initcall{ima.Initcall(kernel.LevelLate)}
	res, err := kernel.Boot(spec)
	if err != nil {
		panic(err)
	}
	fmt.Println("init_ima saw a TPM:", ima.SawChip)
	fmt.Println("tpm0 registered in", res.Chip.At.Initcall, "at level", res.Chip.At.Level)
	d := res.Deferred[0]
	fmt.Println("deferred:", d.Device, "first in", d.First.Initcall, "bound in", d.Resolved.Initcall)
	// Output:
	// init_ima saw a TPM: false
	// tpm0 registered in deferred_probe_initcall at level late
	// deferred: MSFT0101:00 first in crb_acpi_driver_init bound in deferred_probe_initcall
}

// The TPM chip a boot registered is a go-tpm transport: commands go
// through tpm_crb, CRB MMIO and FF-A into the TPM partition.
func ExampleTPMChip_Send() {
	p, _ := kernel.LookupPreset(kernel.DefaultPreset)
	_, pl := kerneltest.NewFastWorld(nil)
	var chip *kernel.TPMChip
	spec := p.Spec(pl)
	spec.Initcalls = []kernel.Initcall{{Name: "grab_chip", Level: kernel.LevelLate, Object: "security/x.o",
		Fn: func(k *kernel.Kernel) error { chip = k.DefaultChip(); return nil }}}
	if _, err := kernel.Boot(spec); err != nil {
		panic(err)
	}
	// TPM2_SelfTest(fullTest=YES), raw.
	rsp, err := chip.Send([]byte{0x80, 0x01, 0, 0, 0, 11, 0, 0, 0x01, 0x43, 1})
	fmt.Printf("%x %v\n", rsp, err)
	// Output:
	// 80010000000a00000000 <nil>
}
