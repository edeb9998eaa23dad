package kernel

import "testing"

// tpm_crb_has_idle (drivers/char/tpm/tpm_crb.c): only start methods whose
// TPM takes CTRL_REQ cmdReady/goIdle requests get them; ACPI start (2),
// CRB with ACPI start (8), Arm SMC (11) and Arm FF-A (15) do not.
func TestCRBHasIdle(t *testing.T) {
	for sm, want := range map[uint32]bool{
		TPM2StartACPI: false, TPM2StartCRB: true, TPM2StartCRBACPI: false,
		TPM2StartCRBARMSMC: false, TPM2StartCRBARMFFA: false,
	} {
		if got := crbHasIdle(sm); got != want {
			t.Errorf("crbHasIdle(%d) = %v, want %v", sm, got, want)
		}
	}
}
