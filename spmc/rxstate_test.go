package spmc_test

import (
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa"
	"github.com/ffatpm/ffatpm/spmc"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The RX/TX state machine as a table, compared with a golden file so a
// change to it is a visible diff (go test ./spmc -update rewrites it).
func TestRxTableGolden(t *testing.T) {
	got := spmc.RxTable()
	const golden = "testdata/rx-state-machine.md"
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
	assert.Len(t, spmc.RxTransitions(), 12)
	assert.Equal(t, ffa.ErrInvalidParameters, spmc.RxNext(9, 0).Status)
	assert.Equal(t, "RxState(9)", spmc.RxState(9).String())
	assert.Equal(t, "RxEvent(9)", spmc.RxEvent(9).String())
}

// Every transition of the table is what the SPMC does when driven through
// its ABIs from that state.
func TestRxTableMatchesBehaviour(t *testing.T) {
	reach := func(t *testing.T, nw ffa.Conduit, st spmc.RxState) {
		if st >= spmc.RxEmpty {
			require.NoError(t, ffa.CheckSuccess(nw.Call(ffa.RxTxMapReq{TX: nsRAM, RX: nsRAM + 0x1000, PageCount: 1}.Encode())))
		}
		if st == spmc.RxFull {
			require.NoError(t, ffa.CheckSuccess(nw.Call(ffa.PartitionInfoGetReq{}.Encode())))
		}
	}
	event := map[spmc.RxEvent]ffa.Frame{
		spmc.RxEvMap:     ffa.RxTxMapReq{TX: nsRAM + 0x4000, RX: nsRAM + 0x5000, PageCount: 1}.Encode(),
		spmc.RxEvUnmap:   ffa.RxTxUnmapReq{}.Encode(),
		spmc.RxEvFill:    ffa.PartitionInfoGetReq{}.Encode(),
		spmc.RxEvRelease: ffa.RxReleaseReq{}.Encode(),
	}
	// probe tells the state by side effects that do not change it
	probe := func(nw ffa.Conduit) spmc.RxState {
		out := nw.Call(ffa.PartitionInfoGetReq{}.Encode())
		switch {
		case out.IsSuccess():
			nw.Call(ffa.RxReleaseReq{}.Encode())
			return spmc.RxEmpty
		case nw.Call(ffa.RxReleaseReq{}.Encode()).IsSuccess():
			nw.Call(ffa.PartitionInfoGetReq{}.Encode())
			return spmc.RxFull
		}
		return spmc.RxUnmapped
	}
	for _, tr := range spmc.RxTransitions() {
		t.Run(tr.From.String()+"/"+tr.Event.String(), func(t *testing.T) {
			nw := newSPMC(t, nil).NormalWorld()
			nw.Call(ffa.VersionReq{Version: ffa.Version1_2}.Encode())
			reach(t, nw, tr.From)
			out := nw.Call(event[tr.Event])
			if tr.Status == 0 {
				assert.True(t, out.IsSuccess(), "%v", out)
			} else {
				assert.Equal(t, tr.Status, out.Err())
			}
			assert.Equal(t, tr.To, probe(nw))
		})
	}
}
