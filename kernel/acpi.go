package kernel

import (
	"encoding/binary"
	"fmt"
)

// This file models the parts of drivers/acpi the TPM path uses: acpi_init
// (subsys_initcall) registering the acpi bus and adding the namespace
// devices, acpi_get_table for the TPM2 table (ACPICA checks its header), and
// the acpi bus's match by _HID.

// ACPI TPM2 start methods (include/acpi/actbl3.h).
const (
	TPM2StartACPI         = 2
	TPM2StartMMIO         = 6 // ACPI_TPM2_MEMORY_MAPPED: the FIFO driver's
	TPM2StartCRB          = 7 // ACPI_TPM2_COMMAND_BUFFER
	TPM2StartCRBACPI      = 8
	TPM2StartCRBARMSMC    = 11
	TPM2StartCRBARMFFA    = 15 // ACPI_TPM2_CRB_WITH_ARM_FFA
	tpm2TableSize         = 52 // sizeof(struct acpi_table_tpm2)
	tpm2CRBSMCSize        = 12 // sizeof(struct tpm2_crb_smc)
	tpm2CRBFFASize        = 12 // sizeof(struct tpm2_crb_ffa)
	acpiHeaderSize        = 36
	fwBug                 = "[Firmware Bug]: "
	acpiBusName           = "acpi"
	tpmCRBHID             = "MSFT0101"
	tpmCRBDriverName      = "tpm_crb"
	tpmCRBObject          = "drivers/char/tpm/tpm_crb.o"
	tpmCRBModule          = "tpm_crb"
	tpm2SignatureExpected = "TPM2"
)

// TPM2Table is what crb_acpi_add reads from the ACPI TPM2 table.
type TPM2Table struct {
	Length         uint32
	Revision       uint8
	PlatformClass  uint16
	ControlAddress uint64
	StartMethod    uint32
	// FF-A start method parameters (struct tpm2_crb_ffa), when present.
	FFAFlags, FFAAttributes uint8
	FFAPartitionID          uint16
	HasFFAParams            bool
	// Log area (revision 4 tables that carry one, after 12 bytes of start
	// method parameters): LAML and LASA, what tpm_read_log_acpi reads.
	LogAreaMinLength uint32
	LogAreaStart     uint64
	HasLogArea       bool
	raw              []byte
}

// TableError is a TPM2 table the kernel cannot use, with the reason.
type TableError struct{ Reason string }

func (e *TableError) Error() string { return "ACPI TPM2 table: " + e.Reason }

// ParseTPM2Table checks and decodes a TPM2 table the way acpi_get_table and
// crb_acpi_add do: the header must be whole and its length must fit the
// data and cover struct acpi_table_tpm2. It never panics; a table it
// rejects gives a *TableError. A bad checksum is reported in sumOK only
// (ACPICA warns and keeps the table).
func ParseTPM2Table(b []byte) (t TPM2Table, sumOK bool, err error) {
	if len(b) < acpiHeaderSize {
		return t, false, &TableError{fmt.Sprintf("%d bytes, shorter than the %d-byte ACPI header", len(b), acpiHeaderSize)}
	}
	if string(b[:4]) != tpm2SignatureExpected {
		return t, false, &TableError{fmt.Sprintf("signature %q, want \"TPM2\"", b[:4])}
	}
	t.Length = binary.LittleEndian.Uint32(b[4:])
	if t.Length < acpiHeaderSize || int64(t.Length) > int64(len(b)) {
		return t, false, &TableError{fmt.Sprintf("header length %d does not fit the %d bytes provided", t.Length, len(b))}
	}
	b = b[:t.Length]
	var sum byte
	for _, c := range b {
		sum += c
	}
	sumOK = sum == 0
	t.Revision = b[8]
	t.raw = b
	if t.Length < tpm2TableSize {
		return t, sumOK, &TableError{fmt.Sprintf("length %d, shorter than struct acpi_table_tpm2 (%d)", t.Length, tpm2TableSize)}
	}
	t.PlatformClass = binary.LittleEndian.Uint16(b[36:])
	t.ControlAddress = binary.LittleEndian.Uint64(b[40:])
	t.StartMethod = binary.LittleEndian.Uint32(b[48:])
	if t.StartMethod == TPM2StartCRBARMFFA && t.Length >= tpm2TableSize+tpm2CRBFFASize {
		t.FFAFlags, t.FFAAttributes = b[52], b[53]
		t.FFAPartitionID = binary.LittleEndian.Uint16(b[54:])
		t.HasFFAParams = true
	}
	if t.Length >= tpm2TableSize+12+4+8 {
		t.LogAreaMinLength = binary.LittleEndian.Uint32(b[64:])
		t.LogAreaStart = binary.LittleEndian.Uint64(b[68:])
		t.HasLogArea = true
	}
	return t, sumOK, nil
}

// ACPIDeviceData is the bus-specific part of a device on the acpi bus.
type ACPIDeviceData struct{ ACPIDevice }

type acpiDriverData struct{ ids []string }

func newACPIBus() *Bus {
	return &Bus{
		Name: acpiBusName,
		Match: func(dev *Device, drv *Driver) bool {
			ad, _ := dev.Data.(*ACPIDeviceData)
			dd, _ := drv.Data.(*acpiDriverData)
			if ad == nil || dd == nil {
				return false
			}
			for _, id := range dd.ids {
				if id == ad.HID {
					return true
				}
			}
			return false
		},
	}
}

// acpiInit is acpi_init (subsys_initcall): the acpi bus and its devices.
func acpiInit(k *Kernel) error {
	if err := k.BusRegister(k.drv.acpiBus); err != nil {
		return err
	}
	instances := map[string]int{} // acpi_device_bus_id->instance_ida per _HID
	for _, d := range k.spec.Platform.ACPIDevices {
		n := instances[d.HID]
		instances[d.HID] = n + 1
		dev := &Device{Name: d.Name(n), Bus: k.drv.acpiBus, Data: &ACPIDeviceData{d}}
		if err := k.DeviceAdd(dev); err != nil {
			return err
		}
	}
	return nil
}

// printable is ACPICA's acpi_tb_fix_string as acpi_tb_print_table_header
// uses it on the OEM ID, OEM table ID and creator ID: the field ends at its
// first NUL (printf's %.Ns stops there) and every other byte that is not
// printable becomes '?'. The caller pads with %-Ns.
func printable(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out = append(out, c)
	}
	return string(out)
}

// printACPITables prints the table list line for TPM2 as early boot does
// ("ACPI: TPM2 0x... 00004C (v04 ...)").
func (k *Kernel) printACPITables() {
	if tb, ok := k.spec.Platform.ACPITables["TPM2"]; ok && len(tb) >= acpiHeaderSize {
		k.printf("ACPI: TPM2 0x%016X %06X (v%02d %-6s %-8s %08X %-4s %08X)", uint64(0x00000000FFFF0000), binary.LittleEndian.Uint32(tb[4:]), tb[8],
			printable(tb[10:16]), printable(tb[16:24]), binary.LittleEndian.Uint32(tb[24:]), printable(tb[28:32]), binary.LittleEndian.Uint32(tb[32:]))
	}
}
