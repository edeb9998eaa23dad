package crb

import "fmt"

// ServiceUUIDString is the DEN0138 TPM service UUID.
const ServiceUUIDString = "17b862a4-1806-4faf-86b3-089a58353861"

// Func is a DEN0138 TPM service function ID (w4 / x4 of the request).
type Func uint32

// DEN0138 function IDs.
const (
	FuncGetInterfaceVersion        Func = 0x0F000001
	FuncGetFeatureInfo             Func = 0x0F000101
	FuncStart                      Func = 0x0F000201
	FuncRegisterForNotification    Func = 0x0F000301
	FuncUnregisterFromNotification Func = 0x0F000401
	FuncFinishNotified             Func = 0x0F000501
)

func (f Func) String() string {
	switch f {
	case FuncGetInterfaceVersion:
		return "GET_INTERFACE_VERSION"
	case FuncGetFeatureInfo:
		return "GET_FEATURE_INFO"
	case FuncStart:
		return "START"
	case FuncRegisterForNotification:
		return "REGISTER_FOR_NOTIFICATION"
	case FuncUnregisterFromNotification:
		return "UNREGISTER_FROM_NOTIFICATION"
	case FuncFinishNotified:
		return "FINISH_NOTIFIED"
	}
	return fmt.Sprintf("Func(%#x)", uint32(f))
}

// Funcs lists the six DEN0138 functions.
func Funcs() []Func {
	return []Func{FuncGetInterfaceVersion, FuncGetFeatureInfo, FuncStart,
		FuncRegisterForNotification, FuncUnregisterFromNotification, FuncFinishNotified}
}

// Status is a DEN0138 function status (w4 / x4 of the response). The two OK
// values are success; the others implement error with the spec's name.
type Status uint32

// DEN0138 status codes.
const (
	StatusOK                Status = 0x05000001
	StatusOKResultsReturned Status = 0x05000002
	StatusNoFunc            Status = 0x8E000001
	StatusNotSup            Status = 0x8E000002
	StatusInvArg            Status = 0x8E000005
	StatusInvCRBCtrlData    Status = 0x8E000006
	StatusAlready           Status = 0x8E000009
	StatusDenied            Status = 0x8E00000A
	StatusNoMem             Status = 0x8E00000B
)

// Statuses lists every DEN0138 status.
func Statuses() []Status {
	return []Status{StatusOK, StatusOKResultsReturned, StatusNoFunc, StatusNotSup, StatusInvArg,
		StatusInvCRBCtrlData, StatusAlready, StatusDenied, StatusNoMem}
}

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusOKResultsReturned:
		return "OK_RESULTS_RETURNED"
	case StatusNoFunc:
		return "NOFUNC"
	case StatusNotSup:
		return "NOTSUP"
	case StatusInvArg:
		return "INVARG"
	case StatusInvCRBCtrlData:
		return "INV_CRB_CTRL_DATA"
	case StatusAlready:
		return "ALREADY"
	case StatusDenied:
		return "DENIED"
	case StatusNoMem:
		return "NOMEM"
	}
	return fmt.Sprintf("Status(%#x)", uint32(s))
}

// Error makes a failing status usable as an error.
func (s Status) Error() string { return "DEN0138 status " + s.String() }

// OK reports whether s is one of the two success codes.
func (s Status) OK() bool { return s == StatusOK || s == StatusOKResultsReturned }

// Err returns nil for a success code and s otherwise.
func (s Status) Err() error {
	if s.OK() {
		return nil
	}
	return s
}

// Linux errno numbers used by the DEN0138 status mapping and the CRB driver
// (include/uapi/asm-generic/errno-base.h and errno.h). They are positive;
// the kernel returns them negated.
const (
	ENOENT  = 2
	EIO     = 5
	ENOEXEC = 8
	ENOMEM  = 12
	EACCES  = 13
	EBUSY   = 16
	EEXIST  = 17
	ENODEV  = 19
	EINVAL  = 22
	E2BIG   = 7
	EPERM   = 1
	ETIME   = 62
)

// LinuxErrno maps a status to what drivers/char/tpm/tpm_crb_ffa.c's
// tpm_crb_ffa_to_linux_errno returns: 0 for success, a negative errno
// otherwise; unknown values give -EINVAL.
func LinuxErrno(s Status) int {
	switch s {
	case StatusOK, StatusOKResultsReturned:
		return 0
	case StatusNoFunc:
		return -ENOENT
	case StatusNotSup:
		return -EPERM
	case StatusInvArg:
		return -EINVAL
	case StatusInvCRBCtrlData:
		return -ENOEXEC
	case StatusAlready:
		return -EEXIST
	case StatusDenied:
		return -EACCES
	case StatusNoMem:
		return -ENOMEM
	}
	return -EINVAL
}

// Qualifier is START's w5: what the caller changed in the CRB.
type Qualifier uint32

// START qualifiers.
const (
	QualifierCommand         Qualifier = 0 // a command (or a CTRL_REQ / cancel) is ready
	QualifierLocalityRequest Qualifier = 1 // a LOC_CTRL request is ready
)

func (q Qualifier) String() string {
	switch q {
	case QualifierCommand:
		return "command"
	case QualifierLocalityRequest:
		return "locality"
	}
	return fmt.Sprintf("Qualifier(%#x)", uint32(q))
}

// InterfaceVersion is a DEN0138 interface version: major in bits 30:16,
// minor in bits 15:0.
type InterfaceVersion uint32

// Version1_0 is the interface version this model implements.
const Version1_0 InterfaceVersion = 0x00010000

// Major returns bits 30:16.
func (v InterfaceVersion) Major() uint16 { return uint16(uint32(v) >> 16 & 0x7FFF) }

// Minor returns bits 15:0.
func (v InterfaceVersion) Minor() uint16 { return uint16(v) }

func (v InterfaceVersion) String() string { return fmt.Sprintf("%d.%d", v.Major(), v.Minor()) }

// FeatureNotification is the GET_FEATURE_INFO feature ID of notifications.
const FeatureNotification uint32 = 0xFEA70000

// FuncInfo is one row of the DEN0138 support table.
type FuncInfo struct {
	Func     Func
	Args     string   // argument registers after the function ID
	Statuses []Status // every status the function can return
}

// FuncTable returns the DEN0138 functions with the statuses this model can
// return for each; the partition dispatches on it and docs/crb.md prints it.
func FuncTable() []FuncInfo {
	return []FuncInfo{
		{FuncGetInterfaceVersion, "-", []Status{StatusOKResultsReturned, StatusInvArg}},
		{FuncGetFeatureInfo, "w5 feature ID", []Status{StatusOKResultsReturned, StatusNotSup, StatusInvArg}},
		{FuncStart, "w5 qualifier, w6 locality",
			[]Status{StatusOK, StatusInvArg, StatusInvCRBCtrlData, StatusDenied, StatusNoMem}},
		{FuncRegisterForNotification, "w5 flags/vCPU, w6 notification ID",
			[]Status{StatusOK, StatusNotSup, StatusInvArg, StatusAlready}},
		{FuncUnregisterFromNotification, "-", []Status{StatusOK, StatusNotSup, StatusInvArg, StatusDenied}},
		{FuncFinishNotified, "-", []Status{StatusOK, StatusNotSup, StatusInvArg, StatusDenied}},
	}
}
