package kernel

// ACPIDevice is a device the firmware's ACPI namespace (DSDT) describes.
type ACPIDevice struct {
	HID string // _HID, e.g. "MSFT0101" for a TPM 2.0 device
	UID int    // instance; the device is named "<HID>:<UID as %02x>"
}

// Platform is the machine the kernel boots on, as firmware hands it over:
// ACPI tables and namespace devices, and the ways into the secure world.
type Platform struct {
	Name string
	// ACPITables holds firmware tables by signature ("TPM2").
	ACPITables map[string][]byte
	// ACPIDevices lists the namespace devices acpi_init enumerates.
	ACPIDevices []ACPIDevice
}

// ACPIDeviceName returns Linux's name of an ACPI device: "MSFT0101:00".
func (d ACPIDevice) Name() string {
	const hex = "0123456789abcdef"
	u := d.UID & 0xff
	return d.HID + ":" + string([]byte{hex[u>>4], hex[u&15]})
}
