package kerneltest

import (
	"encoding/binary"
	"fmt"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/google/go-tpm/tpm2/transport"
)

// FastWorld is a minimal secure world for the model-only fast path: one
// object that is at once the FF-A conduit (an SPMC with a single DEN0138 TPM
// partition) and the CRB MMIO window (kernel.Memory), answering at once and
// allocating little. It follows the same ABIs as the real models (FF-A
// v1.2 calls, DEN0138 START and GET_INTERFACE_VERSION, CRB registers) but
// checks far less; use the real spmc/crb models for conformance. It is not
// safe for concurrent use (one per boot).
type FastWorld struct {
	// Engine executes TPM commands (a FakeTPM when nil).
	Engine transport.TPM
	// FFAVersion the SPMC reports (default v1.2).
	FFAVersion ffa.Version
	// NoTPMPartition hides the TPM service (PARTITION_INFO_GET finds none).
	NoTPMPartition bool
	// InterfaceVersion is the DEN0138 version (default 1.0 = 0x10000).
	InterfaceVersion uint32
	// Props are the TPM partition's properties (default: direct REQ and
	// REQ2 receive, AArch64).
	Props ffa.PartitionProperties

	loc     [5]fastLoc
	active  int
	started bool
}

type fastLoc struct {
	locState, locSts uint32
	locCtrl          uint32
	ctrlReq, ctrlSts uint32
	start            uint32
	buf              []byte // the data buffer, allocated on first use
}

const fastBufSize = 0xF80

func (l *fastLoc) buffer() []byte {
	if l.buf == nil {
		l.buf = make([]byte, fastBufSize)
	}
	return l.buf
}

// Reset puts the world back to its state after power-on (and a fresh
// FakeTPM when the engine is one), so that one FastWorld can serve many
// boots without allocating.
func (w *FastWorld) Reset() {
	for i := range w.loc {
		b := w.loc[i].buf
		clear(b)
		w.loc[i] = fastLoc{buf: b}
	}
	w.active = -1
	if f, ok := w.Engine.(*FakeTPM); ok {
		f.Reset()
	}
}

// Fast-world constants.
const (
	FastCRBBase   = 0x6000_0000
	FastRxTxBase  = 0x4010_0000
	fastPartID    = ffa.ID(0x8001)
	fastWindow    = 5 * 0x1000
	fastBufOffset = 0x80
)

// NewFastWorld returns a FastWorld and the kernel Platform that uses it.
func NewFastWorld(eng transport.TPM) (*FastWorld, kernel.Platform) {
	w := &FastWorld{Engine: eng, active: -1}
	return w, w.Platform()
}

// Platform returns the kernel Platform for this world: the TPM2 table
// (revision 4, start method 15), the MSFT0101 device, the conduit and the
// memory.
func (w *FastWorld) Platform() kernel.Platform {
	return kernel.Platform{
		Name:        "fast",
		ACPITables:  map[string][]byte{"TPM2": BuildTPM2(FastCRBBase+0x40, uint16(fastPartID))},
		ACPIDevices: []kernel.ACPIDevice{{HID: "MSFT0101", Resources: []kernel.MemResource{{Base: FastCRBBase, Size: fastWindow}}}},
		Conduit:     w,
		Mem:         w,
		RxTxBase:    FastRxTxBase,
	}
}

// BuildTPM2 builds an ACPI TPM2 table, revision 4, start method 15, with
// the FF-A parameters (no log area), and a correct checksum.
func BuildTPM2(controlArea uint64, partitionID uint16) []byte {
	b := make([]byte, 64)
	copy(b, "TPM2")
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
	b[8] = 4
	copy(b[10:], "FFATPM")
	copy(b[16:], "KERNTEST")
	binary.LittleEndian.PutUint32(b[24:], 1)
	copy(b[28:], "FFAT")
	binary.LittleEndian.PutUint32(b[32:], 1)
	binary.LittleEndian.PutUint64(b[40:], controlArea)
	binary.LittleEndian.PutUint32(b[48:], 15)
	binary.LittleEndian.PutUint16(b[54:], partitionID)
	var sum byte
	for _, c := range b {
		sum += c
	}
	b[9] = -sum
	return b
}

func (w *FastWorld) version() ffa.Version {
	if w.FFAVersion == 0 {
		return ffa.Version1_2
	}
	return w.FFAVersion
}

func (w *FastWorld) props() ffa.PartitionProperties {
	if w.Props == 0 {
		return ffa.PropDirectReqRecv | ffa.PropDirectReq2Recv | ffa.PropAArch64
	}
	return w.Props
}

// Call implements ffa.Conduit.
func (w *FastWorld) Call(in ffa.Frame) ffa.Frame {
	switch in.Func() {
	case ffa.FuncVersion:
		return ffa.VersionResp{Version: w.version()}.Encode()
	case ffa.FuncIDGet:
		return ffa.IDResp{ID: 0}.Encode()
	case ffa.FuncFeatures:
		switch ffa.FuncID(in.W(1)) {
		case ffa.FuncRxTxMap64, ffa.FuncRxTxMap32, ffa.FuncPartitionInfoGetRegs, ffa.FuncMsgSendDirectReq2:
			return ffa.SuccessFrame()
		}
		return ffa.ErrorFrame(ffa.ErrNotSupported)
	case ffa.FuncRxTxMap64, ffa.FuncRxTxMap32, ffa.FuncRxRelease:
		return ffa.SuccessFrame()
	case ffa.FuncPartitionInfoGetRegs:
		r := ffa.PartitionInfoGetRegsResp{DescSize: ffa.PartitionInfoSizeV1_1}
		if !w.NoTPMPartition {
			r.N = 1
			r.Infos[0] = ffa.PartitionInfo{ID: fastPartID, ExecContexts: 1, Properties: w.props(), UUID: kernel.TPMServiceUUID()}
		} else {
			return ffa.ErrorFrame(ffa.ErrInvalidParameters)
		}
		return r.Encode()
	case ffa.FuncMsgSendDirectReq2:
		r, err := ffa.DecodeDirectReq2(in)
		if err != nil || r.Dst != fastPartID {
			return ffa.ErrorFrame(ffa.ErrInvalidParameters)
		}
		st, v := w.service(r.Args[0], r.Args[1], r.Args[2])
		return ffa.DirectResp2{Src: r.Dst, Dst: r.Src, Args: [14]uint64{st, v}}.Encode()
	case ffa.FuncMsgSendDirectReq, ffa.FuncMsgSendDirectReq64:
		r, err := ffa.DecodeDirectReq(in)
		if err != nil || r.Dst != fastPartID {
			return ffa.ErrorFrame(ffa.ErrInvalidParameters)
		}
		st, v := w.service(r.Args[1], r.Args[2], r.Args[3])
		return ffa.DirectResp{Is64: r.Is64, Src: r.Dst, Dst: r.Src, Args: [5]uint64{0, st, v}}.Encode()
	}
	return ffa.ErrorFrame(ffa.ErrNotSupported)
}

// service answers a DEN0138 function: status and one result.
func (w *FastWorld) service(fn, a0, a1 uint64) (uint64, uint64) {
	const (
		ok, okResults, noFunc, invArg, invCtrl = 0x05000001, 0x05000002, 0x8e000001, 0x8e000005, 0x8e000006
	)
	switch fn {
	case 0x0f000001:
		v := w.InterfaceVersion
		if v == 0 {
			v = 0x10000
		}
		return okResults, uint64(v)
	case 0x0f000201:
		if a1 > 4 {
			return invArg, 0
		}
		l := &w.loc[a1]
		switch a0 {
		case 1: // locality request
			switch {
			case l.locCtrl&1 != 0:
				w.active = int(a1)
				l.locSts = 1
			case l.locCtrl&2 != 0:
				w.active = -1
				l.locSts = 0
			default:
				return invCtrl, 0
			}
			l.locCtrl = 0
			return ok, 0
		case 0: // command
			if w.active != int(a1) {
				return invArg, 0
			}
			switch {
			case l.ctrlReq&1 != 0:
				l.ctrlReq = 0
			case l.ctrlReq&2 != 0:
				l.ctrlReq = 0
			case l.start&1 != 0:
				w.run(l)
			default:
				return invCtrl, 0
			}
			return ok, 0
		}
		return invArg, 0
	}
	return noFunc, 0
}

func (w *FastWorld) run(l *fastLoc) {
	defer func() { l.start = 0 }()
	buf := l.buffer()
	size := binary.BigEndian.Uint32(buf[2:])
	if size < 10 || size > uint32(len(buf)) {
		copy(buf, []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x42})
		return
	}
	eng := w.Engine
	if eng == nil {
		eng = &FakeTPM{}
		w.Engine = eng
	}
	rsp, err := eng.Send(buf[:size])
	if err != nil || len(rsp) > len(buf) {
		l.ctrlSts |= 1
		return
	}
	copy(buf, rsp)
}

func (w *FastWorld) reg(addr uint64) (*fastLoc, uint64, error) {
	if addr < FastCRBBase || addr >= FastCRBBase+fastWindow {
		return nil, 0, fmt.Errorf("fastworld: no device at %#x", addr)
	}
	off := addr - FastCRBBase
	return &w.loc[off>>12], off & 0xFFF, nil
}

// Read implements kernel.Memory for the CRB window.
func (w *FastWorld) Read(addr uint64, size int) (uint64, error) {
	l, off, err := w.reg(addr)
	if err != nil {
		return 0, err
	}
	switch off {
	case 0x00:
		st := uint32(1 << 7)
		if w.active >= 0 {
			st |= 1<<1 | uint32(w.active)<<2
		}
		return uint64(st), nil
	case 0x0C:
		return uint64(l.locSts), nil
	case 0x40:
		return uint64(l.ctrlReq), nil
	case 0x44:
		return uint64(l.ctrlSts), nil
	case 0x4C:
		return uint64(l.start), nil
	case 0x58, 0x64:
		return fastBufSize, nil
	case 0x5C:
		return uint64(uint32(addr&^0xFFF + fastBufOffset)), nil
	case 0x60:
		return (addr &^ 0xFFF) >> 32, nil
	case 0x68:
		return addr&^0xFFF + fastBufOffset, nil
	case 0x6C:
		return 0, nil
	}
	if off >= fastBufOffset && int(off-fastBufOffset)+size <= fastBufSize {
		buf := l.buffer()
		var v uint64
		for i := size - 1; i >= 0; i-- {
			v = v<<8 | uint64(buf[int(off-fastBufOffset)+i])
		}
		return v, nil
	}
	return 0, nil
}

// Write implements kernel.Memory for the CRB window.
func (w *FastWorld) Write(addr uint64, size int, v uint64) error {
	l, off, err := w.reg(addr)
	if err != nil {
		return err
	}
	switch off {
	case 0x08:
		l.locCtrl = uint32(v)
	case 0x40:
		l.ctrlReq = uint32(v)
	case 0x4C:
		l.start |= uint32(v) & 1
	default:
		if off >= fastBufOffset && int(off-fastBufOffset)+size <= fastBufSize {
			buf := l.buffer()
			for i := 0; i < size; i++ {
				buf[int(off-fastBufOffset)+i] = byte(v >> (8 * i))
			}
		}
	}
	return nil
}

// ReadBytes implements kernel.Memory (the RX buffer is never used: the
// world answers PARTITION_INFO_GET_REGS).
func (w *FastWorld) ReadBytes(addr uint64, p []byte) error {
	return fmt.Errorf("fastworld: no RAM at %#x", addr)
}

// WriteBytes implements kernel.Memory.
func (w *FastWorld) WriteBytes(addr uint64, p []byte) error {
	return fmt.Errorf("fastworld: no RAM at %#x", addr)
}

// Mapped implements kernel.Memory: only the CRB window is mapped.
func (w *FastWorld) Mapped(addr, size uint64) bool {
	return addr >= FastCRBBase && size <= fastWindow && addr+size <= FastCRBBase+fastWindow
}

// PureRead implements kernel.PureReader: every read of the CRB window
// succeeds, changes nothing, and returns what the last Write or Call left
// (the world has no clock of its own).
func (w *FastWorld) PureRead(addr uint64, size int) bool {
	_, _, err := w.reg(addr)
	return err == nil && size > 0 && size <= 8
}
