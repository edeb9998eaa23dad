package imakernel_test

import (
	"bytes"
	"fmt"

	"github.com/google/go-tpm/tpm2"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/eventlog"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imakernel"
	"github.com/ffatpm/ffatpm/kernel"
)

// bootWholeChain is the boot "ffatpm boot" runs: a fresh machine (SPMC,
// DEN0138 TPM partition, CRB registers, the reference TPM simulator),
// firmware measuring itself into PCR 0..9, then the kernel preset with
// IMA's init_ima composed in. Every TPM command IMA sends goes through the
// kernel's tpm_crb driver, CRB MMIO and FF-A into the partition.
func bootWholeChain(preset string) (*imakernel.IMA, error) {
	m, err := platform.New(platform.Config{}) // opens the simulator (one per process)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if _, err := imakernel.MeasureFirmware(m.Engine, eventlog.Images{}); err != nil {
		return nil, err
	}
	table, err := m.TPM2Table()
	if err != nil {
		return nil, err
	}
	p, ok := kernel.LookupPreset(preset)
	if !ok {
		return nil, fmt.Errorf("no preset %q", preset)
	}
	spec := p.Spec(kernel.Platform{
		ACPITables:  map[string][]byte{"TPM2": table},
		ACPIDevices: []kernel.ACPIDevice{{HID: "MSFT0101", Resources: []kernel.MemResource{{Base: m.CRBBase, Size: crb.WindowSize}}}},
		Conduit:     m.Conduit(),
		Mem:         m.NS(),
		RxTxBase:    platform.DefaultNSRAMBase + 0x10_0000,
	})
	spec.Quiet = true
	x := imakernel.New(imakernel.Options{}) // the tcb policy, the TPM as root of trust
	x.Install(&spec)                        // after spec.Config is final
	if _, err := kernel.Boot(spec); err != nil {
		return nil, err
	}
	return x, x.Err()
}

// Example_wholeChain boots seed 002's kernel and v6.17 through the whole
// FF-A -> CRB -> TPM -> IMA chain and asks IMA what it found.
func Example_wholeChain() {
	for _, preset := range []string{"before-v6.17", "v6.17"} {
		x, err := bootWholeChain(preset)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: IMA saw a TPM: %v, TPM-bypass: %v, list entries: %d\n",
			preset, x.SawChip(), x.State().Bypass(), x.State().List().Len())
	}
	// Output:
	// before-v6.17: IMA saw a TPM: false, TPM-bypass: true, list entries: 2
	// v6.17: IMA saw a TPM: true, TPM-bypass: false, list entries: 2
}

// Example_goTPMOverChain runs go-tpm commands over the TPM chip the kernel
// registered: each one crosses tpm_crb, the CRB registers and an FF-A
// direct request into the TPM partition. PCR 10 read this way equals what
// IMA's measurement list replays to.
func Example_goTPMOverChain() {
	m, err := platform.New(platform.Config{})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	table, err := m.TPM2Table()
	if err != nil {
		panic(err)
	}
	p, _ := kernel.LookupPreset(kernel.DefaultPreset)
	spec := p.Spec(kernel.Platform{
		ACPITables:  map[string][]byte{"TPM2": table},
		ACPIDevices: []kernel.ACPIDevice{{HID: "MSFT0101", Resources: []kernel.MemResource{{Base: m.CRBBase, Size: crb.WindowSize}}}},
		Conduit:     m.Conduit(),
		Mem:         m.NS(),
		RxTxBase:    platform.DefaultNSRAMBase + 0x10_0000,
	})
	spec.Quiet = true
	var chip *kernel.TPMChip
	spec.Initcalls = []kernel.Initcall{{Name: "keep_chip", Level: kernel.LevelLateSync, Object: "example.o",
		Fn: func(k *kernel.Kernel) error { chip = k.DefaultChip(); return nil }}}
	x := imakernel.New(imakernel.Options{})
	x.Install(&spec)
	if _, err := kernel.Boot(spec); err != nil {
		panic(err)
	}

	sel := tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(10)}}}
	rsp, err := tpm2.PCRRead{PCRSelectionIn: sel}.Execute(chip)
	if err != nil {
		panic(err)
	}
	pcr10 := rsp.PCRValues.Digests[0].Buffer

	recs, err := ima.ParseBinary(mustBinary(x.State().List()), 20)
	if err != nil {
		panic(err)
	}
	replayed, err := ima.ReplayList(recs, hashalg.SHA1, hashalg.SHA256)
	if err != nil {
		panic(err)
	}
	fmt.Println("PCR 10 over the chain equals the list's replay:", bytes.Equal(pcr10, replayed[10]))
	// Output: PCR 10 over the chain equals the list's replay: true
}

func mustBinary(l *ima.List) []byte {
	var b bytes.Buffer
	if err := l.WriteBinary(&b, hashalg.SHA1); err != nil {
		panic(err)
	}
	return b.Bytes()
}
