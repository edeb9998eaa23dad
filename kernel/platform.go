package kernel

import (
	"fmt"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/ffa/phys"
)

// MemResource is a memory range an ACPI device's _CRS declares.
type MemResource struct {
	Base, Size uint64
}

// ACPIDevice is a device the firmware's ACPI namespace (DSDT) describes.
type ACPIDevice struct {
	HID       string // _HID, e.g. "MSFT0101" for a TPM 2.0 device
	UID       int    // _UID; Linux does not use it in the device name
	Resources []MemResource
}

// Name returns Linux's name of the ACPI device that is the instance-th
// (from 0) with its _HID: "MSFT0101:00". drivers/acpi/scan.c
// (acpi_device_set_name) takes the number from a per-_HID IDA
// (ida_alloc, from 0) and formats "%s:%02x"; _UID plays no part.
func (d ACPIDevice) Name(instance int) string { return fmt.Sprintf("%s:%02x", d.HID, instance) }

// Memory is the normal world's access to physical memory: what
// phys.Accessor offers. Mapped reports whether a range is backed by one
// region (what devm_ioremap_resource needs); phys.Accessor's Bus().Lookup
// answers it.
type Memory interface {
	Read(addr uint64, size int) (uint64, error)
	Write(addr uint64, size int, v uint64) error
	ReadBytes(addr uint64, p []byte) error
	WriteBytes(addr uint64, p []byte) error
}

type mapper interface{ Mapped(addr, size uint64) bool }

type busHolder interface{ Bus() *phys.Bus }

// Platform is the machine the kernel boots on, as firmware hands it over:
// ACPI tables and namespace devices, and the ways into the secure world.
type Platform struct {
	Name string
	// ACPITables holds firmware tables by signature ("TPM2").
	ACPITables map[string][]byte
	// ACPIDevices lists the namespace devices acpi_init enumerates.
	ACPIDevices []ACPIDevice
	// Conduit is the SMC conduit into the secure world (nil: the firmware
	// implements no SMCCC v1.2 FF-A interface).
	Conduit ffa.Conduit
	// Mem is the normal world's view of physical memory: the RX/TX buffers
	// and the CRB's MMIO window (a phys.Accessor for the NonSecure world).
	Mem Memory
	// RxTxBase is the Non-secure RAM the kernel uses for its FF-A TX buffer
	// (at RxTxBase) and RX buffer (right after it); room for two buffers of
	// the size FFA_FEATURES(FFA_RXTX_MAP) asks for.
	RxTxBase uint64
}
