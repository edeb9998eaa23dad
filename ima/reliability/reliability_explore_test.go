package reliability_test

import (
	"testing"

	"github.com/ffatpm/ffatpm/crb/crbtest"
	"github.com/google/go-tpm/tpm2/transport"
)

func TestExploreBootFaults(t *testing.T) {
	always := func(a crbtest.FaultAction) func(crbtest.FaultRequest, uint32) crbtest.FaultAction {
		return func(crbtest.FaultRequest, uint32) crbtest.FaultAction { return a }
	}
	cmd := func(a crbtest.FaultAction) func(crbtest.FaultRequest, uint32) crbtest.FaultAction {
		return func(r crbtest.FaultRequest, _ uint32) crbtest.FaultAction {
			if r.IsCommand() {
				return a
			}
			return crbtest.FaultPass
		}
	}
	cases := []struct {
		name string
		f    *bootFault
	}{
		{"clean", nil},
		{"probe busy always", &bootFault{phase: atProbe, rule: always(crbtest.FaultBusy)}},
		{"probe swallow cmd", &bootFault{phase: atProbe, rule: cmd(crbtest.FaultSwallow)}},
		{"probe abort cmd", &bootFault{phase: atProbe, rule: cmd(crbtest.FaultAbortBefore)}},
		{"probe engine err", &bootFault{phase: atProbe, faulty: func(transport.TPM) transport.TPM { return crbtest.ErrorEngine(errEngine) }}},
		{"ima busy extend", &bootFault{phase: atIMA, extendOnly: true, rule: always(crbtest.FaultBusy)}},
		{"ima retry extend", &bootFault{phase: atIMA, extendOnly: true, rule: always(crbtest.FaultRetry)}},
		{"ima abort-after", &bootFault{phase: atIMA, extendOnly: true, rule: always(crbtest.FaultAbortAfter)}},
		{"ima swallow", &bootFault{phase: atIMA, extendOnly: true, rule: always(crbtest.FaultSwallow)}},
		{"ima engine err", &bootFault{phase: atIMA, faulty: func(transport.TPM) transport.TPM { return crbtest.ErrorEngine(errEngine) }}},
		{"ima engine rc", &bootFault{phase: atIMA, faulty: func(transport.TPM) transport.TPM { return crbtest.RCEngine(0x101) }}},
		{"ima truncated", &bootFault{phase: atIMA, faulty: func(n transport.TPM) transport.TPM { return crbtest.TruncatingEngine(n, 12) }}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := bootWith(t, c.f)
			t.Logf("injector: %v hits=%d", r.inj.Log(), r.engine.Hits())
			t.Logf("verdict=%s %s chip=%v err=%v end=%v", r.verdict(), r.counts(), r.res.Chip != nil, r.x.Err(), r.res.End)
			for _, s := range []string{"tpm", "ima", "crb", "Busy", "probe", "TPM"} {
				for _, l := range grep(r.log, s) {
					t.Logf("  %s", l)
				}
			}
			if r.x.State() != nil {
				rep := r.verify(t)
				t.Logf("verify ok=%v bypass=%v failed=%v", rep.OK(), rep.Bypass, rep.Failed())
				pcr := r.pcr10(t)
				t.Logf("pcr10==replay(all)=%v pcr10==replay(minus failed)=%v failed=%v", string(pcr) == string(r.replay10(nil)), string(pcr) == string(r.replay10(r.failedEntries())), r.failedEntries())
			}
		})
	}
}
