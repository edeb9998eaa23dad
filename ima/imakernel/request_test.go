package imakernel

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ffatpm/ffatpm/ima/policy"
)

func TestRequestForPoint(t *testing.T) {
	tests := []struct {
		fn   string
		in   policy.Request
		want policy.Request
	}{
		{"BPRM_CHECK", policy.Request{}, policy.Request{Func: policy.BprmCheck, Mask: policy.MayExec, FSMagic: policy.RamfsMagic}},
		{"BPRM_CHECK", policy.Request{Func: policy.FileCheck, Mask: policy.MayRead, FSMagic: policy.Ext4SuperMagic},
			policy.Request{Func: policy.BprmCheck, Mask: policy.MayExec, FSMagic: policy.Ext4SuperMagic}},
		{"FILE_CHECK", policy.Request{Func: policy.FileCheck, Mask: policy.MayWrite}, policy.Request{Func: policy.FileCheck, Mask: policy.MayWrite, FSMagic: policy.RamfsMagic}},
		{"FILE_CHECK", policy.Request{}, policy.Request{Func: policy.FileCheck, Mask: policy.MayRead, FSMagic: policy.RamfsMagic}},
		{"MODULE_CHECK", policy.Request{Func: policy.BprmCheck, Mask: policy.MayExec}, policy.Request{Func: policy.ModuleCheck, FSMagic: policy.RamfsMagic}},
		{"NOT_A_HOOK", policy.Request{Func: policy.FirmwareCheck}, policy.Request{Func: policy.FirmwareCheck, FSMagic: policy.RamfsMagic}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, request(tt.fn, tt.in), "%s %+v", tt.fn, tt.in)
	}
}
