package mssim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxCommandSize bounds the buffer of TPM_SEND_COMMAND and
// TPM_SIGNAL_HASH_DATA frames the Server accepts. 4096 is MAX_COMMAND_SIZE of
// the reference TPM and of the go-tpm-tools simulator; a larger frame is
// refused before anything is allocated for it.
const DefaultMaxCommandSize = 4096

// DefaultMaxResponseSize bounds the response a Client accepts.
const DefaultMaxResponseSize = 1 << 16

// Frame is one decoded message from a client.
type Frame struct {
	Cmd      Command
	Locality uint8  // TPM_SEND_COMMAND only
	Value    uint32 // the u32 argument of ArgsU32 commands
	Payload  []byte // TPM_SEND_COMMAND / TPM_SIGNAL_HASH_DATA buffer
}

func (f Frame) String() string {
	switch f.Cmd {
	case SendCommand:
		return fmt.Sprintf("%v(locality %d, %d bytes)", f.Cmd, f.Locality, len(f.Payload))
	case SignalHashData:
		return fmt.Sprintf("%v(%d bytes)", f.Cmd, len(f.Payload))
	}
	if ci, ok := Info(f.Cmd); ok && ci.Args == ArgsU32 {
		return fmt.Sprintf("%v(%d)", f.Cmd, f.Value)
	}
	return f.Cmd.String()
}

// Reasons a frame is malformed; a FrameError wraps one of them.
var (
	ErrUnknownCommand = errors.New("unknown command code")
	ErrWrongPort      = errors.New("command code not accepted on this port")
	ErrTooLarge       = errors.New("buffer size over the limit")
	ErrTruncated      = errors.New("connection ended inside a frame")
)

// FrameError reports a malformed frame: which port, which command (0 if the
// code itself was not readable), the byte offset of the field that was wrong
// within the frame, and why.
type FrameError struct {
	Port   Port
	Cmd    Command
	Offset int
	Detail string
	Err    error // one of the Err* reasons above
}

func (e *FrameError) Error() string {
	s := fmt.Sprintf("mssim %v: %v at frame offset %d", e.Port, e.Err, e.Offset)
	if e.Cmd != 0 {
		s = fmt.Sprintf("mssim %v: %v: %v at frame offset %d", e.Port, e.Cmd, e.Err, e.Offset)
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *FrameError) Unwrap() error { return e.Err }

// Decoder reads frames sent by a client to one port.
type Decoder struct {
	r    io.Reader
	port Port
	max  uint32
	hdr  [9]byte
	buf  []byte
	// started, if set, is called once a frame's command code has been read
	// and before its arguments are (the Server arms its frame timeout).
	started func()
}

// NewDecoder returns a decoder of frames arriving on port, accepting buffers
// of at most maxSize bytes (DefaultMaxCommandSize if maxSize is 0). The
// reader should be buffered; the decoder reads exactly the frame's bytes.
func NewDecoder(r io.Reader, port Port, maxSize uint32) *Decoder {
	if maxSize == 0 {
		maxSize = DefaultMaxCommandSize
	}
	return &Decoder{r: r, port: port, max: maxSize}
}

// Next decodes the next frame. It returns io.EOF if the peer closed the
// connection between frames, a *FrameError if the frame is malformed, and any
// other error from the reader as is. The returned Payload is valid until the
// next call.
func (d *Decoder) Next() (Frame, error) {
	if _, err := io.ReadFull(d.r, d.hdr[:4]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return Frame{}, &FrameError{Port: d.port, Offset: 0, Err: ErrTruncated, Detail: "partial command code"}
		}
		return Frame{}, err
	}
	f := Frame{Cmd: Command(binary.BigEndian.Uint32(d.hdr[:4]))}
	if d.started != nil {
		d.started()
	}
	ci, ok := Info(f.Cmd)
	if !ok {
		return f, &FrameError{Port: d.port, Offset: 0, Err: ErrUnknownCommand, Detail: fmt.Sprintf("code %d", uint32(f.Cmd))}
	}
	if ci.Ports&d.port == 0 {
		return f, &FrameError{Port: d.port, Cmd: f.Cmd, Offset: 0, Err: ErrWrongPort, Detail: "accepted on the " + ci.Ports.String()}
	}
	off := 4
	switch ci.Args {
	case ArgsNone:
		return f, nil
	case ArgsU32:
		if err := d.read(d.hdr[:4], f.Cmd, off); err != nil {
			return f, err
		}
		f.Value = binary.BigEndian.Uint32(d.hdr[:4])
		return f, nil
	case ArgsLocality:
		if err := d.read(d.hdr[:5], f.Cmd, off); err != nil {
			return f, err
		}
		f.Locality = d.hdr[0]
		off++
		return d.payload(f, binary.BigEndian.Uint32(d.hdr[1:5]), off)
	case ArgsBuffer:
		if err := d.read(d.hdr[:4], f.Cmd, off); err != nil {
			return f, err
		}
		return d.payload(f, binary.BigEndian.Uint32(d.hdr[:4]), off)
	}
	return f, fmt.Errorf("mssim: support table row %v has unknown Args %d", f.Cmd, ci.Args)
}

func (d *Decoder) payload(f Frame, n uint32, off int) (Frame, error) {
	if n > d.max {
		return f, &FrameError{Port: d.port, Cmd: f.Cmd, Offset: off, Err: ErrTooLarge,
			Detail: fmt.Sprintf("%d bytes announced, limit %d", n, d.max)}
	}
	if cap(d.buf) < int(n) {
		d.buf = make([]byte, n)
	}
	f.Payload = d.buf[:n]
	if err := d.read(f.Payload, f.Cmd, off+4); err != nil {
		return f, err
	}
	return f, nil
}

func (d *Decoder) read(b []byte, c Command, off int) error {
	_, err := io.ReadFull(d.r, b)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &FrameError{Port: d.port, Cmd: c, Offset: off, Err: ErrTruncated,
			Detail: fmt.Sprintf("wanted %d more bytes", len(b))}
	}
	return err
}

// AppendFrame appends f's wire encoding (as a client sends it) to b. It
// fails only for a command code missing from the support table.
func AppendFrame(b []byte, f Frame) ([]byte, error) {
	ci, ok := Info(f.Cmd)
	if !ok {
		return b, fmt.Errorf("mssim: cannot encode %v: %w", f.Cmd, ErrUnknownCommand)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(f.Cmd))
	switch ci.Args {
	case ArgsU32:
		b = binary.BigEndian.AppendUint32(b, f.Value)
	case ArgsLocality:
		b = append(b, f.Locality)
		b = binary.BigEndian.AppendUint32(b, uint32(len(f.Payload)))
		b = append(b, f.Payload...)
	case ArgsBuffer:
		b = binary.BigEndian.AppendUint32(b, uint32(len(f.Payload)))
		b = append(b, f.Payload...)
	}
	return b, nil
}

// appendResponse appends the command port's answer to TPM_SEND_COMMAND:
// u32 size, the TPM response, u32 0.
func appendResponse(b, rsp []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(rsp)))
	b = append(b, rsp...)
	return binary.BigEndian.AppendUint32(b, AckOK)
}

// ReadResponse reads the answer to TPM_SEND_COMMAND from a server: the TPM
// response (at most maxSize bytes; DefaultMaxResponseSize if 0) and the
// trailing u32, which the reference always sends as 0.
func ReadResponse(r io.Reader, maxSize uint32) ([]byte, error) {
	if maxSize == 0 {
		maxSize = DefaultMaxResponseSize
	}
	var w [4]byte
	if _, err := io.ReadFull(r, w[:]); err != nil {
		return nil, fmt.Errorf("mssim: reading response size: %w", err)
	}
	n := binary.BigEndian.Uint32(w[:])
	if n > maxSize {
		return nil, fmt.Errorf("mssim: response of %d bytes over the limit %d: %w", n, maxSize, ErrTooLarge)
	}
	rsp := make([]byte, n)
	if _, err := io.ReadFull(r, rsp); err != nil {
		return nil, fmt.Errorf("mssim: reading %d-byte response: %w", n, err)
	}
	if _, err := io.ReadFull(r, w[:]); err != nil {
		return nil, fmt.Errorf("mssim: reading the ack after the response: %w", err)
	}
	if a := binary.BigEndian.Uint32(w[:]); a != AckOK {
		return nil, fmt.Errorf("mssim: server ended the response with %d, want 0", a)
	}
	return rsp, nil
}
