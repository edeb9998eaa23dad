package kernel

// PCRBank is one allocated PCR bank of a TPM chip.
type PCRBank struct {
	Alg  uint16 `json:"alg"`  // TPM_ALG_ID
	Name string `json:"name"` // "sha1", "sha256"
	Size int    `json:"size"` // digest size in bytes
}

// TPMChip is a registered TPM (struct tpm_chip): what tpm_default_chip()
// returns once tpm_chip_register has finished.
type TPMChip struct {
	Name   string // "tpm0"
	Device *Device
	At     Point     // where it became visible
	Banks  []PCRBank // allocated PCR banks
	k      *Kernel
	send   func(cmd []byte) ([]byte, error)
}

// Send transmits one TPM command through the driver that registered the
// chip (tpm_transmit), and so through the whole chain. It implements
// go-tpm's transport.TPM.
func (c *TPMChip) Send(cmd []byte) ([]byte, error) {
	if c.send == nil {
		return nil, ENODEV
	}
	return c.send(cmd)
}

// DefaultChip is tpm_default_chip(): the first registered chip, or nil.
func (k *Kernel) DefaultChip() *TPMChip {
	if len(k.chips) == 0 {
		return nil
	}
	return k.chips[0]
}
