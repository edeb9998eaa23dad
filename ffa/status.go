package ffa

import "fmt"

// Status is an FF-A status code, carried in w2 of FFA_ERROR. It implements
// error. The zero value is not an error code; functions in this package
// never return Status(0) as an error.
type Status int32

// FF-A status codes (DEN0077 v1.2 table "Status codes"; NOT_READY is v1.3).
const (
	ErrNotSupported      Status = -1
	ErrInvalidParameters Status = -2
	ErrNoMemory          Status = -3
	ErrBusy              Status = -4
	ErrInterrupted       Status = -5
	ErrDenied            Status = -6
	ErrRetry             Status = -7
	ErrAborted           Status = -8
	ErrNoData            Status = -9
	ErrNotReady          Status = -10
)

// String returns the spec name, e.g. "INVALID_PARAMETERS".
func (s Status) String() string {
	switch s {
	case 0:
		return "SUCCESS"
	case ErrNotSupported:
		return "NOT_SUPPORTED"
	case ErrInvalidParameters:
		return "INVALID_PARAMETERS"
	case ErrNoMemory:
		return "NO_MEMORY"
	case ErrBusy:
		return "BUSY"
	case ErrInterrupted:
		return "INTERRUPTED"
	case ErrDenied:
		return "DENIED"
	case ErrRetry:
		return "RETRY"
	case ErrAborted:
		return "ABORTED"
	case ErrNoData:
		return "NO_DATA"
	case ErrNotReady:
		return "NOT_READY"
	}
	return fmt.Sprintf("Status(%d)", int32(s))
}

// Error implements error: "ffa: BUSY (-4)".
func (s Status) Error() string { return fmt.Sprintf("ffa: %s (%d)", s.String(), int32(s)) }

// Known reports whether s is one of the defined error codes.
func (s Status) Known() bool { return s <= ErrNotSupported && s >= ErrNotReady }

// Linux errno values used by LinuxErrno (positive numbers).
const (
	linuxEOPNOTSUPP = 95
	linuxEINVAL     = 22
	linuxENOMEM     = 12
	linuxEBUSY      = 16
	linuxEINTR      = 4
	linuxEACCES     = 13
	linuxEAGAIN     = 11
	linuxECANCELED  = 125
	linuxENODATA    = 61
)

// LinuxErrno returns the negative errno Linux's arm_ffa driver maps s to
// (ffa_to_linux_errno in drivers/firmware/arm_ffa/driver.c); unknown codes
// map to -EINVAL as they do there.
func (s Status) LinuxErrno() int {
	switch s {
	case 0:
		return 0
	case ErrNotSupported:
		return -linuxEOPNOTSUPP
	case ErrInvalidParameters:
		return -linuxEINVAL
	case ErrNoMemory:
		return -linuxENOMEM
	case ErrBusy:
		return -linuxEBUSY
	case ErrInterrupted:
		return -linuxEINTR
	case ErrDenied:
		return -linuxEACCES
	case ErrRetry, ErrNotReady:
		return -linuxEAGAIN
	case ErrAborted:
		return -linuxECANCELED
	case ErrNoData:
		return -linuxENODATA
	}
	return -linuxEINVAL
}

// Statuses returns every defined error code, in numeric order from -1.
func Statuses() []Status {
	return []Status{ErrNotSupported, ErrInvalidParameters, ErrNoMemory, ErrBusy, ErrInterrupted,
		ErrDenied, ErrRetry, ErrAborted, ErrNoData, ErrNotReady}
}
