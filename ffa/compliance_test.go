package ffa_test

import (
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ffatpm/ffatpm/ffa"
)

var update = flag.Bool("update", false, "rewrite golden files and generated docs")

const complianceDoc = "../docs/ffa-compliance.md"

// TestComplianceDocUpToDate fails when docs/ffa-compliance.md does not match
// the support table; fix with `go generate ./ffa` (or -update).
func TestComplianceDocUpToDate(t *testing.T) {
	want := ffa.ComplianceMarkdown()
	if *update {
		require.NoError(t, os.WriteFile(complianceDoc, want, 0o644))
	}
	got, err := os.ReadFile(complianceDoc)
	require.NoError(t, err, "run `go generate ./ffa`")
	assert.Equal(t, string(want), string(got), "docs/ffa-compliance.md is stale: run `go generate ./ffa`")
}

// The table lists every FF-A v1.2 function ID exactly once, with names and
// numbers from the spec (specs.md FF-A section).
func TestSupportTable(t *testing.T) {
	seen := map[ffa.FuncID]bool{}
	for _, fi := range ffa.Funcs() {
		assert.False(t, seen[fi.ID], "%s listed twice", fi.FullName())
		seen[fi.ID] = true
		got, ok := ffa.LookupFunc(fi.ID)
		require.True(t, ok)
		assert.Equal(t, fi, got)
		assert.Equal(t, fi.FullName(), fi.ID.String())
		if fi.Conv() == ffa.SMC64 {
			assert.Equal(t, uint32(0xC4000000), uint32(fi.ID)&0xFFFFFF00)
		} else {
			assert.Equal(t, uint32(0x84000000), uint32(fi.ID)&0xFFFFFF00)
		}
	}
	spec := map[uint16]string{
		0x60: "FFA_ERROR", 0x61: "FFA_SUCCESS", 0x62: "FFA_INTERRUPT", 0x63: "FFA_VERSION", 0x64: "FFA_FEATURES",
		0x65: "FFA_RX_RELEASE", 0x66: "FFA_RXTX_MAP", 0x67: "FFA_RXTX_UNMAP", 0x68: "FFA_PARTITION_INFO_GET",
		0x69: "FFA_ID_GET", 0x6B: "FFA_MSG_WAIT", 0x6C: "FFA_YIELD", 0x6D: "FFA_RUN",
		0x6F: "FFA_MSG_SEND_DIRECT_REQ", 0x70: "FFA_MSG_SEND_DIRECT_RESP", 0x71: "FFA_MEM_DONATE",
		0x72: "FFA_MEM_LEND", 0x73: "FFA_MEM_SHARE", 0x74: "FFA_MEM_RETRIEVE_REQ", 0x75: "FFA_MEM_RETRIEVE_RESP",
		0x76: "FFA_MEM_RELINQUISH", 0x77: "FFA_MEM_RECLAIM", 0x85: "FFA_SPM_ID_GET",
		0x8B: "FFA_PARTITION_INFO_GET_REGS", 0x8D: "FFA_MSG_SEND_DIRECT_REQ2", 0x8E: "FFA_MSG_SEND_DIRECT_RESP2",
	}
	byNum := map[uint16]string{}
	for _, fi := range ffa.Funcs() {
		byNum[fi.ID.Num()] = fi.Name
	}
	for n := uint16(0x60); n <= 0x8E; n++ {
		assert.NotEmpty(t, byNum[n], "function number %#x missing", n)
		if want, ok := spec[n]; ok {
			assert.Equal(t, want, byNum[n], "function number %#x", n)
		}
	}
	for _, id := range []ffa.FuncID{ffa.FuncMsgSendDirectReq2, ffa.FuncMsgSendDirectResp2, ffa.FuncPartitionInfoGetRegs} {
		_, ok := ffa.LookupFunc(id &^ (1 << 30))
		assert.False(t, ok, "%s has no SMC32 form", id)
	}
	_, ok := ffa.LookupFunc(0)
	assert.False(t, ok)
	assert.Equal(t, "FuncID(0x84000fff)", ffa.FuncID(0x84000fff).String())
	assert.Equal(t, "FFA_MSG_SEND_DIRECT_REQ_64", ffa.FuncMsgSendDirectReq64.String())
	assert.Equal(t, "FFA_MSG_SEND_DIRECT_REQ2", ffa.FuncMsgSendDirectReq2.String())
}
