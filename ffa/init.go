package ffa

import "fmt"

// InitStage names the step of Linux's ffa_init that failed.
type InitStage uint8

// Init stages, in the order ffa_init runs them.
const (
	StageVersion    InitStage = iota + 1 // ffa_version_check
	StageIDGet                           // ffa_id_get
	StageRxTxMap                         // ffa_rxtx_map
	StagePartitions                      // ffa_setup_partitions
)

// String names the stage after the Linux function.
func (s InitStage) String() string {
	switch s {
	case StageVersion:
		return "ffa_version_check"
	case StageIDGet:
		return "ffa_id_get"
	case StageRxTxMap:
		return "ffa_rxtx_map"
	case StagePartitions:
		return "ffa_setup_partitions"
	}
	return fmt.Sprintf("InitStage(%d)", uint8(s))
}

// Linux errno values Init reports.
const (
	errnoENODEV  = 19
	errnoENODATA = 61
)

// InitError is a failed Init: the stage, the errno ffa_init returns and
// the underlying cause.
type InitError struct {
	Stage InitStage
	Errno int // negative, e.g. -95 (EOPNOTSUPP)
	Err   error
}

func (e *InitError) Error() string {
	return fmt.Sprintf("ffa: init failed in %s (errno %d): %v", e.Stage, e.Errno, e.Err)
}

// Unwrap returns the cause.
func (e *InitError) Unwrap() error { return e.Err }

// LogLevel of a driver log line.
type LogLevel uint8

// Log levels used by the driver.
const (
	LogInfo LogLevel = iota // pr_info
	LogErr                  // pr_err
)

// LogLine is one line the Linux driver prints, without its "ARM FF-A: "
// prefix (pr_fmt).
type LogLine struct {
	Level LogLevel
	Text  string
}

// LogPrefix is the driver's pr_fmt prefix.
const LogPrefix = "ARM FF-A: "

// InitReport collects what ffa_init learnt and printed, for the kernel
// model to log and to create one FF-A device per partition.
type InitReport struct {
	DriverVersion   Version
	FirmwareVersion Version
	Version         Version // the version the driver uses
	Downgraded      bool    // firmware newer than driver
	ID              ID
	RxTxBufSize     int
	MemOpsNative    bool // FEATURES(MEM_LEND_64 or MEM_SHARE_64) succeeded
	Req2Supported   bool // FEATURES(MSG_SEND_DIRECT_REQ2 or RESP2) succeeded
	Notifications   bool // notification setup succeeded
	RegsMode        bool // partitions discovered with PARTITION_INFO_GET_REGS
	Partitions      []PartitionInfo
	Log             []LogLine
}

func (r *InitReport) logf(l LogLevel, format string, a ...any) {
	r.Log = append(r.Log, LogLine{Level: l, Text: fmt.Sprintf(format, a...)})
}

// Init runs the firmware-facing part of Linux's ffa_init in order:
// version check, FFA_ID_GET, FFA_FEATURES(RXTX_MAP_64) to size the buffers,
// FFA_RXTX_MAP, driver feature flags, notification setup probes (v1.1+
// drivers; failure only logs) and partition discovery (PARTITION_INFO_GET_REGS
// when FEATURES says so, else PARTITION_INFO_GET with the Nil UUID). The
// report is returned even on failure, with the lines printed so far.
func (c *Client) Init() (*InitReport, error) {
	drv := c.cfg.DriverVersion
	r := &InitReport{DriverVersion: drv}
	fail := func(st InitStage, errno int, err error) (*InitReport, error) {
		return r, &InitError{Stage: st, Errno: errno, Err: err}
	}

	// ffa_version_check
	fw, err := c.Version()
	if err != nil {
		if err == ErrNotSupported {
			r.logf(LogInfo, "FFA_VERSION returned not supported")
			return fail(StageVersion, -linuxEOPNOTSUPP, err)
		}
		return fail(StageVersion, -linuxEINVAL, err)
	}
	r.FirmwareVersion = fw
	if drv.AtLeast(Version1_1) && fw.Major() > drv.Major() {
		r.logf(LogErr, "Incompatible v%d.%d! Latest supported v%d.%d", fw.Major(), fw.Minor(), drv.Major(), drv.Minor())
		return fail(StageVersion, -linuxEINVAL, ErrNotSupported)
	}
	if uint32(fw) < uint32(LinuxMinVersion) {
		r.logf(LogErr, "Incompatible v%d.%d! Earliest supported v%d.%d", fw.Major(), fw.Minor(),
			LinuxMinVersion.Major(), LinuxMinVersion.Minor())
		return fail(StageVersion, -linuxEINVAL, ErrNotSupported)
	}
	r.logf(LogInfo, "Driver version %d.%d", drv.Major(), drv.Minor())
	r.logf(LogInfo, "Firmware version %d.%d found", fw.Major(), fw.Minor())
	r.Version = c.NegotiatedVersion()
	if r.Version != fw {
		r.Downgraded = true
		r.logf(LogInfo, "Firmware version higher than driver version, downgrading")
	}

	// ffa_id_get
	id, err := c.IDGet()
	if err != nil {
		r.logf(LogErr, "failed to obtain VM id for self")
		return fail(StageIDGet, -errnoENODEV, err)
	}
	r.ID = id

	// buffer size from FFA_FEATURES(FFA_RXTX_MAP_64) w2[1:0]
	r.RxTxBufSize = 4096
	if fr, err := c.Features(uint32(FuncRxTxMap64), 0); err == nil {
		switch fr.Props[0] & 3 {
		case RxTxMinBuf64K:
			r.RxTxBufSize = 64 << 10
		case RxTxMinBuf16K:
			r.RxTxBufSize = 16 << 10
		}
	}
	if err := c.RxTxMap(uint32(r.RxTxBufSize / 4096)); err != nil {
		r.logf(LogErr, "failed to register FFA RxTx buffers")
		return fail(StageRxTxMap, LinuxErrno(err), err)
	}

	// ffa_drvinfo_flags_init
	if drv.AtLeast(Version1_1) {
		r.MemOpsNative = c.featureOK(FuncMemLend64) || c.featureOK(FuncMemShare64)
	}
	if drv.AtLeast(Version1_2) {
		r.Req2Supported = c.featureOK(FuncMsgSendDirectReq2) || c.featureOK(FuncMsgSendDirectResp2)
	}

	// ffa_notifications_setup: bitmap create and the two interrupt IDs.
	// This model has no interrupt controller, so an interrupt the firmware
	// offers cannot be mapped, as on a machine without a GICv3 node.
	if drv.AtLeast(Version1_1) {
		c.notificationsSetup(r)
	}

	// ffa_setup_partitions
	r.Partitions, r.RegsMode, err = c.PartitionProbe(NilUUID)
	if err != nil || len(r.Partitions) == 0 {
		r.logf(LogInfo, "ffa_setup_partitions: No partitions found, error %d", LinuxErrno(err))
		r.logf(LogErr, "failed to setup partitions")
		if err == nil {
			err = fmt.Errorf("ffa: no partitions found")
		}
		return fail(StagePartitions, -linuxEINVAL, err)
	}
	return r, nil
}

func (c *Client) featureOK(id FuncID) bool {
	_, err := c.Features(uint32(id), 0)
	return err == nil
}

func (c *Client) notificationsSetup(r *InitReport) {
	if c.featureOK(FuncNotificationBitmapCreate) {
		out := c.c.Call(Frame{uint64(FuncNotificationBitmapCreate), uint64(c.ID()), 1})
		if err := CheckSuccess(out); err != nil {
			r.logf(LogErr, "Notification bitmap create error %d", LinuxErrno(c.protoErr(FuncNotificationBitmapCreate, out, err)))
			return
		}
	}
	ret := 0
	for _, f := range []struct {
		id   uint32
		name string
	}{{FeatureSRI, "Schedule Receiver Interrupt"}, {FeatureNPI, "Notification Pending Interrupt"}} {
		_, err := c.Features(f.id, 0)
		if err != nil {
			ret = LinuxErrno(err)
			if ret != -linuxEOPNOTSUPP {
				r.logf(LogErr, "Failed to retrieve FF-A %s %d", f.name, f.id)
			}
			continue
		}
		r.logf(LogErr, "Failed to create IRQ mapping!")
		ret = -errnoENODATA
	}
	// With no interrupt mapped the driver gives up on notifications.
	r.logf(LogInfo, "Notification setup failed %d, not enabled", ret)
}
