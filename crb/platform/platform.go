// Package platform assembles a ready machine for the TPM over FF-A path: a
// phys bus with normal-world RAM, the TPM partition's private secure RAM and
// the CRB window; an SPMC with the DEN0138 TPM partition registered; the
// CRB device; and a TPM engine (by default the go-tpm-tools simulator). It
// returns what the normal world needs: the FF-A conduit, a non-secure bus
// accessor, the CRB base and control area addresses, the partition ID, and
// the ACPI TPM2 table firmware would publish.
//
// The kernel model, the CLI and `ffatpm serve` build on it; the values in
// Defaults are part of its contract.
package platform

import (
	"fmt"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/engine"
	"github.com/ffatpm/ffatpm/crb/tpm2acpi"
	"github.com/ffatpm/ffatpm/crb/tpmsp"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/google/go-tpm/tpm2/transport"
)

// Default memory map.
const (
	DefaultNSRAMBase     uint64 = 0x4000_0000 // normal-world DRAM
	DefaultNSRAMSize     uint64 = 64 << 20
	DefaultSecureRAMBase uint64 = 0x0e00_0000 // the TPM partition's private memory
	DefaultSecureRAMSize uint64 = 2 << 20
	DefaultCRBBase       uint64 = 0x6000_0000 // CRB window, 5 x 4 KiB, non-secure MMIO
)

// Region names and owners on the bus.
const (
	RegionNSRAM     = "ns-dram"
	RegionSecureRAM = "tpm-sp-ram"
	RegionCRB       = "tpm-crb"
	OwnerNS         = "normal-world"
	OwnerTPMSP      = "tpm-sp"
)

// Config chooses the machine. The zero value is a complete default machine
// with the simulator as engine.
type Config struct {
	// Engine is the TPM behind the partition. Nil opens the go-tpm-tools
	// simulator (one per process; Close releases it).
	Engine transport.TPM
	// SimulatorSeed, when non-zero and Engine is nil, fixes the simulator's
	// hierarchy seeds so that keys are the same on every run.
	SimulatorSeed int64
	// PartitionID of the TPM service; default tpmsp.DefaultID (0x8001).
	PartitionID ffa.ID
	// CRBBase of the CRB window; default DefaultCRBBase.
	CRBBase uint64
	// ClosedLocalities the TPM refuses; nil means the crb default (4).
	ClosedLocalities []int
	// NoReq2 makes the partition DIRECT_REQ-only (Linux then uses REQ).
	NoReq2 bool
	// NoNotifications disables the DEN0138 notification feature.
	NoNotifications bool
	// FFAVersion of the SPMC; default v1.2.
	FFAVersion ffa.Version
	// VersionPolicy of the SPMC.
	VersionPolicy spmc.VersionPolicy
	// Endpoints are the normal-world FF-A endpoints; default one, ID 0.
	Endpoints []spmc.Endpoint
	// ExtraPartitions are registered with the SPMC next to the TPM service.
	ExtraPartitions []spmc.Partition
	// WrapHandler, when set, wraps the TPM partition's handler before it is
	// registered (crbtest's fault-injecting and broken partitions use it).
	WrapHandler func(spmc.Handler) spmc.Handler
}

// Platform is the assembled machine.
type Platform struct {
	Bus         *phys.Bus
	SPMC        *spmc.SPMC
	Device      *crb.Device
	Partition   *tpmsp.Partition
	Engine      transport.TPM
	CRBBase     uint64
	PartitionID ffa.ID

	closer  func() error
	noNotif bool
}

// New builds the machine.
func New(cfg Config) (*Platform, error) {
	p := &Platform{CRBBase: cfg.CRBBase, PartitionID: cfg.PartitionID, Engine: cfg.Engine, noNotif: cfg.NoNotifications}
	if p.CRBBase == 0 {
		p.CRBBase = DefaultCRBBase
	}
	if p.PartitionID == 0 {
		p.PartitionID = tpmsp.DefaultID
	}
	if p.Engine == nil {
		sim, err := engine.OpenSimulator(engine.SimulatorOptions{Seed: cfg.SimulatorSeed})
		if err != nil {
			return nil, fmt.Errorf("platform: %w", err)
		}
		p.Engine, p.closer = sim, sim.Close
	}
	fail := func(err error) (*Platform, error) {
		if p.closer != nil {
			_ = p.closer()
		}
		return nil, fmt.Errorf("platform: %w", err)
	}
	dev, err := crb.NewDevice(crb.DeviceConfig{Base: p.CRBBase, Closed: cfg.ClosedLocalities})
	if err != nil {
		return fail(err)
	}
	p.Device = dev
	p.Bus = phys.NewBus()
	if err := p.Bus.AddRAM(RegionNSRAM, OwnerNS, DefaultNSRAMBase, DefaultNSRAMSize, phys.NonSecure); err != nil {
		return fail(err)
	}
	if err := p.Bus.AddRAM(RegionSecureRAM, OwnerTPMSP, DefaultSecureRAMBase, DefaultSecureRAMSize, phys.Secure); err != nil {
		return fail(err)
	}
	if err := p.Bus.AddMMIO(RegionCRB, OwnerTPMSP, p.CRBBase, crb.WindowSize, phys.NonSecure, dev); err != nil {
		return fail(err)
	}
	part, err := tpmsp.New(tpmsp.Config{ID: p.PartitionID, Device: dev, Engine: p.Engine,
		NoReq2: cfg.NoReq2, NoNotifications: cfg.NoNotifications})
	if err != nil {
		return fail(err)
	}
	p.Partition = part
	tp := part.SPMCPartition()
	if cfg.WrapHandler != nil {
		tp.Handler = cfg.WrapHandler(tp.Handler)
	}
	parts := append([]spmc.Partition{tp}, cfg.ExtraPartitions...)
	s, err := spmc.New(spmc.Config{Version: cfg.FFAVersion, VersionPolicy: cfg.VersionPolicy, Bus: p.Bus,
		Endpoints: cfg.Endpoints, Partitions: parts})
	if err != nil {
		return fail(err)
	}
	p.SPMC = s
	return p, nil
}

// Conduit returns the first normal-world endpoint's FF-A conduit (the SMC
// instruction of the kernel).
func (p *Platform) Conduit() ffa.Conduit { return p.SPMC.NormalWorld() }

// NS returns the normal world's view of the bus.
func (p *Platform) NS() phys.Accessor { return p.Bus.Accessor(phys.NonSecure) }

// ControlArea returns the physical address of TPM_CRB_CTRL_REQ_0, the
// value of the ACPI TPM2 table's control area field.
func (p *Platform) ControlArea() uint64 { return p.Device.ControlArea() }

// TPM2Table returns the ACPI TPM2 table (revision 4, start method 15) that
// firmware publishes for this machine; flags bit 0 says whether the TPM
// service supports notifications.
func (p *Platform) TPM2Table() ([]byte, error) {
	var flags uint8
	if !p.noNotif {
		flags = tpm2acpi.FFAFlagNotifications
	}
	return tpm2acpi.Build(tpm2acpi.New(p.ControlArea(), uint16(p.PartitionID), flags))
}

// Close releases the engine if the platform opened it.
func (p *Platform) Close() error {
	if p.closer == nil {
		return nil
	}
	c := p.closer
	p.closer = nil
	return c()
}
