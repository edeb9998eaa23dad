package crb

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type engineFunc func([]byte) ([]byte, error)

func (f engineFunc) Send(b []byte) ([]byte, error) { return f(b) }

// echoEngine answers every command with TPM_RC_SUCCESS and the command's
// first byte count as payload size.
var okEngine = engineFunc(func(cmd []byte) ([]byte, error) {
	rsp := make([]byte, 12)
	binary.BigEndian.PutUint16(rsp, 0x8001)
	binary.BigEndian.PutUint32(rsp[2:], 12)
	rsp[10], rsp[11] = 0xAB, byte(len(cmd))
	return rsp, nil
})

const testBase = 0x6000_0000

func newDev(t testing.TB, closed ...int) *Device {
	t.Helper()
	if closed == nil {
		closed = []int{}
	}
	d, err := NewDevice(DeviceConfig{Base: testBase, Closed: closed})
	require.NoError(t, err)
	return d
}

func w32(t testing.TB, d *Device, n int, r Reg, v uint32) {
	t.Helper()
	require.NoError(t, d.WriteMMIO(uint64(n)*LocalityStride+uint64(r), 4, uint64(v)))
}

func r32(t testing.TB, d *Device, n int, r Reg) uint32 {
	t.Helper()
	v, err := d.ReadMMIO(uint64(n)*LocalityStride+uint64(r), 4)
	require.NoError(t, err)
	return uint32(v)
}

// writeCmd puts a minimal TPM command (header only, size 10 + extra) in
// locality n's buffer.
func writeCmd(t testing.TB, d *Device, n int, extra int) {
	t.Helper()
	b := make([]byte, 10+extra)
	binary.BigEndian.PutUint16(b, 0x8001)
	binary.BigEndian.PutUint32(b[2:], uint32(len(b)))
	binary.BigEndian.PutUint32(b[6:], 0x17B) // TPM_CC_GetRandom
	for i := 0; i < len(b); i++ {
		require.NoError(t, d.WriteMMIO(uint64(n)*LocalityStride+DataBufferOffset+uint64(i), 1, uint64(b[i])))
	}
}

func grant(t testing.TB, d *Device, n int) {
	t.Helper()
	w32(t, d, n, RegLocCtrl, LocCtrlRequestAccess)
	_, st := d.ProcessLocality(n)
	require.Equal(t, StatusOK, st)
	require.Equal(t, n, d.ActiveLocality())
}

func TestTablesComplete(t *testing.T) {
	seen := map[[2]int]bool{}
	for _, tr := range Transitions() {
		k := [2]int{int(tr.From), int(tr.Event)}
		require.False(t, seen[k], "duplicate row %v/%v", tr.From, tr.Event)
		seen[k] = true
		assert.NotEmpty(t, tr.Rule)
	}
	assert.Len(t, seen, len(States())*len(Events()))
	lseen := map[[2]int]bool{}
	for _, tr := range LocTransitions() {
		k := [2]int{int(tr.From), int(tr.Event)}
		require.False(t, lseen[k], "duplicate row %v/%v", tr.From, tr.Event)
		lseen[k] = true
		assert.NotEmpty(t, tr.Rule)
	}
	assert.Len(t, lseen, len(LocRelations())*len(LocEvents()))
}

// putInState drives a fresh device (locality 0 active) into s through its
// public operations.
func putInState(t *testing.T, s State) *Device {
	d := newDev(t)
	grant(t, d, 0)
	switch s {
	case StateIdle:
	case StateReady:
		w32(t, d, 0, RegCtrlReq, CtrlReqCmdReady)
		st, _ := d.ServeCommand(0, okEngine)
		require.Equal(t, StatusOK, st)
	case StateComplete:
		writeCmd(t, d, 0, 0)
		w32(t, d, 0, RegCtrlStart, CtrlStartInvoke)
		st, _ := d.ServeCommand(0, okEngine)
		require.Equal(t, StatusOK, st)
	case StateExecuting:
		d.mu.Lock()
		d.fire(0, EvStart)
		d.loc[0].start = CtrlStartInvoke
		d.mu.Unlock()
	case StateError:
		writeCmd(t, d, 0, 0)
		w32(t, d, 0, RegCtrlStart, CtrlStartInvoke)
		st, _ := d.ServeCommand(0, engineFunc(func([]byte) ([]byte, error) { return nil, errors.New("boom") }))
		require.Equal(t, StatusOK, st)
	}
	require.Equal(t, s, d.State())
	return d
}

// TestCommandTableEveryPair fires every event in every state and checks the
// next state and the register effects the PTP prescribes.
func TestCommandTableEveryPair(t *testing.T) {
	for _, tr := range Transitions() {
		t.Run(tr.From.String()+"/"+tr.Event.String(), func(t *testing.T) {
			d := putInState(t, tr.From)
			before := d.Snapshot(0)
			d.mu.Lock()
			got := d.fire(0, tr.Event)
			d.mu.Unlock()
			assert.Equal(t, tr, got)
			s := d.Snapshot(0)
			assert.Equal(t, tr.To, s.State)
			// CTRL_STS mirrors the state: tpmIdle only in Idle, tpmSts only in Error.
			assert.Equal(t, tr.To == StateIdle, s.CtrlSts&CtrlStsTPMIdle != 0, "tpmIdle")
			assert.Equal(t, tr.To == StateError, s.CtrlSts&CtrlStsTPMSts != 0, "tpmSts")
			switch tr.Effect {
			case EffRespond:
				assert.Zero(t, s.Start, "PTP: the TPM clears CTRL_START with the response")
				assert.NotZero(t, s.IntSts&IntStart, "startInt")
			case EffSetError, EffAbort:
				assert.Zero(t, s.Start)
			case EffReset:
				assert.Equal(t, -1, s.Active, "reset drops the active locality")
			case EffIgnore:
				if tr.From != StateError || tr.Event != EvStart {
					assert.Equal(t, before.Start, s.Start, "ignored event leaves CTRL_START alone")
				}
			}
		})
	}
}

// relationSetup builds a device where locality 2 sees relation r.
func relationSetup(t *testing.T, r LocRelation) *Device {
	d := newDev(t)
	switch r {
	case LocNone:
	case LocSelf:
		grant(t, d, 2)
	case LocLower, LocLowerPending:
		grant(t, d, 1)
	case LocHigher, LocHigherPending:
		grant(t, d, 3)
	}
	if r == LocLowerPending || r == LocHigherPending {
		w32(t, d, 2, RegLocCtrl, LocCtrlRequestAccess)
		_, st := d.ProcessLocality(2)
		require.Equal(t, StatusOK, st)
	}
	d.mu.Lock()
	require.Equal(t, r, d.relation(2))
	d.mu.Unlock()
	return d
}

var locCtrlFor = map[LocEvent]uint32{
	LocEvNone:       LocCtrlResetEstablishment, // no request bit
	LocEvRequest:    LocCtrlRequestAccess,
	LocEvRelinquish: LocCtrlRelinquish,
	LocEvSeize:      LocCtrlSeize,
	LocEvConflict:   LocCtrlRequestAccess | LocCtrlRelinquish,
}

func TestLocalityTableEveryPair(t *testing.T) {
	for _, tr := range LocTransitions() {
		t.Run(tr.From.String()+"/"+tr.Event.String(), func(t *testing.T) {
			d := relationSetup(t, tr.From)
			prevActive := d.ActiveLocality()
			w32(t, d, 2, RegLocCtrl, locCtrlFor[tr.Event])
			assert.Zero(t, r32(t, d, 2, RegLocCtrl), "LOC_CTRL is write-only and reads 0")
			got, st := d.ProcessLocality(2)
			assert.Equal(t, tr, got)
			want := StatusOK
			switch tr.Effect {
			case LocDeny:
				want = StatusDenied
			case LocInvalid:
				want = StatusInvCRBCtrlData
			}
			assert.Equal(t, want, st)
			d.mu.Lock()
			rel := d.relation(2)
			d.mu.Unlock()
			assert.Equal(t, tr.To, rel)
			ls := r32(t, d, 2, RegLocState)
			assert.NotZero(t, ls&LocStateRegValidSts)
			if a := d.ActiveLocality(); a >= 0 {
				assert.Equal(t, uint32(a), (ls&LocStateActiveMask)>>LocStateActiveShift)
				assert.NotZero(t, ls&LocStateLocAssigned)
			} else {
				assert.Zero(t, ls&LocStateLocAssigned)
			}
			assert.Equal(t, tr.To == LocSelf, r32(t, d, 2, RegLocSts)&LocStsGranted != 0, "Granted")
			if tr.Effect == LocSeize {
				assert.NotZero(t, r32(t, d, prevActive, RegLocSts)&LocStsBeenSeized, "beenSeized at the old locality")
			}
		})
	}
}

func TestClosedLocalityDenied(t *testing.T) {
	d, err := NewDevice(DeviceConfig{Base: testBase}) // default: 4 closed
	require.NoError(t, err)
	w32(t, d, 4, RegLocCtrl, LocCtrlRequestAccess)
	_, st := d.ProcessLocality(4)
	assert.Equal(t, StatusDenied, st)
	st, _ = d.ServeCommand(4, okEngine)
	assert.Equal(t, StatusDenied, st)
	assert.Equal(t, -1, d.ActiveLocality())
}

func TestReleaseGrantsHighestPending(t *testing.T) {
	d := newDev(t)
	grant(t, d, 0)
	for _, n := range []int{1, 3} {
		w32(t, d, n, RegLocCtrl, LocCtrlRequestAccess)
		_, st := d.ProcessLocality(n)
		require.Equal(t, StatusOK, st)
	}
	require.Equal(t, 0, d.ActiveLocality())
	w32(t, d, 0, RegLocCtrl, LocCtrlRelinquish)
	_, st := d.ProcessLocality(0)
	require.Equal(t, StatusOK, st)
	assert.Equal(t, 3, d.ActiveLocality())
}

func TestServeCommand(t *testing.T) {
	d := newDev(t)
	grant(t, d, 1)
	writeCmd(t, d, 1, 3)
	w32(t, d, 1, RegCtrlStart, CtrlStartInvoke)
	var got []byte
	st, out := d.ServeCommand(1, engineFunc(func(c []byte) ([]byte, error) {
		got = append([]byte(nil), c...)
		return okEngine(c)
	}))
	require.Equal(t, StatusOK, st)
	assert.True(t, out.Ran)
	assert.Len(t, got, 13, "the engine sees exactly the command's header size")
	assert.Zero(t, r32(t, d, 1, RegCtrlStart))
	v, err := d.ReadMMIO(LocalityStride+DataBufferOffset+8, 4)
	require.NoError(t, err)
	assert.Equal(t, uint64(0x0d_ab_00_00), v, "response bytes 8..11 = 00 00 ab 0d")
}

func TestServeCommandStatuses(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*Device)
		loc   int
		want  Status
		rule  string
	}{
		{"inactive locality", func(d *Device) {}, 1, StatusInvArg, "DEN0138: a command at a locality that is not active -> INVARG"},
		{"nothing to do", func(d *Device) {}, 0, StatusInvCRBCtrlData, "DEN0138: START with CTRL_START clear -> INV_CRB_CTRL_DATA"},
		{"cmd size 0", func(d *Device) { w32(t, d, 0, RegCmdSize, 0); w32(t, d, 0, RegCtrlStart, 1) }, 0, StatusInvCRBCtrlData, "DEN0138: command size 0 -> INV_CRB_CTRL_DATA"},
		{"cmd size too big", func(d *Device) { w32(t, d, 0, RegCmdSize, DataBufferSize+1); w32(t, d, 0, RegCtrlStart, 1) }, 0, StatusInvCRBCtrlData, "beyond the buffer"},
		{"cmd addr outside", func(d *Device) { w32(t, d, 0, RegCmdLAddr, 0x1000); w32(t, d, 0, RegCtrlStart, 1) }, 0, StatusInvCRBCtrlData, "command address outside the buffer"},
		{"rsp addr secure", func(d *Device) {
			require.NoError(t, d.WriteMMIO(uint64(RegRspAddr), 8, 0x0e00_0000))
			w32(t, d, 0, RegCtrlStart, 1)
		}, 0, StatusInvCRBCtrlData, "response address outside the buffer"},
		{"both requests", func(d *Device) { w32(t, d, 0, RegCtrlReq, CtrlReqCmdReady|CtrlReqGoIdle) }, 0, StatusInvCRBCtrlData, "cmdReady and goIdle together"},
		{"cancel only", func(d *Device) { w32(t, d, 0, RegCtrlCancel, 1) }, 0, StatusOK, "cancel with no command: nothing to cancel"},
		{"locality 5", func(d *Device) {}, 5, StatusInvArg, "locality above 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDev(t)
			grant(t, d, 0)
			c.setup(d)
			st, _ := d.ServeCommand(c.loc, okEngine)
			assert.Equal(t, c.want, st, c.rule)
		})
	}
}

func TestCommandSizeHeaderMismatch(t *testing.T) {
	d := newDev(t)
	grant(t, d, 0)
	writeCmd(t, d, 0, 0)
	w32(t, d, 0, RegCmdSize, 8) // header claims 10 bytes
	w32(t, d, 0, RegCtrlStart, 1)
	st, out := d.ServeCommand(0, okEngine)
	require.Equal(t, StatusOK, st)
	assert.False(t, out.Ran)
	assert.Equal(t, RCCommandSize, out.TPMRC)
}

func TestEngineFaults(t *testing.T) {
	for name, eng := range map[string]engineFunc{
		"error":     func([]byte) ([]byte, error) { return nil, errors.New("engine down") },
		"truncated": func([]byte) ([]byte, error) { return []byte{0x80, 0x01, 0, 0}, nil },
		"size lies": func([]byte) ([]byte, error) {
			r := ErrorResponse(0)
			binary.BigEndian.PutUint32(r[2:], 40)
			return r, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			d := newDev(t)
			grant(t, d, 0)
			writeCmd(t, d, 0, 0)
			w32(t, d, 0, RegCtrlStart, 1)
			st, out := d.ServeCommand(0, eng)
			assert.Equal(t, StatusOK, st)
			assert.Error(t, out.EngineErr)
			assert.Equal(t, StateError, d.State())
			assert.Equal(t, CtrlStsTPMSts, r32(t, d, 0, RegCtrlSts), "PTP: fatal error shows in tpmSts")
			assert.Zero(t, r32(t, d, 0, RegCtrlStart))
			// The next START is refused: DEN0138 DENIED, processing disabled.
			w32(t, d, 0, RegCtrlStart, 1)
			st, _ = d.ServeCommand(0, okEngine)
			assert.Equal(t, StatusDenied, st)
		})
	}
}

func TestCancelBeforeRun(t *testing.T) {
	d := newDev(t)
	grant(t, d, 0)
	writeCmd(t, d, 0, 0)
	w32(t, d, 0, RegCtrlCancel, 1)
	w32(t, d, 0, RegCtrlStart, 1)
	st, out := d.ServeCommand(0, okEngine)
	require.Equal(t, StatusOK, st)
	assert.False(t, out.Ran)
	assert.Equal(t, RCCanceled, out.TPMRC)
}

func TestMMIOAccessRules(t *testing.T) {
	d := newDev(t)
	// Misaligned / bad size / out of range are errors, never panics.
	_, err := d.ReadMMIO(2, 4)
	assert.Error(t, err)
	_, err = d.ReadMMIO(0, 3)
	assert.Error(t, err)
	_, err = d.ReadMMIO(WindowSize, 1)
	assert.Error(t, err)
	assert.Error(t, d.WriteMMIO(WindowSize-4, 8, 0))
	// Reserved offsets read zero and ignore writes.
	for _, off := range []uint64{0x04, 0x10, 0x28, 0x38, 0x70, 0x78} {
		require.NoError(t, d.WriteMMIO(off, 4, 0xFFFFFFFF))
		v, err := d.ReadMMIO(off, 4)
		require.NoError(t, err)
		assert.Zero(t, v, "reserved %#x", off)
	}
	// Read-only registers ignore writes.
	before := r32(t, d, 0, RegLocState)
	w32(t, d, 0, RegLocState, 0xFFFFFFFF)
	assert.Equal(t, before, r32(t, d, 0, RegLocState))
	id, err := d.ReadMMIO(uint64(RegIntfID), 8)
	require.NoError(t, err)
	assert.Equal(t, DefaultInterfaceID, id)
	lo, _ := d.ReadMMIO(uint64(RegIntfID), 4)
	hi, _ := d.ReadMMIO(uint64(RegIntfID)+4, 4)
	assert.Equal(t, id, lo|hi<<32, "64-bit register through two 32-bit reads")
	// Control area of an inactive locality ignores writes.
	w32(t, d, 0, RegCtrlStart, 1)
	assert.Zero(t, r32(t, d, 0, RegCtrlStart))
	grant(t, d, 0)
	// 8/16-bit accesses to a 32-bit register.
	require.NoError(t, d.WriteMMIO(uint64(RegCmdSize)+2, 2, 0x1234))
	assert.Equal(t, uint32(0x1234_0f80), r32(t, d, 0, RegCmdSize))
	b, _ := d.ReadMMIO(uint64(RegCmdSize)+3, 1)
	assert.Equal(t, uint64(0x12), b)
	// 64-bit write spanning CMD_HADDR and RSP_SIZE.
	require.NoError(t, d.WriteMMIO(uint64(RegCmdHAddr), 8, 0x0000_0f80_0000_0000))
	assert.Equal(t, uint32(0xf80), r32(t, d, 0, RegRspSize))
	// INT_STS is write-1-to-clear.
	assert.NotZero(t, r32(t, d, 0, RegIntSts)&IntLocalityChange)
	w32(t, d, 0, RegIntSts, IntLocalityChange)
	assert.Zero(t, r32(t, d, 0, RegIntSts)&IntLocalityChange)
	// Reserved bits of CTRL_REQ are not stored.
	w32(t, d, 0, RegCtrlReq, 0xFFFFFFF0)
	assert.Zero(t, r32(t, d, 0, RegCtrlReq))
	// CTRL_START: writing 0 does not clear it.
	w32(t, d, 0, RegCtrlStart, 1)
	w32(t, d, 0, RegCtrlStart, 0)
	assert.Equal(t, uint32(1), r32(t, d, 0, RegCtrlStart))
}

func TestResetValues(t *testing.T) {
	d := newDev(t)
	for n := 0; n < NumLocalities; n++ {
		assert.Equal(t, LocStateRegValidSts|LocStateTPMEstablished, r32(t, d, n, RegLocState))
		assert.Equal(t, CtrlStsTPMIdle, r32(t, d, n, RegCtrlSts))
		assert.Equal(t, uint32(DataBufferSize), r32(t, d, n, RegCmdSize))
		a := d.BufferAddr(n)
		assert.Equal(t, uint32(a), r32(t, d, n, RegCmdLAddr))
		v, _ := d.ReadMMIO(uint64(n)*LocalityStride+uint64(RegRspAddr), 8)
		assert.Equal(t, a, v)
	}
	assert.Equal(t, uint64(testBase+0x40), d.ControlArea())
}

func TestRegString(t *testing.T) {
	assert.Equal(t, "TPM_CRB_CTRL_START", RegCtrlStart.String())
	assert.Equal(t, "TPM_CRB_INTF_ID+4", (RegIntfID + 4).String())
	assert.Equal(t, "reserved(0x10)", Reg(0x10).String())
	assert.Equal(t, "TPM_CRB_DATA_BUFFER+0x10", (RegDataBuffer + 0x10).String())
	assert.Equal(t, "locAssigned|activeLocality=0x2|tpmRegValidSts",
		DescribeBits(RegLocState, uint64(LocStateLocAssigned|2<<LocStateActiveShift|LocStateRegValidSts)))
	assert.Equal(t, "START", FuncStart.String())
	assert.Equal(t, "DEN0138 status DENIED", StatusDenied.Error())
	assert.Nil(t, StatusOK.Err())
	assert.Equal(t, -EACCES, LinuxErrno(StatusDenied))
	assert.Equal(t, -EINVAL, LinuxErrno(Status(0x1234)))
	assert.Equal(t, "1.0", Version1_0.String())
}

func TestDocNotStale(t *testing.T) {
	// docs/crb.md is DocMarkdown followed by crbtest's case list; this
	// package checks its part, crbtest the whole file.
	got, err := os.ReadFile("../docs/crb.md")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(got), DocMarkdown()), "docs/crb.md is stale: run go generate ./crb")
}

// FuzzRegisterWrites writes any sequence of (offset, size, value) to the
// register file, interleaved with the TPM-side operations, and checks that
// nothing panics and the invariants hold.
func FuzzRegisterWrites(f *testing.F) {
	f.Add([]byte{0x08, 0x00, 0x01, 0xF0, 0x4C, 0x00, 0x01, 0xF1})
	f.Add([]byte{0x40, 0x02, 0x01, 0xF1, 0x58, 0x12, 0x00, 0xF1, 0x08, 0x10, 0x02, 0xF0})
	f.Fuzz(func(t *testing.T, prog []byte) {
		d, err := NewDevice(DeviceConfig{Base: testBase})
		if err != nil {
			t.Fatal(err)
		}
		for len(prog) >= 4 {
			op, a, b, c := prog[0], prog[1], prog[2], prog[3]
			prog = prog[4:]
			off := (uint64(a)<<4 | uint64(b&0x0F)) % WindowSize
			off = off | uint64(b>>4)<<12
			off %= WindowSize
			sizes := []int{1, 2, 4, 8}
			size := sizes[c&3]
			switch {
			case c == 0xF0:
				d.ProcessLocality(int(a % 6))
			case c == 0xF1:
				d.ServeCommand(int(a%6), okEngine)
			case c == 0xF2:
				d.Reset()
			case op&1 == 0:
				_ = d.WriteMMIO(off, size, uint64(op)*0x0101010101010101)
			default:
				_, _ = d.ReadMMIO(off, size)
			}
			s := d.Snapshot(0)
			if s.Active >= NumLocalities || s.Active < -1 {
				t.Fatalf("active locality %d", s.Active)
			}
			if s.State == StateIdle && s.CtrlSts != CtrlStsTPMIdle {
				t.Fatalf("Idle with CTRL_STS %#x", s.CtrlSts)
			}
			if d.Closed(s.Active) {
				t.Fatalf("closed locality %d active", s.Active)
			}
		}
	})
}

func TestResponseTooLargeNoMem(t *testing.T) {
	d := newDev(t)
	grant(t, d, 0)
	writeCmd(t, d, 0, 0)
	w32(t, d, 0, RegRspSize, 11) // okEngine answers 12 bytes
	w32(t, d, 0, RegCtrlStart, 1)
	st, out := d.ServeCommand(0, okEngine)
	assert.Equal(t, StatusNoMem, st, "DEN0138 NOMEM: the response does not fit")
	assert.True(t, out.Ran)
	assert.Equal(t, RCMemory, out.TPMRC)
	assert.Zero(t, r32(t, d, 0, RegCtrlStart))
	assert.Equal(t, StateComplete, d.State())
}

func TestCtrlReqLatestWins(t *testing.T) {
	d := newDev(t)
	grant(t, d, 0)
	w32(t, d, 0, RegCtrlReq, CtrlReqCmdReady)
	w32(t, d, 0, RegCtrlReq, CtrlReqGoIdle)
	assert.Equal(t, CtrlReqGoIdle, r32(t, d, 0, RegCtrlReq), "a later request replaces one not yet taken")
	st, _ := d.ServeCommand(0, okEngine)
	assert.Equal(t, StatusOK, st)
	assert.Equal(t, StateIdle, d.State())
	w32(t, d, 0, RegCtrlReq, CtrlReqGoIdle|CtrlReqCmdReady)
	st, _ = d.ServeCommand(0, okEngine)
	assert.Equal(t, StatusInvCRBCtrlData, st, "both in one write is inconsistent control data")
	assert.Zero(t, r32(t, d, 0, RegCtrlReq))
}

func TestResponseAreaZeroedAfterResponse(t *testing.T) {
	d := newDev(t)
	grant(t, d, 0)
	writeCmd(t, d, 0, 90) // 100-byte command
	w32(t, d, 0, RegCtrlStart, 1)
	st, _ := d.ServeCommand(0, okEngine) // 12-byte response
	require.Equal(t, StatusOK, st)
	for off := uint64(12); off < 128; off += 4 {
		v, err := d.ReadMMIO(DataBufferOffset+off, 4)
		require.NoError(t, err)
		require.Zero(t, v, "byte %d after the response must read 0", off)
	}
}
