package spmc_test

import (
	"fmt"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
	"github.com/ffatpm/ffatpm/spmc"
)

// A firmware TPM-like partition behind the SPMC, discovered and called the
// way Linux's arm_ffa driver does it.
func Example() {
	bus := phys.NewBus()
	if err := bus.AddRAM("dram", "linux", 0x8000_0000, 1<<20, phys.NonSecure); err != nil {
		panic(err)
	}
	svc := ffa.MustParseUUID("17b862a4-1806-4faf-86b3-089a58353861")
	version := spmc.HandlerFuncs{Req2: func(_ spmc.Call, r ffa.DirectReq2) (ffa.DirectResp2, error) {
		// x4 = function; answer "OK, results returned" with version 1.0
		if r.Args[0] == 0x0F000001 {
			return ffa.DirectResp2{Args: [14]uint64{0x05000002, 0x00010000}}, nil
		}
		return ffa.DirectResp2{Args: [14]uint64{0x8E000001}}, nil
	}}
	s, err := spmc.New(spmc.Config{Bus: bus, Partitions: []spmc.Partition{{
		Name: "tpm", ID: 0x8001, UUIDs: []ffa.UUID{svc}, ExecContexts: 1, Handler: version,
		Properties: ffa.PropDirectReqRecv | ffa.PropDirectReq2Recv | ffa.PropAArch64,
	}}})
	if err != nil {
		panic(err)
	}

	cl := ffa.NewClient(s.NormalWorld(), ffa.ClientConfig{
		TX: 0x8000_0000, RX: 0x8001_0000, Mem: bus.Accessor(phys.NonSecure)})
	rep, err := cl.Init()
	if err != nil {
		panic(err)
	}
	for _, l := range rep.Log {
		fmt.Println(ffa.LogPrefix + l.Text)
	}
	for _, p := range rep.Partitions {
		fmt.Printf("partition %v uuid %v props %v\n", p.ID, p.UUID, p.Properties)
	}
	out, err := cl.DirectReq2(0x8001, svc, [14]uint64{0x0F000001})
	fmt.Printf("status %#x version %#x err %v\n", out[0], out[1], err)
	// Output:
	// ARM FF-A: Driver version 1.2
	// ARM FF-A: Firmware version 1.2 found
	// ARM FF-A: Notification setup failed -95, not enabled
	// partition 0x8001 uuid 17b862a4-1806-4faf-86b3-089a58353861 props direct-req-recv|aarch64|direct-req2-recv
	// status 0x5000002 version 0x10000 err <nil>
}
