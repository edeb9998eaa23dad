package imakernel

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every combination against the rules written out in prose from
// ima_main.c and seed 001.
func TestDecideAllCombinations(t *testing.T) {
	bools := []bool{false, true}
	for _, form := range []Form{FormUpstream, FormRFC, FormLateSync} {
		for _, late := range bools {
			for _, done := range bools {
				for _, chip := range bools {
					for _, tcg := range bools {
						var want Action
						switch {
						case done:
							want = ActSkip
						case form == FormRFC && late && !tcg:
							want = ActSkip
						case form == FormRFC && !late && !chip && tcg:
							want = ActDefer
						case chip:
							want = ActInitTPM
						default:
							want = ActInitBypass
						}
						got, why := Decide(form, late, done, chip, tcg)
						assert.Equal(t, want, got, "form=%v late=%v done=%v chip=%v tcg=%v", form, late, done, chip, tcg)
						assert.NotEmpty(t, why)
					}
				}
			}
		}
	}
	assert.Contains(t, DecisionTable(), "rfc        no    *     no    yes     defer (-EPROBE_DEFER)")
}
