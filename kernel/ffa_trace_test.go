package kernel

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ffatpm/ffatpm/ffa"
)

// The trace names what each FF-A call asked and what came back, in the
// ABI's terms: FFA_VERSION answers with a version (or NOT_SUPPORTED) in w0,
// FFA_FEATURES takes a function ID (w1 bit 31 set) or a feature ID.
func TestFFACallSummary(t *testing.T) {
	ver := func(v ffa.Version) ffa.Frame { return ffa.Frame{0: uint64(ffa.FuncVersion), 1: uint64(v)} }
	feat := func(id uint32) ffa.Frame { return ffa.Frame{0: uint64(ffa.FuncFeatures), 1: uint64(id)} }
	cases := []struct {
		in, out ffa.Frame
		want    string
	}{
		{ver(ffa.Version1_2), ffa.Frame{0: uint64(ffa.Version1_1)}, "FFA_VERSION(1.2) -> 1.1"},
		{ver(ffa.Version1_2), ffa.Frame{0: 0xFFFFFFFF}, "FFA_VERSION(1.2) -> NOT_SUPPORTED"},
		{feat(uint32(ffa.FuncRxTxMap64)), ffa.SuccessFrame(), "FFA_FEATURES(FFA_RXTX_MAP_64) -> FFA_SUCCESS_32"},
		{feat(ffa.FeatureSRI), ffa.ErrorFrame(ffa.ErrNotSupported), "FFA_FEATURES(feature SRI) -> FFA_ERROR(NOT_SUPPORTED)"},
		{ffa.Frame{0: uint64(ffa.FuncIDGet)}, ffa.ErrorFrame(ffa.ErrDenied), "FFA_ID_GET -> FFA_ERROR(DENIED)"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, ffaCallSummary(c.in, c.out))
	}
}
