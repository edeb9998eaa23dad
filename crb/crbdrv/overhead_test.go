package crbdrv_test

import (
	"encoding/binary"
	"testing"

	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/platform"
)

// BenchmarkChainOverhead measures the FF-A + CRB path alone: the engine
// answers instantly with a canned PCR_Extend response.
func BenchmarkChainOverhead(b *testing.B) {
	rsp := make([]byte, 19)
	binary.BigEndian.PutUint16(rsp, 0x8002)
	binary.BigEndian.PutUint32(rsp[2:], 19)
	canned := engine.Func(func([]byte) ([]byte, error) { return rsp, nil })
	p, err := platform.New(platform.Config{Engine: canned})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea()})
	if err != nil {
		b.Fatal(err)
	}
	cmd := make([]byte, 65)
	binary.BigEndian.PutUint16(cmd, 0x8002)
	binary.BigEndian.PutUint32(cmd[2:], 65)
	binary.BigEndian.PutUint32(cmd[6:], 0x182)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := chip.Send(cmd); err != nil {
			b.Fatal(err)
		}
	}
}
