package crbdrv

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/ffa"
)

// Messenger sends FF-A direct requests: the msg_ops the Linux FF-A bus gives
// a driver (sync_send_receive, sync_send_receive2). *ffa.Client implements
// it.
type Messenger interface {
	DirectReq(dst ffa.ID, is64 bool, args [5]uint64) ([5]uint64, error)
	DirectReq2(dst ffa.ID, u ffa.UUID, args [14]uint64) ([14]uint64, error)
}

// LogFunc receives the driver's log lines with their kernel level
// ("info", "warn", "err", "dbg").
type LogFunc func(level, msg string)

// DefaultBusyTimeout is tpm_crb_ffa's busy_timeout_ms module parameter
// default.
const DefaultBusyTimeout = 2000 * time.Millisecond

// busyPoll is the sleep between BUSY retries (usleep_range(50, 100): the
// model sleeps the upper bound).
const busyPoll = 100 * time.Microsecond

// FFAConfig describes the TPM partition as the FF-A bus presents it and the
// driver's parameters.
type FFAConfig struct {
	Messenger Messenger
	// Partition is the TPM service's descriptor (ID and properties): REQ2
	// is used when it has PropDirectReq2Recv and PropAArch64; 32-bit SMCs when it lacks
	// PropAArch64 (mode_32bit_set).
	Partition ffa.PartitionInfo
	Clock     Clock
	// BusyTimeout is busy_timeout_ms; zero means DefaultBusyTimeout.
	BusyTimeout time.Duration
	Log         LogFunc
}

// FFA is the tpm_crb_ffa driver bound to one TPM partition.
type FFA struct {
	cfg     FFAConfig
	uuid    ffa.UUID
	mu      sync.Mutex // msg_data_lock
	version crb.InterfaceVersion
}

// NewFFA returns the driver state for a partition; call Probe next.
func NewFFA(cfg FFAConfig) (*FFA, error) {
	if cfg.Messenger == nil {
		return nil, errors.New("crbdrv: FFAConfig.Messenger is nil")
	}
	if cfg.Clock == nil {
		cfg.Clock = &VirtualClock{}
	}
	if cfg.BusyTimeout == 0 {
		cfg.BusyTimeout = DefaultBusyTimeout
	}
	return &FFA{cfg: cfg, uuid: ServiceUUID()}, nil
}

func (f *FFA) logf(level, format string, a ...any) {
	if f.cfg.Log != nil {
		f.cfg.Log(level, fmt.Sprintf(format, a...))
	}
}

// UsesReq2 reports whether requests go out as DIRECT_REQ2: Linux's
// ffa_partition_supports_direct_req2_recv (include/linux/arm_ffa.h) wants
// the DIRECT_REQ2 receive property and a partition that is not in 32-bit
// mode (tpm_crb_ffa_probe sets mode_32bit when PropAArch64 is clear).
func (f *FFA) UsesReq2() bool {
	p := f.cfg.Partition.Properties
	return p.Has(ffa.PropDirectReq2Recv) && p.Has(ffa.PropAArch64)
}

// PartitionID returns the TPM partition's ID.
func (f *FFA) PartitionID() ffa.ID { return f.cfg.Partition.ID }

// Version returns the interface version read at probe.
func (f *FFA) Version() crb.InterfaceVersion {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.version
}

// Probe is tpm_crb_ffa_probe: the partition must take direct requests; the
// interface version must have major 1 ("Incompatible ABI version"
// otherwise). A failure returns -EINVAL as Linux does; afterwards Linux's
// tpm_crb_ffa_init reports -ENODEV.
func (f *FFA) Probe() error {
	props := f.cfg.Partition.Properties
	if !props.Has(ffa.PropDirectReqRecv) && !props.Has(ffa.PropDirectReq2Recv) {
		f.logf("warn", "partition doesn't support direct message receive.")
		return &Error{Op: "tpm_crb_ffa_probe", Errno: -crb.EINVAL}
	}
	major, minor, err := f.GetInterfaceVersion()
	if err != nil {
		f.logf("err", "failed to get crb interface version. rc:%d", Errno(err))
		return &Error{Op: "tpm_crb_ffa_probe", Errno: -crb.EINVAL, Err: err}
	}
	f.logf("info", "ABI version %d.%d", major, minor)
	if major != 1 {
		f.logf("warn", "Incompatible ABI version")
		return &Error{Op: "tpm_crb_ffa_probe", Errno: -crb.EINVAL,
			Err: fmt.Errorf("interface version %d.%d, want major 1", major, minor)}
	}
	f.mu.Lock()
	f.version = crb.InterfaceVersion(uint32(major)<<16 | uint32(minor))
	f.mu.Unlock()
	return nil
}

// GetInterfaceVersion is tpm_crb_ffa_get_interface_version.
func (f *FFA) GetInterfaceVersion() (major, minor uint16, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, err := f.sendReceive("tpm_crb_ffa_get_interface_version", crb.FuncGetInterfaceVersion, 0, 0, 0)
	if err != nil {
		return 0, 0, err
	}
	v := crb.InterfaceVersion(uint32(res))
	return v.Major(), v.Minor(), nil
}

// Start is tpm_crb_ffa_start(request_type, locality).
func (f *FFA) Start(q crb.Qualifier, locality int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.sendReceive("tpm_crb_ffa_start", crb.FuncStart, uint64(q), uint64(locality), 0)
	return err
}

// Call sends any DEN0138 function with three arguments (BUSY retried) and
// returns the first result register; for tests and tools.
func (f *FFA) Call(fn crb.Func, a0, a1, a2 uint64) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sendReceive(fn.String(), fn, a0, a1, a2)
}

// sendReceive is __tpm_crb_ffa_send_receive: retry while the FF-A layer
// says BUSY, for at most BusyTimeout. Caller holds f.mu.
func (f *FFA) sendReceive(op string, fn crb.Func, a0, a1, a2 uint64) (uint64, error) {
	clk := f.cfg.Clock
	stop := clk.Now() + f.cfg.BusyTimeout
	for {
		res, err := f.trySendReceive(fn, a0, a1, a2)
		if err == nil {
			return res, nil
		}
		if !errors.Is(err, ffa.ErrBusy) {
			return 0, &Error{Op: op, Errno: Errno(err), Err: err}
		}
		clk.Sleep(busyPoll)
		if clk.Now() > stop {
			f.logf("warn", "Busy retry timed out")
			return 0, &Error{Op: op, Errno: -crb.EBUSY, Err: err}
		}
	}
}

// trySendReceive is __tpm_crb_ffa_try_send_receive: one request, the
// DEN0138 status mapped to an error.
func (f *FFA) trySendReceive(fn crb.Func, a0, a1, a2 uint64) (uint64, error) {
	p := f.cfg.Partition
	var st, res uint64
	if f.UsesReq2() {
		out, err := f.cfg.Messenger.DirectReq2(p.ID, f.uuid, [14]uint64{uint64(fn), a0, a1, a2})
		if err != nil {
			return 0, err
		}
		st, res = out[0], out[1]
	} else {
		is64 := p.Properties.Has(ffa.PropAArch64)
		out, err := f.cfg.Messenger.DirectReq(p.ID, is64, [5]uint64{0, uint64(fn), a0, a1, a2})
		if err != nil {
			return 0, err
		}
		st, res = out[1], out[2]
	}
	if s := crb.Status(uint32(st)); !s.OK() {
		return 0, s
	}
	return res, nil
}

// ServiceUUID returns the DEN0138 TPM service UUID.
func ServiceUUID() ffa.UUID { return ffa.MustParseUUID(crb.ServiceUUIDString) }

// ConduitMessenger sends direct requests straight over a Conduit from
// endpoint Self, for callers that do not run a full ffa.Client. FFA_INTERRUPT
// and FFA_YIELD are not followed (the SPMC model never returns them to the
// normal world).
type ConduitMessenger struct {
	Conduit ffa.Conduit
	Self    ffa.ID
}

// DirectReq implements Messenger.
func (m ConduitMessenger) DirectReq(dst ffa.ID, is64 bool, args [5]uint64) ([5]uint64, error) {
	out := m.Conduit.Call(ffa.DirectReq{Is64: is64, Src: m.Self, Dst: dst, Args: args}.Encode())
	r, err := ffa.DecodeDirectResp(out)
	if err != nil {
		return [5]uint64{}, err
	}
	return r.Args, nil
}

// DirectReq2 implements Messenger.
func (m ConduitMessenger) DirectReq2(dst ffa.ID, u ffa.UUID, args [14]uint64) ([14]uint64, error) {
	out := m.Conduit.Call(ffa.DirectReq2{Src: m.Self, Dst: dst, UUID: u, Args: args}.Encode())
	r, err := ffa.DecodeDirectResp2(out)
	if err != nil {
		return [14]uint64{}, err
	}
	return r.Args, nil
}

var _ Messenger = (*ffa.Client)(nil)
