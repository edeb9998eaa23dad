package crbdrv

import (
	"errors"
	"fmt"
	"time"

	"github.com/ffatpm/ffatpm/ffa"
)

// OpenConfig is what Open needs from the machine.
type OpenConfig struct {
	Conduit     ffa.Conduit // the normal world's SMC
	MMIO        MMIO        // the normal world's bus accessor
	ControlArea uint64      // from the ACPI TPM2 table
	Clock       Clock
	Idle        bool
	BusyTimeout time.Duration
	Log         LogFunc
}

// Open brings the TPM up the way a booted Linux has it: an ffa.Client
// negotiates FF-A v1.2, gets its ID and finds the TPM partition with
// FFA_PARTITION_INFO_GET_REGS; tpm_crb_ffa probes it; tpm_crb maps the CRB
// (Init). The result is a transport.TPM.
func Open(cfg OpenConfig) (*Chip, error) {
	if cfg.Conduit == nil || cfg.MMIO == nil {
		return nil, errors.New("crbdrv: OpenConfig needs Conduit and MMIO")
	}
	cl := ffa.NewClient(cfg.Conduit, ffa.ClientConfig{})
	if _, err := cl.Version(); err != nil {
		return nil, fmt.Errorf("crbdrv: FFA_VERSION: %w", err)
	}
	if _, err := cl.IDGet(); err != nil {
		return nil, fmt.Errorf("crbdrv: FFA_ID_GET: %w", err)
	}
	infos, err := cl.PartitionInfoGetRegs(ServiceUUID())
	if err != nil {
		return nil, fmt.Errorf("crbdrv: no TPM service partition: %w", err)
	}
	if len(infos) == 0 {
		return nil, errors.New("crbdrv: no TPM service partition")
	}
	f, err := NewFFA(FFAConfig{Messenger: cl, Partition: infos[0], Clock: cfg.Clock, BusyTimeout: cfg.BusyTimeout, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	if err := f.Probe(); err != nil {
		return nil, err
	}
	chip, err := NewChip(ChipConfig{MMIO: cfg.MMIO, ControlArea: cfg.ControlArea, FFA: f, Clock: f.cfg.Clock, Idle: cfg.Idle, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	if err := chip.Init(); err != nil {
		return nil, err
	}
	return chip, nil
}

// FFA returns the chip's tpm_crb_ffa driver.
func (c *Chip) FFA() *FFA { return c.cfg.FFA }
