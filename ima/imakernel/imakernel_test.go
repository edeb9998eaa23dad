package imakernel_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/crb/platform"
	"github.com/ffatpm/ffatpm/ima"
	"github.com/ffatpm/ffatpm/ima/eventlog"
	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/imakernel"
	"github.com/ffatpm/ffatpm/kernel"
	"github.com/ffatpm/ffatpm/kernel/kerneltest"
)

// bootRun is one boot of the whole chain on the simulator: firmware
// measures PCR0..9 and writes its event log, then the kernel model boots
// with IMA plugged in.
type bootRun struct {
	res  *kernel.Result
	x    *imakernel.IMA
	eng  *ima.TPM // the engine seen directly (the verifier's quote)
	elog *eventlog.Log
}

// pointsBeforeIMA are measurement points a boot has before and around
// init_ima: a driver loading firmware at device level, a usermode helper
// (request_module -> /sbin/modprobe) during late_initcall after
// deferred_probe_initcall, and a file read at the end of late_initcall.
func pointsBeforeIMA() []kernel.ScheduledMeasurement {
	return []kernel.ScheduledMeasurement{
		{Level: kernel.LevelDevice, Func: "FIRMWARE_CHECK", Path: "/lib/firmware/fw.bin"},
		{Level: kernel.LevelLate, After: "deferred_probe_initcall", Func: "BPRM_CHECK", Path: "/sbin/modprobe"},
		{Level: kernel.LevelLate, Func: "FILE_CHECK", Path: "/etc/imaref-data.txt"},
	}
}

func boot(t *testing.T, preset string, opts imakernel.Options, mutate func(*kernel.Spec)) *bootRun {
	t.Helper()
	p, err := platform.New(platform.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	kp, err := kerneltest.KernelPlatform(p)
	require.NoError(t, err)
	r := &bootRun{}
	r.elog, err = imakernel.MeasureFirmware(p.Engine, eventlog.Images{})
	require.NoError(t, err)
	pr, ok := kernel.LookupPreset(preset)
	require.True(t, ok, preset)
	spec := pr.Spec(kp)
	spec.Measurements = pointsBeforeIMA()
	spec.UserspaceExecs = []string{"/init", "/bin/busybox", "/sbin/init"}
	if opts.Files == nil {
		opts.Files = ima.EmbeddedFiles()
	}
	if mutate != nil {
		mutate(&spec) // before Install: it reads IMA_INIT_LATE_SYNC from spec.Config
	}
	r.x = imakernel.New(opts)
	r.x.Install(&spec)
	r.res, err = kernel.Boot(spec)
	require.NoError(t, err)
	require.NoError(t, r.x.Err())
	r.eng, err = ima.NewTPM(p.Engine)
	require.NoError(t, err)
	return r
}

func (r *bootRun) first(t *testing.T) ima.Entry {
	t.Helper()
	require.NotNil(t, r.x.State(), "init_ima never completed")
	ents := r.x.State().List().Entries()
	require.NotEmpty(t, ents)
	return ents[0]
}

func (r *bootRun) statuses() map[string]imakernel.Status {
	out := map[string]imakernel.Status{}
	for _, p := range r.x.Points() {
		out[p.Func+" "+p.Path] = p.Status
	}
	return out
}

// verify exports the list as securityfs would and checks it like a remote
// verifier against the engine's PCRs and the firmware event log.
func (r *bootRun) verify(t *testing.T) *ima.Report {
	t.Helper()
	var bin bytes.Buffer
	require.NoError(t, r.x.State().List().WriteBinary(&bin, hashalg.SHA1))
	recs, err := ima.ParseBinary(bin.Bytes(), 20)
	require.NoError(t, err)
	ev := ima.Evidence{Lists: map[hashalg.Alg][]ima.Record{hashalg.SHA1: recs}, PCRs: map[hashalg.Alg]ima.PCRValues{}, EventLog: r.elog}
	all, err := ima.ReadAll(r.eng, 24)
	require.NoError(t, err)
	for a, vals := range all {
		p := ima.PCRValues{}
		for i, v := range vals {
			p[i] = v
		}
		ev.PCRs[a] = p
	}
	return ima.Verify(ev)
}

func zeroPCR10(t *testing.T, r *bootRun) {
	t.Helper()
	for _, b := range r.eng.Banks() {
		v, err := r.eng.Read(10, b)
		require.NoError(t, err)
		assert.Equal(t, make([]byte, b.Size()), v, "PCR10 %v must not be extended", b)
	}
}

// Seed 002's order without the patches: TPM-bypass.
func TestAcceptanceBypassWithoutPatches(t *testing.T) {
	r := boot(t, "before-v6.17", imakernel.Options{}, nil)
	log := r.res.FormatLog()
	assert.Contains(t, log, "] ima: No TPM chip found, activating TPM-bypass!\n")
	assert.False(t, r.x.SawChip())
	first := r.first(t)
	assert.Equal(t, "boot_aggregate\x00", string(first.Fields[1].Data))
	assert.Equal(t, append([]byte("sha256:\x00"), make([]byte, 32)...), first.Fields[0].Data, "all-zero boot_aggregate")
	zeroPCR10(t, r)
	assert.Equal(t, "", r.x.State().List().RootOfTrust())

	st := r.statuses()
	assert.Equal(t, imakernel.Lost, st["FIRMWARE_CHECK /lib/firmware/fw.bin"])
	assert.Equal(t, imakernel.Unprotected, st["BPRM_CHECK /sbin/modprobe"])
	assert.Equal(t, imakernel.Unprotected, st["BPRM_CHECK /init"])
	assert.Zero(t, r.x.Count(imakernel.Measured))

	rep := r.verify(t)
	assert.True(t, rep.Bypass)
	assert.False(t, rep.OK())
	assert.Contains(t, rep.String(), "TPM-bypass")
}

// Both seed 002 patches (v6.17): the chip is there at late_initcall.
func TestAcceptanceBothPatches(t *testing.T) {
	r := boot(t, "v6.17", imakernel.Options{}, nil)
	assert.NotContains(t, r.res.FormatLog(), "TPM-bypass")
	assert.True(t, r.x.SawChip())
	at, ok := r.x.Initialized()
	require.True(t, ok)
	assert.Equal(t, kernel.LevelLate, at.Level)
	first := r.first(t)
	assert.Equal(t, "boot_aggregate\x00", string(first.Fields[1].Data))
	want, err := ima.BootAggregate(r.eng, hashalg.SHA256)
	require.NoError(t, err)
	assert.Equal(t, append([]byte("sha256:\x00"), want...), first.Fields[0].Data, "boot_aggregate over the real PCR0..9")
	assert.NotEqual(t, make([]byte, 32), want)
	assert.Equal(t, "tpm", r.x.State().List().RootOfTrust())

	st := r.statuses()
	assert.Equal(t, imakernel.Lost, st["FIRMWARE_CHECK /lib/firmware/fw.bin"], "device level is before any init_ima")
	assert.Equal(t, imakernel.Measured, st["BPRM_CHECK /sbin/modprobe"])
	assert.Equal(t, imakernel.Measured, st["BPRM_CHECK /init"])
	assert.Equal(t, 1, r.x.Count(imakernel.Lost))

	rep := r.verify(t)
	assert.True(t, rep.OK(), rep.String())
	assert.Contains(t, rep.String(), "ok   PCR10 sha256")
	assert.Contains(t, rep.String(), "ok   PCR10 sha512")
}

// CONFIG_IMA_INIT_LATE_SYNC without the patches: init_ima at
// late_initcall_sync finds the chip deferred probing registered.
func TestAcceptanceLateSyncKconfig(t *testing.T) {
	r := boot(t, "before-v6.17", imakernel.Options{}, func(s *kernel.Spec) { s.Config.Set("IMA_INIT_LATE_SYNC", kernel.Y) })
	assert.NotContains(t, r.res.FormatLog(), "TPM-bypass")
	at, ok := r.x.Initialized()
	require.True(t, ok)
	assert.Equal(t, kernel.LevelLateSync, at.Level)
	ic, ok := r.res.InitcallAt(imakernel.InitcallInitIMA)
	require.True(t, ok)
	assert.Equal(t, kernel.LevelLateSync, ic.Level)
	first := r.first(t)
	assert.Equal(t, "boot_aggregate_late\x00", string(first.Fields[1].Data))
	want, _ := ima.BootAggregate(r.eng, hashalg.SHA256)
	assert.Equal(t, append([]byte("sha256:\x00"), want...), first.Fields[0].Data)

	st := r.statuses()
	assert.Equal(t, imakernel.Lost, st["BPRM_CHECK /sbin/modprobe"], "between late and late_sync")
	assert.Equal(t, imakernel.Lost, st["FILE_CHECK /etc/imaref-data.txt"])
	assert.Equal(t, imakernel.Measured, st["BPRM_CHECK /init"])
	assert.Equal(t, 3, r.x.Count(imakernel.Lost))

	rep := r.verify(t)
	assert.True(t, rep.OK(), rep.String())
	assert.True(t, rep.Late)
}

// The merged option names the entry boot_aggregate_late even when the
// chip was there all along (v6.17 + IMA_INIT_LATE_SYNC).
func TestLateSyncKconfigAlwaysLateName(t *testing.T) {
	r := boot(t, "v6.17", imakernel.Options{}, func(s *kernel.Spec) { s.Config.Set("IMA_INIT_LATE_SYNC", kernel.Y) })
	assert.Equal(t, "boot_aggregate_late\x00", string(r.first(t).Fields[1].Data))
	assert.Equal(t, imakernel.Lost, r.statuses()["BPRM_CHECK /sbin/modprobe"])
}

// Seed 001's RFC without the patches: -EPROBE_DEFER at late, retry at
// late_initcall_sync, "boot_aggregate_late".
func TestAcceptanceRFCRetry(t *testing.T) {
	r := boot(t, "before-v6.17", imakernel.Options{RFCLateRetry: true}, nil)
	log := r.res.FormatLog()
	assert.NotContains(t, log, "TPM-bypass")
	att := r.x.Attempts()
	require.Len(t, att, 2)
	assert.Equal(t, imakernel.InitcallInitIMA, att[0].Initcall)
	assert.Equal(t, kernel.EPROBE_DEFER, att[0].Ret)
	assert.False(t, att[0].SawChip)
	assert.Equal(t, imakernel.InitcallInitIMALateSync, att[1].Initcall)
	assert.Equal(t, kernel.Errno(0), att[1].Ret)
	assert.True(t, att[1].SawChip)
	ic, ok := r.res.InitcallAt(imakernel.InitcallInitIMA)
	require.True(t, ok)
	assert.Equal(t, kernel.EPROBE_DEFER, ic.Ret)
	first := r.first(t)
	assert.Equal(t, "boot_aggregate_late\x00", string(first.Fields[1].Data))
	want, _ := ima.BootAggregate(r.eng, hashalg.SHA256)
	assert.Equal(t, append([]byte("sha256:\x00"), want...), first.Fields[0].Data)
	st := r.statuses()
	assert.Equal(t, imakernel.Lost, st["BPRM_CHECK /sbin/modprobe"])
	assert.Equal(t, 3, r.x.Count(imakernel.Lost))
	assert.True(t, r.verify(t).OK())
}

// The RFC with the chip already there: the first attempt wins, the retry
// returns at once, and the name stays "boot_aggregate".
func TestRFCWithChipAtLate(t *testing.T) {
	r := boot(t, "v6.17", imakernel.Options{RFCLateRetry: true}, nil)
	att := r.x.Attempts()
	require.Len(t, att, 2)
	assert.Equal(t, kernel.Errno(0), att[0].Ret)
	assert.Equal(t, kernel.Errno(0), att[1].Ret)
	assert.Equal(t, "boot_aggregate\x00", string(r.first(t).Fields[1].Data))
	assert.Equal(t, 1, r.x.Count(imakernel.Lost))
}

// The RFC with no TPM support at all: no deferral, bypass at late.
func TestRFCWithoutTCGTPM(t *testing.T) {
	r := boot(t, "before-v6.17", imakernel.Options{RFCLateRetry: true}, func(s *kernel.Spec) { s.Config.Set("TCG_TPM", kernel.N) })
	att := r.x.Attempts()
	require.NotEmpty(t, att)
	assert.Equal(t, kernel.Errno(0), att[0].Ret)
	assert.Contains(t, r.res.FormatLog(), "ima: No TPM chip found, activating TPM-bypass!")
	assert.Equal(t, "boot_aggregate\x00", string(r.first(t).Fields[1].Data))
}

// The RTMR root of trust: the list records it, RTMR2 replays.
func TestRTMRScenario(t *testing.T) {
	rt := ima.NewRTMR()
	r := boot(t, "v6.17", imakernel.Options{RoT: imakernel.RoTRTMR, RTMR: rt}, nil)
	m := r.x.State()
	require.NotNil(t, m)
	assert.Equal(t, "rtmr", m.List().RootOfTrust())
	assert.Equal(t, 2, m.PCR())
	zeroPCR10(t, r)
	var bin bytes.Buffer
	require.NoError(t, m.List().WriteBinary(&bin, hashalg.SHA384))
	recs, err := ima.ParseBinary(bin.Bytes(), 48)
	require.NoError(t, err)
	got, err := ima.ReplayList(recs, hashalg.SHA384, hashalg.SHA384)
	require.NoError(t, err)
	v, _ := rt.Read(2, hashalg.SHA384)
	assert.Equal(t, v, got[2])
}

// Same inputs, same log and list, byte for byte.
func TestDeterministic(t *testing.T) {
	var logs, lists []string
	for i := 0; i < 2; i++ {
		t.Run("boot", func(t *testing.T) { // each boot releases the simulator
			r := boot(t, "before-v6.17", imakernel.Options{RFCLateRetry: true}, nil)
			logs = append(logs, r.res.FormatLog())
			var b bytes.Buffer
			require.NoError(t, r.x.State().List().WriteASCII(&b, hashalg.SHA256))
			lists = append(lists, b.String())
		})
	}
	require.Len(t, logs, 2)
	assert.Equal(t, logs[0], logs[1])
	assert.Equal(t, lists[0], lists[1])
}

func TestInitcallNames(t *testing.T) {
	x := imakernel.New(imakernel.Options{RFCLateRetry: true})
	cfg := kernel.DefaultConfig()
	ics := x.Initcalls(cfg)
	require.Len(t, ics, 2)
	assert.Equal(t, kernel.LevelLate, ics[0].Level)
	assert.Equal(t, kernel.LevelLateSync, ics[1].Level)
	for _, ic := range ics {
		assert.Contains(t, imakernel.InitcallNames(), ic.Name)
		assert.Equal(t, imakernel.Object, ic.Object)
	}
	cfg.Set("IMA_INIT_LATE_SYNC", kernel.Y)
	ics = x.Initcalls(cfg)
	require.Len(t, ics, 1)
	assert.Equal(t, kernel.LevelLateSync, ics[0].Level)
}

func TestExplicitPCRIndex(t *testing.T) {
	r := boot(t, "v6.17", imakernel.Options{}, func(s *kernel.Spec) { s.Config.SetInt("IMA_MEASURE_PCR_IDX", 11) })
	assert.Equal(t, 11, r.x.State().PCR())
	v, err := r.eng.Read(11, hashalg.SHA256)
	require.NoError(t, err)
	assert.NotEqual(t, make([]byte, 32), v)
	zeroPCR10(t, r)
}
