package crbdrv_test

import (
	"fmt"

	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/google/go-tpm/tpm2"
)

// Example shows go-tpm code running unchanged over the FF-A path:
// ffa -> spmc -> TPM partition -> CRB -> simulator.
func Example() {
	p, err := platform.New(platform.Config{SimulatorSeed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea()})
	if err != nil {
		fmt.Println(err)
		return
	}
	rnd, err := tpm2.GetRandom{BytesRequested: 8}.Execute(chip)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("random bytes:", len(rnd.RandomBytes.Buffer), "via REQ2:", chip.FFA().UsesReq2(), "ABI", chip.FFA().Version())
	// Output: random bytes: 8 via REQ2: true ABI 1.0
}
