package imakernel

import (
	"fmt"
	"strings"
)

// Form is how IMA initialises.
type Form int

// Forms of IMA initialisation.
const (
	FormUpstream Form = iota + 1 // init_ima at late_initcall
	FormRFC                      // seed 001: defer at late, retry at late_initcall_sync
	FormLateSync                 // CONFIG_IMA_INIT_LATE_SYNC: init_ima at late_initcall_sync
)

func (f Form) String() string {
	switch f {
	case FormUpstream:
		return "upstream"
	case FormRFC:
		return "rfc"
	case FormLateSync:
		return "late-sync"
	}
	return fmt.Sprintf("form(%d)", int(f))
}

// Action is what one init_ima call does.
type Action int

// Actions.
const (
	ActSkip       Action = iota + 1 // return 0: already initialised (or the RFC's retry has nothing to do)
	ActDefer                        // return -EPROBE_DEFER: try again at late_initcall_sync
	ActInitTPM                      // ima_init with the chip: real boot_aggregate
	ActInitBypass                   // log the TPM-bypass line, ima_init without a chip: zero boot_aggregate
)

func (a Action) String() string {
	switch a {
	case ActSkip:
		return "skip"
	case ActDefer:
		return "defer (-EPROBE_DEFER)"
	case ActInitTPM:
		return "init with TPM"
	case ActInitBypass:
		return "init in TPM-bypass"
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// tri is a rule condition: any, true or false.
type tri int8

const (
	any tri = iota
	yes
	no
)

func (t tri) match(v bool) bool { return t == any || (t == yes) == v }

func (t tri) String() string { return [...]string{"*", "yes", "no"}[t] }

// rule is one row of the init_ima transition table.
type rule struct {
	form   Form // 0: any
	late   tri  // the call runs at late_initcall_sync
	done   tri  // IMA is already initialised
	chip   tri  // tpm_default_chip() returned a chip
	tcgTPM tri  // CONFIG_TCG_TPM is y or m
	act    Action
	why    string
}

// initTable is init_ima's decision as data, first matching row wins
// (ima_main.c init_ima; seed 001's init_ima(bool late)).
func initTable() []rule {
	return []rule{
		{done: yes, act: ActSkip, why: "IMA is already initialised"},
		{form: FormRFC, late: yes, tcgTPM: no, act: ActSkip, why: "RFC: no TPM support, the first attempt ran"},
		{form: FormRFC, late: no, chip: no, tcgTPM: yes, act: ActDefer, why: "RFC: TPM not available, will try later"},
		{chip: yes, act: ActInitTPM, why: "tpm_default_chip() found the TPM"},
		{chip: no, act: ActInitBypass, why: "No TPM chip found, activating TPM-bypass!"},
	}
}

// Decide returns init_ima's action and the table row's reason.
func Decide(form Form, late, done, chip, tcgTPM bool) (Action, string) {
	for _, r := range initTable() {
		if (r.form == 0 || r.form == form) && r.late.match(late) && r.done.match(done) && r.chip.match(chip) && r.tcgTPM.match(tcgTPM) {
			return r.act, r.why
		}
	}
	return ActInitBypass, "no rule" // unreachable: the last two rows cover every chip value
}

// DecisionTable renders the table (for docs/ima.md and ffatpm explain).
func DecisionTable() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %-5s %-5s %-5s %-7s %-22s %s\n", "form", "late", "done", "chip", "TCG_TPM", "action", "why")
	for _, r := range initTable() {
		f := "*"
		if r.form != 0 {
			f = r.form.String()
		}
		fmt.Fprintf(&b, "%-10s %-5s %-5s %-5s %-7s %-22s %s\n", f, r.late, r.done, r.chip, r.tcgTPM, r.act, r.why)
	}
	return b.String()
}
