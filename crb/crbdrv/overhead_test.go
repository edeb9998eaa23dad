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
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := chip.Send(cmd); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkFFAStartLocality measures one DEN0138 call through the FF-A
// client, the SPMC and the partition (a locality request already granted).
func BenchmarkFFAStartLocality(b *testing.B) {
	p, err := platform.New(platform.Config{Engine: engine.Func(func(c []byte) ([]byte, error) { return c, nil })})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	chip, err := crbdrv.Open(crbdrv.OpenConfig{Conduit: p.Conduit(), MMIO: p.NS(), ControlArea: p.ControlArea()})
	if err != nil {
		b.Fatal(err)
	}
	if err := chip.RequestLocality(0); err != nil {
		b.Fatal(err)
	}
	f := chip.FFA()
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, _, err := f.GetInterfaceVersion(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkMMIORead32 measures one non-secure 32-bit CRB register read
// through the phys bus.
func BenchmarkMMIORead32(b *testing.B) {
	p, err := platform.New(platform.Config{Engine: engine.Func(func(c []byte) ([]byte, error) { return c, nil })})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ns := p.NS()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := ns.Read(p.CRBBase+0x4C, 4); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}
