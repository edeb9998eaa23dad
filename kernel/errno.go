package kernel

import "strconv"

// Errno is a kernel error number as Linux returns it from initcalls, probes
// and helpers (the positive value; Linux returns -errno). It includes the
// kernel-internal values that never reach user space, such as EPROBE_DEFER
// (include/linux/errno.h), the way gVisor's pkg/abi/linux/errno does.
//
// Errno(0) is not an error; functions of the model return a nil error for
// success and an Errno otherwise.
type Errno int32

// Error numbers used by the modelled code paths (include/uapi/asm-generic/
// errno-base.h, errno.h, include/linux/errno.h).
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	EINTR        Errno = 4 // ffa_to_linux_errno(FFA_RET_INTERRUPTED)
	EIO          Errno = 5
	ENXIO        Errno = 6
	ENOEXEC      Errno = 8
	EAGAIN       Errno = 11
	ENOMEM       Errno = 12
	EACCES       Errno = 13
	EFAULT       Errno = 14
	EBUSY        Errno = 16
	EEXIST       Errno = 17
	ENODEV       Errno = 19
	EINVAL       Errno = 22
	ENOSPC       Errno = 28
	EPIPE        Errno = 32
	ERANGE       Errno = 34
	ENODATA      Errno = 61
	EPROTO       Errno = 71
	EBADMSG      Errno = 74
	EOPNOTSUPP   Errno = 95
	ECANCELED    Errno = 125 // ffa_to_linux_errno(FFA_RET_ABORTED)
	ETIMEDOUT    Errno = 110
	ETIME        Errno = 62
	E2BIG        Errno = 7
	EPROBE_DEFER Errno = 517 // kernel-internal: driver requests probe retry
	ENOTSUPP     Errno = 524 // kernel-internal
)

var errnoNames = map[Errno]string{
	EPERM: "EPERM", ENOENT: "ENOENT", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO",
	ENOEXEC: "ENOEXEC", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES",
	EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST", ENODEV: "ENODEV",
	EINVAL: "EINVAL", ENOSPC: "ENOSPC", EPIPE: "EPIPE", ERANGE: "ERANGE", ENODATA: "ENODATA",
	EPROTO: "EPROTO", EBADMSG: "EBADMSG", EOPNOTSUPP: "EOPNOTSUPP", ECANCELED: "ECANCELED",
	ETIMEDOUT: "ETIMEDOUT", ETIME: "ETIME", E2BIG: "E2BIG", EPROBE_DEFER: "EPROBE_DEFER", ENOTSUPP: "ENOTSUPP",
}

// String returns the symbolic name ("EPROBE_DEFER"), or "0" for success and
// "errno N" for a number the model does not name.
func (e Errno) String() string {
	if e == 0 {
		return "0"
	}
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return "errno " + strconv.Itoa(int(e))
}

// Error implements error with the symbolic name.
func (e Errno) Error() string { return e.String() }

// Ret returns the value as a Linux function returns it: -errno (0 for success).
func (e Errno) Ret() int { return -int(e) }

// ParseErrno accepts a symbolic name ("EPROBE_DEFER"), "0", or a number with
// or without the minus sign ("-517", "517").
func ParseErrno(s string) (Errno, bool) {
	if s == "0" {
		return 0, true
	}
	for e, n := range errnoNames {
		if n == s {
			return e, true
		}
	}
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 4095 {
		return 0, false
	}
	return Errno(n), true
}

// AsErrno returns the Errno carried by err: 0 for nil, the value for an
// Errno, and ok=false for any other error (a Go-level fault of the model).
func AsErrno(err error) (Errno, bool) {
	if err == nil {
		return 0, true
	}
	e, ok := err.(Errno)
	return e, ok
}

// errOf converts a Linux-style int return (0 or -errno) into an error.
func errOf(ret int) error {
	if ret == 0 {
		return nil
	}
	if ret < 0 {
		ret = -ret
	}
	return Errno(ret)
}

// MarshalText implements encoding.TextMarshaler with the symbolic name.
func (e Errno) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseErrno.
func (e *Errno) UnmarshalText(b []byte) error {
	v, ok := ParseErrno(string(b))
	if !ok {
		return &parseError{what: "errno", text: string(b)}
	}
	*e = v
	return nil
}

type parseError struct{ what, text string }

func (p *parseError) Error() string { return "unknown " + p.what + " " + strconvQuote(p.text) }

func strconvQuote(s string) string { return strconv.Quote(s) }
