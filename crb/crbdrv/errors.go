package crbdrv

import (
	"errors"
	"fmt"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/ffa"
)

// Error is a driver failure: the operation, the negative errno Linux
// returns for it, and the cause.
type Error struct {
	Op    string // e.g. "tpm_crb_ffa_start", "request locality", "send", "recv"
	Errno int    // negative Linux errno
	Err   error  // crb.Status, ffa.Status, a bus error, or nil
}

func (e *Error) Error() string {
	s := fmt.Sprintf("crbdrv: %s: %s (%d)", e.Op, ErrnoName(e.Errno), e.Errno)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errno returns the negative Linux errno for err: an *Error's own, a DEN0138
// status through crb.LinuxErrno, an FF-A status through ffa_to_linux_errno,
// -EINVAL for anything else, 0 for nil.
func Errno(err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Errno
	}
	var st crb.Status
	if errors.As(err, &st) {
		return crb.LinuxErrno(st)
	}
	return ffa.LinuxErrno(err)
}

// Linux errno values used here beyond those in package crb.
const (
	ECANCELED  = 125
	EFAULT     = 14
	EOPNOTSUPP = 95
)

// ErrnoName names a (negative or positive) errno.
func ErrnoName(n int) string {
	if n < 0 {
		n = -n
	}
	switch n {
	case 0:
		return "OK"
	case crb.EPERM:
		return "EPERM"
	case crb.ENOENT:
		return "ENOENT"
	case crb.EIO:
		return "EIO"
	case crb.E2BIG:
		return "E2BIG"
	case crb.ENOEXEC:
		return "ENOEXEC"
	case crb.ENOMEM:
		return "ENOMEM"
	case crb.EACCES:
		return "EACCES"
	case EFAULT:
		return "EFAULT"
	case crb.EBUSY:
		return "EBUSY"
	case crb.EEXIST:
		return "EEXIST"
	case crb.ENODEV:
		return "ENODEV"
	case crb.EINVAL:
		return "EINVAL"
	case crb.ETIME:
		return "ETIME"
	case EOPNOTSUPP:
		return "EOPNOTSUPP"
	case ECANCELED:
		return "ECANCELED"
	case 4:
		return "EINTR"
	case 11:
		return "EAGAIN"
	case 61:
		return "ENODATA"
	}
	return fmt.Sprintf("errno %d", n)
}
