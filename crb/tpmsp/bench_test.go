package tpmsp

import (
	"testing"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc"
)

// BenchmarkPartitionCommand measures the partition alone for one Linux
// command: START(locality) request, START(command), START(locality)
// relinquish, with the register writes in between done directly.
func BenchmarkPartitionCommand(b *testing.B) {
	p := newPart(b, Config{})
	dev := p.Device()
	cmd := okEngineCmd()
	for i, c := range cmd {
		_ = dev.WriteMMIO(crb.DataBufferOffset+uint64(i), 1, uint64(c))
	}
	req := func(q, loc uint64) {
		r, _ := p.DirectReq2(spmc.Call{}, ffa.DirectReq2{Args: [14]uint64{uint64(crb.FuncStart), q, loc}})
		if crb.Status(r.Args[0]) != crb.StatusOK {
			b.Fatalf("START(%d,%d): %v", q, loc, crb.Status(r.Args[0]))
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = dev.WriteMMIO(uint64(crb.RegLocCtrl), 4, uint64(crb.LocCtrlRequestAccess))
		req(1, 0)
		_ = dev.WriteMMIO(uint64(crb.RegCtrlStart), 4, 1)
		req(0, 0)
		_ = dev.WriteMMIO(uint64(crb.RegLocCtrl), 4, uint64(crb.LocCtrlRelinquish))
		req(1, 0)
	}
}
