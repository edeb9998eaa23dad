package crbdrv

import (
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeMsg answers DEN0138 calls with a fixed status/result, recording
// which ABI was used.
type fakeMsg struct {
	status  crb.Status
	result  uint64
	ffaErr  error
	busyN   int
	req, r2 int
	last    [4]uint64
}

func (m *fakeMsg) answer() error {
	if m.busyN > 0 {
		m.busyN--
		return ffa.ErrBusy
	}
	return m.ffaErr
}

func (m *fakeMsg) DirectReq(dst ffa.ID, is64 bool, a [5]uint64) ([5]uint64, error) {
	m.req++
	copy(m.last[:], a[1:])
	if err := m.answer(); err != nil {
		return [5]uint64{}, err
	}
	return [5]uint64{0, uint64(m.status), m.result}, nil
}

func (m *fakeMsg) DirectReq2(dst ffa.ID, u ffa.UUID, a [14]uint64) ([14]uint64, error) {
	m.r2++
	copy(m.last[:], a[:4])
	if err := m.answer(); err != nil {
		return [14]uint64{}, err
	}
	return [14]uint64{uint64(m.status), m.result}, nil
}

func newTestFFA(t *testing.T, m *fakeMsg, props ffa.PartitionProperties, logs *[]string) (*FFA, *VirtualClock) {
	clk := &VirtualClock{}
	f, err := NewFFA(FFAConfig{Messenger: m, Partition: ffa.PartitionInfo{ID: 0x8001, Properties: props}, Clock: clk,
		Log: func(l, s string) { *logs = append(*logs, l+": "+s) }})
	require.NoError(t, err)
	return f, clk
}

func TestProbe(t *testing.T) {
	cases := []struct {
		name    string
		props   ffa.PartitionProperties
		status  crb.Status
		version uint64
		errno   int
		log     string
	}{
		{"ok v1.0", ffa.PropDirectReq2Recv, crb.StatusOKResultsReturned, 0x10000, 0, "info: ABI version 1.0"},
		{"ok v1.3", ffa.PropDirectReqRecv, crb.StatusOKResultsReturned, 0x10003, 0, "info: ABI version 1.3"},
		{"major 2", ffa.PropDirectReq2Recv, crb.StatusOKResultsReturned, 0x20000, -crb.EINVAL, "warn: Incompatible ABI version"},
		{"major 0", ffa.PropDirectReq2Recv, crb.StatusOKResultsReturned, 0x00005, -crb.EINVAL, "warn: Incompatible ABI version"},
		{"no direct receive", 0, crb.StatusOKResultsReturned, 0x10000, -crb.EINVAL, "warn: partition doesn't support direct message receive."},
		{"version call fails", ffa.PropDirectReqRecv, crb.StatusNoFunc, 0, -crb.EINVAL, "err: failed to get crb interface version. rc:-2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs []string
			f, _ := newTestFFA(t, &fakeMsg{status: c.status, result: c.version}, c.props, &logs)
			err := f.Probe()
			assert.Equal(t, c.errno, Errno(err))
			assert.Contains(t, logs, c.log)
		})
	}
}

func TestReqSelection(t *testing.T) {
	var logs []string
	m := &fakeMsg{status: crb.StatusOK}
	f, _ := newTestFFA(t, m, ffa.PropDirectReqRecv|ffa.PropDirectReq2Recv|ffa.PropAArch64, &logs)
	require.NoError(t, f.Start(crb.QualifierLocalityRequest, 3))
	assert.Equal(t, 1, m.r2, "REQ2 when the partition advertises it")
	assert.Equal(t, [4]uint64{uint64(crb.FuncStart), 1, 3, 0}, m.last)
	m2 := &fakeMsg{status: crb.StatusOK}
	f2, _ := newTestFFA(t, m2, ffa.PropDirectReqRecv, &logs)
	require.NoError(t, f2.Start(crb.QualifierCommand, 0))
	assert.Equal(t, 1, m2.req, "REQ otherwise")
	// ffa_partition_supports_direct_req2_recv also requires !mode_32bit:
	// an AArch32 partition gets 32-bit DIRECT_REQ even with bit 9 set.
	m3 := &fakeMsg{status: crb.StatusOK}
	f3, _ := newTestFFA(t, m3, ffa.PropDirectReqRecv|ffa.PropDirectReq2Recv, &logs)
	require.NoError(t, f3.Start(crb.QualifierCommand, 0))
	assert.Equal(t, [2]int{1, 0}, [2]int{m3.req, m3.r2}, "REQ for a 32-bit partition")
}

func TestStatusToErrno(t *testing.T) {
	for _, st := range crb.Statuses() {
		var logs []string
		f, _ := newTestFFA(t, &fakeMsg{status: st}, ffa.PropDirectReq2Recv, &logs)
		err := f.Start(crb.QualifierCommand, 0)
		assert.Equal(t, crb.LinuxErrno(st), Errno(err), st.String())
		if !st.OK() {
			var got crb.Status
			require.ErrorAs(t, err, &got, "the DEN0138 status is kept as the cause")
			assert.Equal(t, st, got)
		}
	}
	// FF-A errors map as ffa_to_linux_errno does.
	for ferr, want := range map[ffa.Status]int{ffa.ErrAborted: -ECANCELED, ffa.ErrDenied: -crb.EACCES,
		ffa.ErrInvalidParameters: -crb.EINVAL, ffa.ErrNotSupported: -EOPNOTSUPP} {
		var logs []string
		f, _ := newTestFFA(t, &fakeMsg{ffaErr: ferr}, ffa.PropDirectReq2Recv, &logs)
		assert.Equal(t, want, Errno(f.Start(crb.QualifierCommand, 0)), ferr.String())
	}
}

func TestBusyRetry(t *testing.T) {
	var logs []string
	m := &fakeMsg{status: crb.StatusOK, busyN: 5}
	f, clk := newTestFFA(t, m, ffa.PropDirectReq2Recv|ffa.PropAArch64, &logs)
	require.NoError(t, f.Start(crb.QualifierCommand, 0))
	assert.Equal(t, 6, m.r2)
	assert.Equal(t, 5*busyPoll, clk.Now())
	assert.Empty(t, logs)

	m = &fakeMsg{status: crb.StatusOK, busyN: 1 << 30}
	f, clk = newTestFFA(t, m, ffa.PropDirectReq2Recv|ffa.PropAArch64, &logs)
	err := f.Start(crb.QualifierCommand, 0)
	assert.Equal(t, -crb.EBUSY, Errno(err))
	assert.Contains(t, logs, "warn: Busy retry timed out")
	assert.Equal(t, DefaultBusyTimeout+busyPoll, clk.Now(), "gives up at the first check past busy_timeout_ms")
	assert.Equal(t, int(DefaultBusyTimeout/busyPoll)+1, m.r2)
	_ = time.Millisecond
}

func TestErrorStrings(t *testing.T) {
	e := &Error{Op: "send", Errno: -crb.E2BIG}
	assert.Equal(t, "crbdrv: send: E2BIG (-7)", e.Error())
	assert.Equal(t, "ETIME", ErrnoName(-crb.ETIME))
	assert.Equal(t, 0, Errno(nil))
}
