package tpmsp

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type engineFunc func([]byte) ([]byte, error)

func (f engineFunc) Send(b []byte) ([]byte, error) { return f(b) }

var okEngine = engineFunc(func([]byte) ([]byte, error) {
	r := make([]byte, 10)
	binary.BigEndian.PutUint16(r, 0x8001)
	binary.BigEndian.PutUint32(r[2:], 10)
	return r, nil
})

const base = 0x6000_0000

func newPart(t testing.TB, cfg Config) *Partition {
	t.Helper()
	dev, err := crb.NewDevice(crb.DeviceConfig{Base: base})
	require.NoError(t, err)
	cfg.Device, cfg.Engine = dev, okEngine
	p, err := New(cfg)
	require.NoError(t, err)
	return p
}

func w32(t testing.TB, p *Partition, loc int, r crb.Reg, v uint32) {
	require.NoError(t, p.Device().WriteMMIO(uint64(loc)*crb.LocalityStride+uint64(r), 4, uint64(v)))
}

func TestNewErrors(t *testing.T) {
	_, err := New(Config{})
	assert.Error(t, err)
	dev, _ := crb.NewDevice(crb.DeviceConfig{})
	_, err = New(Config{Device: dev, Engine: okEngine, ID: 0x0001})
	assert.Error(t, err, "a partition ID needs bit 15")
}

func TestServe(t *testing.T) {
	cases := []struct {
		name string
		fn   uint64
		args []uint64
		want crb.Status
	}{
		{"version", uint64(crb.FuncGetInterfaceVersion), nil, crb.StatusOKResultsReturned},
		{"version mbz", uint64(crb.FuncGetInterfaceVersion), []uint64{0, 0, 1}, crb.StatusInvArg},
		{"function above 32 bits", 1<<32 | uint64(crb.FuncGetInterfaceVersion), nil, crb.StatusNoFunc},
		{"feature notification", uint64(crb.FuncGetFeatureInfo), []uint64{uint64(crb.FeatureNotification)}, crb.StatusOKResultsReturned},
		{"feature mbz", uint64(crb.FuncGetFeatureInfo), []uint64{uint64(crb.FeatureNotification), 1}, crb.StatusInvArg},
		{"start qualifier high bits", uint64(crb.FuncStart), []uint64{1 << 40, 0}, crb.StatusInvArg},
		{"start locality 64-bit", uint64(crb.FuncStart), []uint64{0, 1 << 32}, crb.StatusInvArg},
		{"register id 64", uint64(crb.FuncRegisterForNotification), []uint64{0, 64}, crb.StatusInvArg},
		{"register mbz", uint64(crb.FuncRegisterForNotification), []uint64{1 << 17, 1}, crb.StatusInvArg},
		{"register", uint64(crb.FuncRegisterForNotification), []uint64{1 << 16, 3}, crb.StatusOK},
		{"finish unregistered", uint64(crb.FuncFinishNotified), nil, crb.StatusDenied},
		{"closed locality 4", uint64(crb.FuncStart), []uint64{0, 4}, crb.StatusDenied},
		{"unknown", 0x0F000601, nil, crb.StatusNoFunc},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPart(t, Config{})
			st, _ := p.Serve(0, "test", c.fn, c.args)
			assert.Equal(t, c.want, st)
		})
	}
}

func TestNotSupportedConfigs(t *testing.T) {
	p := newPart(t, Config{NoReq2: true, NoNotifications: true})
	assert.False(t, p.Properties().Has(ffa.PropDirectReq2Recv))
	_, err := p.DirectReq2(spmc.Call{}, ffa.DirectReq2{})
	assert.ErrorIs(t, err, ffa.ErrNotSupported)
	for _, fn := range []crb.Func{crb.FuncRegisterForNotification, crb.FuncUnregisterFromNotification, crb.FuncFinishNotified} {
		st, _ := p.Serve(0, "test", uint64(fn), nil)
		assert.Equal(t, crb.StatusNotSup, st, fn.String())
	}
	st, _ := p.Serve(0, "test", uint64(crb.FuncGetFeatureInfo), []uint64{uint64(crb.FeatureNotification)})
	assert.Equal(t, crb.StatusNotSup, st)
}

func TestNotificationRaisedPerCommand(t *testing.T) {
	p := newPart(t, Config{})
	var events []string
	p.SetTrace(func(e Event) { events = append(events, e.String()) })
	st, _ := p.Serve(0, "REQ2", uint64(crb.FuncRegisterForNotification), []uint64{0, 5})
	require.Equal(t, crb.StatusOK, st)
	w32(t, p, 0, crb.RegLocCtrl, crb.LocCtrlRequestAccess)
	st, _ = p.Serve(0, "REQ2", uint64(crb.FuncStart), []uint64{1, 0})
	require.Equal(t, crb.StatusOK, st)
	cmd := okEngineCmd()
	for i, b := range cmd {
		require.NoError(t, p.Device().WriteMMIO(crb.DataBufferOffset+uint64(i), 1, uint64(b)))
	}
	w32(t, p, 0, crb.RegCtrlStart, 1)
	st, _ = p.Serve(0, "REQ2", uint64(crb.FuncStart), []uint64{0, 0})
	require.Equal(t, crb.StatusOK, st)
	assert.Equal(t, 1, p.PendingNotifications())
	st, _ = p.Serve(0, "REQ2", uint64(crb.FuncFinishNotified), nil)
	require.Equal(t, crb.StatusOK, st)
	assert.Equal(t, 0, p.PendingNotifications())
	// Another endpoint may not finish or unregister our registration.
	st, _ = p.Serve(1, "REQ2", uint64(crb.FuncUnregisterFromNotification), nil)
	assert.Equal(t, crb.StatusDenied, st)
	require.Len(t, events, 5)
	assert.Contains(t, events[1], "none-active --requestAccess--> self-active (grant)")
	assert.Contains(t, events[2], "Idle --Start--> Executing")
	assert.True(t, strings.HasPrefix(events[0], "REQ2 from 0x0000: REGISTER_FOR_NOTIFICATION"), events[0])
}

func okEngineCmd() []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b, 0x8001)
	binary.BigEndian.PutUint32(b[2:], 12)
	binary.BigEndian.PutUint32(b[6:], 0x17B)
	binary.BigEndian.PutUint16(b[10:], 4)
	return b
}

// FuzzServe drives the partition's message handler with any sequence of
// DEN0138 calls from two endpoints interleaved with CRB register writes,
// and checks that every answer is a DEN0138 status, that invalid
// arguments never get OK, and that a closed locality never becomes active.
func FuzzServe(f *testing.F) {
	f.Add([]byte{0x08, 0x01, 0x11, 0x00, 0x4C, 0x01, 0x10, 0x00})
	f.Add([]byte{0x40, 0x01, 0x10, 0x00, 0x40, 0x02, 0x10, 0x00, 0x08, 0x02, 0x11, 0x00})
	f.Add([]byte{0x00, 0x00, 0x23, 0x05, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0x25, 0x00})
	f.Fuzz(func(t *testing.T, prog []byte) { fuzzServe(t, prog) })
}

func fuzzServe(t testing.TB, prog []byte) {
	funcs := append(crb.Funcs(), 0x0F000601, 0)
	{
		p := newPart(t, Config{})
		known := map[crb.Status]bool{}
		for _, s := range crb.Statuses() {
			known[s] = true
		}
		for len(prog) >= 4 {
			a, b, op, c := prog[0], prog[1], prog[2], prog[3]
			prog = prog[4:]
			switch op >> 4 {
			case 0: // register write: offset a (4-aligned) at locality b%5, value pattern c
				loc := int(b % 5)
				off := uint64(loc)*crb.LocalityStride + uint64(a&^3)
				_ = p.Device().WriteMMIO(off, 4, uint64(b)<<8|uint64(c)|uint64(op&0xF)<<24)
			default: // a DEN0138 call
				fn := uint64(funcs[int(op&0xF)%len(funcs)])
				caller := ffa.ID(c & 1)
				args := []uint64{uint64(a), uint64(b), uint64(c >> 1)}
				if op>>4 == 2 {
					args[0] |= uint64(c) << 33
				}
				st, _ := p.Serve(caller, "fuzz", fn, args)
				if !known[st] {
					t.Fatalf("status %#x is not a DEN0138 status", uint32(st))
				}
				if crb.Func(fn) == crb.FuncStart && st.OK() && (args[0] > 1 || args[1] > 4 || args[2] != 0) {
					t.Fatalf("START(%#x, %#x, %#x) answered %s", args[0], args[1], args[2], st)
				}
			}
			if a := p.Device().ActiveLocality(); a >= 0 && p.Device().Closed(a) {
				t.Fatalf("closed locality %d became active", a)
			}
		}
	}
}
