package ffa

import (
	"fmt"
	"strings"
)

// Frame is the SMC Calling Convention v1.2 register frame x0..x17 (Arm
// DEN0028). A call passes x0 = function ID and arguments in x1..x17; the
// callee returns results in the same registers.
type Frame [18]uint64

// Conduit stands for the SMC or HVC instruction: it takes the caller's
// registers and returns the callee's. Implementations must be safe for
// concurrent use when the caller has several vCPUs.
type Conduit interface {
	Call(Frame) Frame
}

// ConduitFunc adapts a function to Conduit.
type ConduitFunc func(Frame) Frame

// Call calls f.
func (f ConduitFunc) Call(in Frame) Frame { return f(in) }

// Func returns w0 as a function ID.
func (f Frame) Func() FuncID { return FuncID(uint32(f[0])) }

// W returns the 32-bit view wN of register xN.
func (f Frame) W(n int) uint32 { return uint32(f[n]) }

// ErrorFrame builds FFA_ERROR with the status in w2.
func ErrorFrame(s Status) Frame {
	return Frame{0: uint64(FuncError), 2: uint64(uint32(int32(s)))}
}

// Err returns the Status carried by an FFA_ERROR frame, or nil.
func (f Frame) Err() error {
	if f.Func() != FuncError {
		return nil
	}
	s := Status(int32(f.W(2)))
	if s == 0 {
		return ErrAborted // an FFA_ERROR without a code is not success
	}
	return s
}

// IsSuccess reports whether x0 is FFA_SUCCESS (32- or 64-bit).
func (f Frame) IsSuccess() bool {
	fn := f.Func()
	return fn == FuncSuccess32 || fn == FuncSuccess64
}

// String renders the frame for logs: the function name and the non-zero
// registers.
func (f Frame) String() string {
	var b strings.Builder
	b.WriteString(f.Func().String())
	for i := 1; i < len(f); i++ {
		if f[i] != 0 {
			fmt.Fprintf(&b, " x%d=%#x", i, f[i])
		}
	}
	if f.Func() == FuncError {
		fmt.Fprintf(&b, " (%s)", Status(int32(f.W(2))))
	}
	return b.String()
}
