package kerneltest

import (
	"fmt"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/google/go-tpm/tpm2/transport"
)

// RxTxBase is where the kernel model puts its FF-A RX/TX buffers in the
// platform's normal-world RAM.
const RxTxBase = platform.DefaultNSRAMBase + 0x10_0000

// KernelPlatform converts an assembled machine into what the kernel boots
// on: the TPM2 table firmware publishes, the MSFT0101 device with the CRB
// window as its memory resource, the FF-A conduit and the normal world's
// view of memory.
func KernelPlatform(p *platform.Platform) (kernel.Platform, error) {
	tbl, err := p.TPM2Table()
	if err != nil {
		return kernel.Platform{}, fmt.Errorf("TPM2 table: %w", err)
	}
	return kernel.Platform{
		Name:        "arm64-ffa-crb",
		ACPITables:  map[string][]byte{"TPM2": tbl},
		ACPIDevices: []kernel.ACPIDevice{{HID: "MSFT0101", Resources: []kernel.MemResource{{Base: p.CRBBase, Size: crb.WindowSize}}}},
		Conduit:     p.Conduit(),
		Mem:         p.NS(),
		RxTxBase:    RxTxBase,
	}, nil
}

// NewMachineConfig builds the real secure-world model from a platform
// Config (a FakeTPM when cfg.Engine is nil).
func NewMachineConfig(cfg platform.Config) (*platform.Platform, kernel.Platform, error) {
	if cfg.Engine == nil {
		cfg.Engine = &FakeTPM{}
	}
	m, err := platform.New(cfg)
	if err != nil {
		return nil, kernel.Platform{}, err
	}
	kp, err := KernelPlatform(m)
	if err != nil {
		return nil, kernel.Platform{}, err
	}
	return m, kp, nil
}

// NewMachine builds the real secure-world model with eng as the TPM
// engine (a *FakeTPM when eng is nil) and returns it with its kernel
// Platform.
func NewMachine(eng transport.TPM) (*platform.Platform, kernel.Platform, error) {
	if eng == nil {
		eng = &FakeTPM{}
	}
	m, err := platform.New(platform.Config{Engine: eng})
	if err != nil {
		return nil, kernel.Platform{}, err
	}
	kp, err := KernelPlatform(m)
	if err != nil {
		return nil, kernel.Platform{}, err
	}
	return m, kp, nil
}

// IMAProbe is a stand-in for IMA's init_ima: it records whether
// tpm_default_chip() returned a chip when its slot ran, and prints IMA's
// bypass line as Linux does when there was none.
type IMAProbe struct {
	Ran     bool
	SawChip bool
	At      kernel.Point
}

// Initcall returns the stand-in as an initcall at the given level
// (late_initcall for the real init_ima).
func (p *IMAProbe) Initcall(level kernel.Level) kernel.Initcall {
	return kernel.Initcall{Name: "init_ima", Level: level, Object: "security/integrity/ima/ima_main.o", Symbol: "IMA",
		Fn: func(k *kernel.Kernel) error {
			p.Ran = true
			p.At = k.Current()
			p.SawChip = k.DefaultChip() != nil
			if !p.SawChip {
				k.Printf("ima: No TPM chip found, activating TPM-bypass!")
			}
			return nil
		}}
}
