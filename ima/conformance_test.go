package ima_test

import (
	"testing"

	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imatest"
)

func TestRootOfTrustConformance(t *testing.T) {
	tpmInfo := imatest.RootOfTrustInfo{Registers: ima.TPMPCRs, Scratch: 16}
	t.Run("soft", func(t *testing.T) {
		imatest.RunRootOfTrust(t, tpmInfo, func(t *testing.T) ima.RootOfTrust {
			return imatest.NewSoftTPM(hashalg.SHA1, hashalg.SHA256)
		})
	})
	t.Run("rtmr", func(t *testing.T) {
		imatest.RunRootOfTrust(t, imatest.RootOfTrustInfo{Registers: ima.RTMRCount, Scratch: 3}, func(t *testing.T) ima.RootOfTrust {
			return ima.NewRTMR()
		})
	})
	for _, prebuilt := range []bool{true, false} {
		name := "tpm-simulator/gotpm"
		if prebuilt {
			name = "tpm-simulator/prebuilt"
		}
		t.Run(name, func(t *testing.T) {
			imatest.RunRootOfTrust(t, tpmInfo, func(t *testing.T) ima.RootOfTrust {
				r, err := ima.NewTPM(imatest.Simulator(t), ima.WithPrebuiltExtend(prebuilt))
				if err != nil {
					t.Fatal(err)
				}
				return r
			})
		})
	}
	t.Run("tpm-over-ffa-crb", func(t *testing.T) {
		imatest.RunRootOfTrust(t, tpmInfo, func(t *testing.T) ima.RootOfTrust {
			p, err := platform.New(platform.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea()})
			if err != nil {
				t.Fatal(err)
			}
			r, err := ima.NewTPM(chip)
			if err != nil {
				t.Fatal(err)
			}
			return r
		})
	})
}
