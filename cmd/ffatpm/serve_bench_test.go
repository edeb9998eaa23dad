package main

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/ffatpm/ffatpm/crb/mssim"
	"github.com/ffatpm/ffatpm/crb/mssim/mssimtest"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// serveBenchCommands are the commands the serve benchmark measures, each as a
// function of a go-tpm client.
func serveBenchCommands() []struct {
	name string
	run  func(transport.TPM) error
} {
	d := sha256.Sum256([]byte("bench"))
	return []struct {
		name string
		run  func(transport.TPM) error
	}{
		{"GetRandom", func(t transport.TPM) error {
			_, err := tpm2.GetRandom{BytesRequested: 32}.Execute(t)
			return err
		}},
		{"PCR_Extend", func(t transport.TPM) error {
			_, err := tpm2.PCRExtend{
				PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(16), Auth: tpm2.PasswordAuth(nil)},
				Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: d[:]}}},
			}.Execute(t)
			return err
		}},
		{"PCR_Read", func(t transport.TPM) error {
			_, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{
				{Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(16)}}}}.Execute(t)
			return err
		}},
	}
}

// BenchmarkServe measures commands/s of one go-tpm client against "ffatpm
// serve" (the whole chain in front of the reference TPM) and against `swtpm
// socket` on the same machine, in the same run.
func BenchmarkServe(b *testing.B) {
	ours, swtpm := serveBenchClients(b)
	for _, tg := range []struct {
		name string
		c    transport.TPM
	}{{"ffatpm", ours}, {"swtpm", swtpm}} {
		for _, bc := range serveBenchCommands() {
			b.Run(tg.name+"/"+bc.name, func(b *testing.B) {
				for b.Loop() {
					if err := bc.run(tg.c); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
			})
		}
	}
}

// BenchmarkServeVsSwtpm interleaves the two servers in blocks of 32
// commands, so that load from other processes hits both alike, and reports
// each one's commands/s and the ratio ffatpm/swtpm (>= 1: ours is at least as
// fast).
func BenchmarkServeVsSwtpm(b *testing.B) {
	ours, swtpm := serveBenchClients(b)
	const block = 32
	for _, bc := range serveBenchCommands() {
		b.Run(bc.name, func(b *testing.B) {
			var tOurs, tSwtpm time.Duration
			n := 0
			for b.Loop() {
				for _, side := range []struct {
					c transport.TPM
					d *time.Duration
				}{{ours, &tOurs}, {swtpm, &tSwtpm}} {
					start := time.Now()
					for i := 0; i < block; i++ {
						if err := bc.run(side.c); err != nil {
							b.Fatal(err)
						}
					}
					*side.d += time.Since(start)
				}
				n += block
			}
			ro, rs := float64(n)/tOurs.Seconds(), float64(n)/tSwtpm.Seconds()
			b.ReportMetric(ro, "ffatpm-cmds/s")
			b.ReportMetric(rs, "swtpm-cmds/s")
			b.ReportMetric(ro/rs, "ratio")
		})
	}
}

// serveBenchClients starts "ffatpm serve" and `swtpm socket` on loopback and
// returns a client of each.
func serveBenchClients(b *testing.B) (ours, swtpm transport.TPM) {
	b.Helper()
	rs := startServeT(b)
	sw := mssimtest.StartSwtpm(b)
	co, err := mssim.Dial(context.Background(), rs.addr, mssim.ClientConfig{PowerOn: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { co.Close() })
	cs, err := mssim.Dial(context.Background(), sw, mssim.ClientConfig{NoPlatform: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cs.Close() })
	return co, cs
}
