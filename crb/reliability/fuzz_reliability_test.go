package reliability_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/google/go-tpm/tpm2"
)

// FuzzEngineResponse: the TPM engine behind the partition (a swtpm socket,
// a /dev/tpmrm0) answers arbitrary bytes. The partition, the CRB, the
// normal-world driver and go-tpm's decoding must cope: no panic, every
// failure a driver error or a go-tpm error, the call bounded in virtual
// time, and the CRB left in a state the next command handles.
func FuzzEngineResponse(f *testing.F) {
	ok := []byte{0x80, 0x01, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}
	f.Add(ok)
	f.Add(ok[:10])
	f.Add([]byte{0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x01})
	f.Add([]byte{0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rsp []byte) {
		eng := engine.Func(func([]byte) ([]byte, error) { return append([]byte(nil), rsp...), nil })
		p, err := platform.New(platform.Config{Engine: eng})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		clk := &crbdrv.VirtualClock{}
		chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea(), Clock: clk})
		if err != nil {
			t.Fatalf("open (no TPM command yet): %v", err)
		}
		for i := 0; i < 2; i++ {
			out, err := chip.Send(GetRandom8())
			var de *crbdrv.Error
			switch {
			case err != nil && !errors.As(err, &de):
				t.Fatalf("send %d: error %T %v is not a driver error", i, err, err)
			case err == nil && len(out) > chip.BufferSize():
				t.Fatalf("send %d: %d bytes from a %d-byte buffer", i, len(out), chip.BufferSize())
			}
			if err == nil {
				// go-tpm decodes whatever came back.
				_, _ = tpm2.GetRandom{BytesRequested: 8}.Execute(chip)
			}
		}
		if clk.Now() > 10*time.Minute {
			t.Fatalf("two commands took %v of virtual time", clk.Now())
		}
		if st := p.Device.Snapshot(0); st.Active >= crb.NumLocalities {
			t.Fatalf("active locality %d", st.Active)
		}
	})
}

// GetRandom8 is TPM2_GetRandom(8).
func GetRandom8() []byte {
	return []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8}
}
