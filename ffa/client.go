package ffa

import (
	"errors"
	"fmt"
	"sync"
)

// Memory is how a Client reaches its RX/TX buffers in physical memory;
// phys.Accessor (for the normal world) implements it.
type Memory interface {
	ReadBytes(addr uint64, p []byte) error
	WriteBytes(addr uint64, p []byte) error
}

// Linux arm_ffa driver constants (drivers/firmware/arm_ffa/driver.c).
const (
	// LinuxDriverVersion is FFA_DRIVER_VERSION of current kernels (1.2);
	// v6.1 used 1.0.
	LinuxDriverVersion = Version1_2
	// LinuxMinVersion is FFA_MIN_VERSION.
	LinuxMinVersion = Version1_0
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// DriverVersion is the version the driver requests (FFA_DRIVER_VERSION);
	// default LinuxDriverVersion. It also selects the driver generation:
	// >= 1.1 sets up notifications, >= 1.2 probes REQ2 and
	// PARTITION_INFO_GET_REGS, as the Linux driver of that version does.
	DriverVersion Version
	// TX and RX are the physical addresses of the buffers the driver
	// allocated; each must have room for the size FFA_FEATURES(RXTX_MAP)
	// selects (4, 16 or 64 KiB).
	TX, RX uint64
	// Mem reads the RX buffer (and would write TX).
	Mem Memory
	// MaxRunLoops bounds the FFA_RUN loop after FFA_INTERRUPT/FFA_YIELD
	// (default 1000; Linux loops without bound).
	MaxRunLoops int
}

// ProtocolError reports a result frame that is neither the expected
// response nor FFA_ERROR (Linux returns -EINVAL for it).
type ProtocolError struct {
	Call FuncID
	Got  Frame
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("ffa: %s: unexpected result %v", e.Call, e.Got)
}

// LinuxErrno returns the negative errno the Linux driver would return for
// err: FF-A statuses as ffa_to_linux_errno maps them, -EINVAL for anything
// else, 0 for nil.
func LinuxErrno(err error) int {
	if err == nil {
		return 0
	}
	var ie *InitError
	if errors.As(err, &ie) {
		return ie.Errno
	}
	var st Status
	if errors.As(err, &st) {
		return st.LinuxErrno()
	}
	return -linuxEINVAL
}

// Client is the firmware-facing half of Linux's arm_ffa driver over a
// Conduit. It is safe for concurrent use; RX-buffer users are serialised as
// Linux's rx_lock does.
type Client struct {
	c   Conduit
	cfg ClientConfig

	rxMu sync.Mutex // Linux rx_lock

	mu       sync.Mutex
	version  Version // what the driver uses after FFA_VERSION
	firmware Version
	id       ID
	bufSize  int
}

// NewClient returns a client; nothing is called until a method is.
func NewClient(c Conduit, cfg ClientConfig) *Client {
	if cfg.DriverVersion == 0 {
		cfg.DriverVersion = LinuxDriverVersion
	}
	if cfg.MaxRunLoops <= 0 {
		cfg.MaxRunLoops = 1000
	}
	return &Client{c: c, cfg: cfg, bufSize: 4096}
}

// DriverVersion returns the version the client requests.
func (c *Client) DriverVersion() Version { return c.cfg.DriverVersion }

// NegotiatedVersion returns the version in use (0 before Version).
func (c *Client) NegotiatedVersion() Version {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// ID returns the endpoint ID obtained by IDGet (0 before).
func (c *Client) ID() ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

// Version calls FFA_VERSION with the driver version and returns what the
// firmware answered. ErrNotSupported when the firmware refuses. The driver
// then uses the firmware's version if it is not newer than its own, else
// its own (Linux ffa_compatible_version_find: "downgrading").
func (c *Client) Version() (Version, error) {
	out := c.c.Call(VersionReq{Version: c.cfg.DriverVersion}.Encode())
	resp, err := DecodeVersionResp(out)
	if err != nil {
		return 0, &ProtocolError{Call: FuncVersion, Got: out}
	}
	if resp.NotSupported {
		return 0, ErrNotSupported
	}
	fw := resp.Version
	use := fw
	if fw.Major() > c.cfg.DriverVersion.Major() ||
		(fw.Major() == c.cfg.DriverVersion.Major() && fw.Minor() > c.cfg.DriverVersion.Minor()) {
		use = c.cfg.DriverVersion
	}
	c.mu.Lock()
	c.firmware, c.version = fw, use
	c.mu.Unlock()
	return fw, nil
}

// IDGet calls FFA_ID_GET and remembers the ID.
func (c *Client) IDGet() (ID, error) {
	out := c.c.Call(Frame{uint64(FuncIDGet)})
	r, err := DecodeIDResp(out)
	if err != nil {
		return 0, c.protoErr(FuncIDGet, out, err)
	}
	c.mu.Lock()
	c.id = r.ID
	c.mu.Unlock()
	return r.ID, nil
}

// SpmIDGet calls FFA_SPM_ID_GET.
func (c *Client) SpmIDGet() (ID, error) {
	out := c.c.Call(Frame{uint64(FuncSpmIDGet)})
	r, err := DecodeIDResp(out)
	if err != nil {
		return 0, c.protoErr(FuncSpmIDGet, out, err)
	}
	return r.ID, nil
}

// Features calls FFA_FEATURES for a function or feature ID.
func (c *Client) Features(id, inputProps uint32) (FeaturesResp, error) {
	out := c.c.Call(FeaturesReq{ID: id, InputProps: inputProps}.Encode())
	r, err := DecodeFeaturesResp(out)
	if err != nil {
		return r, c.protoErr(FuncFeatures, out, err)
	}
	return r, nil
}

func (c *Client) protoErr(call FuncID, out Frame, err error) error {
	if out.Func() == FuncError {
		return err
	}
	return &ProtocolError{Call: call, Got: out}
}

// RxTxMap calls FFA_RXTX_MAP_64 with the configured buffers.
func (c *Client) RxTxMap(pages uint32) error {
	out := c.c.Call(RxTxMapReq{TX: c.cfg.TX, RX: c.cfg.RX, PageCount: pages}.Encode())
	if err := CheckSuccess(out); err != nil {
		return c.protoErr(FuncRxTxMap64, out, err)
	}
	c.mu.Lock()
	c.bufSize = int(pages) * 4096
	c.mu.Unlock()
	return nil
}

// RxTxUnmap calls FFA_RXTX_UNMAP for the client's ID.
func (c *Client) RxTxUnmap() error {
	out := c.c.Call(RxTxUnmapReq{ID: c.ID()}.Encode())
	if err := CheckSuccess(out); err != nil {
		return c.protoErr(FuncRxTxUnmap, out, err)
	}
	return nil
}

// RxRelease calls FFA_RX_RELEASE.
func (c *Client) RxRelease() error {
	out := c.c.Call(RxReleaseReq{}.Encode())
	if err := CheckSuccess(out); err != nil {
		return c.protoErr(FuncRxRelease, out, err)
	}
	return nil
}

// PartitionInfoGet discovers partitions with FFA_PARTITION_INFO_GET as
// Linux's ffa_partition_probe does without register mode: with a v1.1+
// version a count-only call first, then a call that fills RX, read with the
// descriptor size the firmware reports (8 for v1.0), then FFA_RX_RELEASE.
func (c *Client) PartitionInfoGet(u UUID) ([]PartitionInfo, error) {
	v := c.NegotiatedVersion()
	count := -1
	if v.AtLeast(Version1_1) {
		out := c.c.Call(PartitionInfoGetReq{UUID: u, Flags: PartitionInfoGetFlagCountOnly}.Encode())
		r, err := DecodePartitionInfoGetResp(out)
		if err != nil {
			return nil, c.protoErr(FuncPartitionInfoGet, out, err)
		}
		count = int(r.Count)
		if count == 0 {
			return nil, nil
		}
	}
	c.rxMu.Lock()
	defer c.rxMu.Unlock()
	out := c.c.Call(PartitionInfoGetReq{UUID: u}.Encode())
	r, err := DecodePartitionInfoGetResp(out)
	if err != nil {
		return nil, c.protoErr(FuncPartitionInfoGet, out, err)
	}
	size := PartitionInfoSizeV1_0
	if v.AtLeast(Version1_1) {
		size = int(r.DescSize)
	}
	var infos []PartitionInfo
	if count < 0 || int(r.Count) <= count { // Linux reads only if it fits its buffer
		c.mu.Lock()
		bufSize := c.bufSize
		c.mu.Unlock()
		if c.cfg.Mem == nil {
			err = errors.New("ffa: client has no Memory to read its RX buffer")
		} else if size <= 0 || int(r.Count) > bufSize/max(size, 1) {
			err = &ProtocolError{Call: FuncPartitionInfoGet, Got: out}
		} else {
			buf := make([]byte, int(r.Count)*size)
			if err = c.cfg.Mem.ReadBytes(c.cfg.RX, buf); err == nil {
				infos, err = ParsePartitionInfo(buf, int(r.Count), size)
			}
		}
	}
	if rerr := c.RxRelease(); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return nil, err
	}
	return infos, nil
}

// PartitionInfoGetRegs discovers partitions with
// FFA_PARTITION_INFO_GET_REGS (v1.2) as Linux's
// __ffa_partition_info_get_regs does: repeated calls from start index 0,
// up to five descriptors each, until the last index.
func (c *Client) PartitionInfoGetRegs(u UUID) ([]PartitionInfo, error) {
	var out []PartitionInfo
	var start, tag uint16
	for iter := 0; iter < 1<<16; iter++ {
		f := c.c.Call(PartitionInfoGetRegsReq{UUID: u, StartIndex: start, Tag: tag}.Encode())
		r, err := DecodePartitionInfoGetRegsResp(f, start)
		if err != nil {
			return nil, c.protoErr(FuncPartitionInfoGetRegs, f, err)
		}
		out = append(out, r.Infos[:r.N]...)
		if r.CurrentIndex >= r.LastIndex {
			return out, nil
		}
		start, tag = r.CurrentIndex+1, r.Tag
	}
	return nil, &ProtocolError{Call: FuncPartitionInfoGetRegs}
}

// PartitionProbe discovers the partitions of a UUID (the Nil UUID: all) as
// Linux's ffa_partition_probe (drivers/firmware/arm_ffa/driver.c) does,
// call for call: FFA_FEATURES(PARTITION_INFO_GET_REGS) picks register mode
// (a v1.2 driver);
// then a first call only for the count and a second for the descriptors.
// In register mode the count call is a PARTITION_INFO_GET_REGS from index
// 0. Otherwise a v1.1+ driver asks PARTITION_INFO_GET for the count only
// (no RX_RELEASE), while a v1.0 driver has no count-only flag and makes two
// full calls, each followed by FFA_RX_RELEASE. regs reports the mode.
func (c *Client) PartitionProbe(u UUID) (infos []PartitionInfo, regs bool, err error) {
	// Drivers older than v1.2 (Linux before PARTITION_INFO_GET_REGS support)
	// never ask for it.
	regs = c.cfg.DriverVersion.AtLeast(Version1_2) && c.featureOK(FuncPartitionInfoGetRegs)
	if regs {
		// __ffa_partition_info_get_regs(..., NULL, 0): one call, the count.
		f := c.c.Call(PartitionInfoGetRegsReq{UUID: u}.Encode())
		r, err := DecodePartitionInfoGetRegsResp(f, 0)
		if err != nil {
			return nil, true, c.protoErr(FuncPartitionInfoGetRegs, f, err)
		}
		_ = r // PARTITION_COUNT(a2) = last index + 1 is never zero
		infos, err = c.PartitionInfoGetRegs(u)
		return infos, true, err
	}
	if !c.NegotiatedVersion().AtLeast(Version1_1) {
		// __ffa_partition_info_get(..., NULL, 0) at v1.0: flags 0, so the
		// firmware fills RX and the driver releases it.
		c.rxMu.Lock()
		out := c.c.Call(PartitionInfoGetReq{UUID: u}.Encode())
		r, err := DecodePartitionInfoGetResp(out)
		if err == nil {
			err = c.RxRelease()
		} else {
			err = c.protoErr(FuncPartitionInfoGet, out, err)
		}
		c.rxMu.Unlock()
		if err != nil {
			return nil, false, err
		}
		if r.Count == 0 {
			return nil, false, nil
		}
	}
	infos, err = c.PartitionInfoGet(u)
	return infos, false, err
}

// runLoop follows FFA_INTERRUPT/FFA_YIELD with FFA_RUN, as Linux's
// ffa_msg_send_wait_for_completion does (without the sleep), bounded.
func (c *Client) runLoop(out Frame) Frame {
	for i := 0; i < c.cfg.MaxRunLoops; i++ {
		fn := out.Func()
		if fn != FuncInterrupt && fn != FuncYield {
			return out
		}
		out = c.c.Call(Frame{uint64(FuncRun), out[1]})
	}
	return out
}

// DirectReq sends FFA_MSG_SEND_DIRECT_REQ (32- or 64-bit) from the
// client's ID to dst with payload w3..w7 and returns the response payload.
func (c *Client) DirectReq(dst ID, is64 bool, args [5]uint64) ([5]uint64, error) {
	out := c.runLoop(c.c.Call(DirectReq{Is64: is64, Src: c.ID(), Dst: dst, Args: args}.Encode()))
	if err := out.Err(); err != nil {
		return [5]uint64{}, err
	}
	want := FuncMsgSendDirectResp
	if is64 {
		want = FuncMsgSendDirectResp64
	}
	if out.Func() != want {
		return [5]uint64{}, &ProtocolError{Call: FuncMsgSendDirectReq, Got: out}
	}
	r, _ := DecodeDirectResp(out)
	return r.Args, nil
}

// DirectReq2 sends FFA_MSG_SEND_DIRECT_REQ2 with the service UUID in x2/x3
// and payload x4..x17, and returns the response payload.
func (c *Client) DirectReq2(dst ID, u UUID, args [14]uint64) ([14]uint64, error) {
	out := c.runLoop(c.c.Call(DirectReq2{Src: c.ID(), Dst: dst, UUID: u, Args: args}.Encode()))
	if err := out.Err(); err != nil {
		return [14]uint64{}, err
	}
	if out.Func() != FuncMsgSendDirectResp2 {
		return [14]uint64{}, &ProtocolError{Call: FuncMsgSendDirectReq2, Got: out}
	}
	var r [14]uint64
	copy(r[:], out[4:])
	return r, nil
}
