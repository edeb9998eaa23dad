package crb

import "fmt"

// State is the TPM's command state as the CRB control area shows it (PTP
// "CRB Operation": Idle, Ready, Command Execution, Command Completion; plus
// the fatal error state that TPM_CRB_CTRL_STS.tpmSts reports).
type State uint8

// Command states.
const (
	StateIdle      State = iota // tpmIdle = 1
	StateReady                  // cmdReady acknowledged, buffer may be written
	StateExecuting              // CTRL_START = 1, the TPM owns the buffer
	StateComplete               // CTRL_START cleared, response in the buffer
	StateError                  // tpmSts = 1, fatal until reset
	numStates
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "Idle"
	case StateReady:
		return "Ready"
	case StateExecuting:
		return "Executing"
	case StateComplete:
		return "Complete"
	case StateError:
		return "Error"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// States lists every command state.
func States() []State {
	return []State{StateIdle, StateReady, StateExecuting, StateComplete, StateError}
}

// Event is something that drives the command state machine: a request the
// TPM picks up from the control area, or the engine's outcome.
type Event uint8

// Command events.
const (
	EvCmdReady Event = iota // CTRL_REQ.cmdReady seen
	EvGoIdle                // CTRL_REQ.goIdle seen
	EvStart                 // CTRL_START = 1 seen
	EvCancel                // CTRL_CANCEL = 1 seen
	EvComplete              // the engine produced a response
	EvFault                 // the engine failed (fatal)
	EvReset                 // TPM reset (_TPM_Init)
	numEvents
)

func (e Event) String() string {
	switch e {
	case EvCmdReady:
		return "cmdReady"
	case EvGoIdle:
		return "goIdle"
	case EvStart:
		return "Start"
	case EvCancel:
		return "Cancel"
	case EvComplete:
		return "Complete"
	case EvFault:
		return "Fault"
	case EvReset:
		return "Reset"
	}
	return fmt.Sprintf("Event(%d)", uint8(e))
}

// Events lists every command event.
func Events() []Event {
	return []Event{EvCmdReady, EvGoIdle, EvStart, EvCancel, EvComplete, EvFault, EvReset}
}

// Effect is what a transition does besides changing the state.
type Effect uint8

// Transition effects.
const (
	EffAccept      Effect = iota // request taken; its CTRL_REQ bit is cleared
	EffIgnore                    // dropped without effect (the PTP's "ignored"); request bit cleared
	EffRun                       // the TPM takes the buffer and runs the command
	EffRespond                   // response written, CTRL_START cleared, startInt set
	EffCancelNoted               // a running command may end with TPM_RC_CANCELED
	EffSetError                  // tpmSts set; CTRL_START cleared without a response
	EffAbort                     // in Error: CTRL_START cleared without a response
	EffReset                     // every control register back to its reset value
)

func (e Effect) String() string {
	switch e {
	case EffAccept:
		return "accept"
	case EffIgnore:
		return "ignore"
	case EffRun:
		return "run"
	case EffRespond:
		return "respond"
	case EffCancelNoted:
		return "cancel-noted"
	case EffSetError:
		return "set-error"
	case EffAbort:
		return "abort"
	case EffReset:
		return "reset"
	}
	return fmt.Sprintf("Effect(%d)", uint8(e))
}

// Transition is one row of a state table.
type Transition struct {
	From   State
	Event  Event
	To     State
	Effect Effect
	Rule   string // the PTP rule the row follows
}

// Transitions returns the command state table: one row for every (state,
// event) pair, in States() x Events() order.
func Transitions() []Transition {
	const (
		rIdle     = "PTP CRB: goIdle moves the TPM to Idle; a second request is harmless"
		rReady    = "PTP CRB: cmdReady moves the TPM to Ready (tpmIdle cleared)"
		rBypass   = "PTP CRB: with CapCRBIdleBypass the TPM accepts Start in Idle"
		rStart    = "PTP CRB: Start = 1 begins Command Execution"
		rBusy     = "PTP CRB: requests written while a command executes are ignored"
		rNoCmd    = "PTP CRB: Cancel with no command executing has no effect"
		rCancel   = "PTP CRB: Cancel during execution is noted; a command the engine completes keeps its own response"
		rDone     = "PTP CRB: the TPM clears Start when the response is in the buffer"
		rSpurious = "no command executing: a completion is dropped"
		rFatal    = "PTP CRB: tpmSts = 1 is a fatal error, cleared only by reset"
		rDead     = "PTP CRB: in fatal error the TPM processes nothing"
		rReset    = "_TPM_Init returns the interface to Idle"
		rNext     = "PTP CRB: from Completion, software may start the next command"
	)
	return []Transition{
		{StateIdle, EvCmdReady, StateReady, EffAccept, rReady},
		{StateIdle, EvGoIdle, StateIdle, EffAccept, rIdle},
		{StateIdle, EvStart, StateExecuting, EffRun, rBypass},
		{StateIdle, EvCancel, StateIdle, EffIgnore, rNoCmd},
		{StateIdle, EvComplete, StateIdle, EffIgnore, rSpurious},
		{StateIdle, EvFault, StateError, EffSetError, rFatal},
		{StateIdle, EvReset, StateIdle, EffReset, rReset},

		{StateReady, EvCmdReady, StateReady, EffAccept, rReady},
		{StateReady, EvGoIdle, StateIdle, EffAccept, rIdle},
		{StateReady, EvStart, StateExecuting, EffRun, rStart},
		{StateReady, EvCancel, StateReady, EffIgnore, rNoCmd},
		{StateReady, EvComplete, StateReady, EffIgnore, rSpurious},
		{StateReady, EvFault, StateError, EffSetError, rFatal},
		{StateReady, EvReset, StateIdle, EffReset, rReset},

		{StateExecuting, EvCmdReady, StateExecuting, EffIgnore, rBusy},
		{StateExecuting, EvGoIdle, StateExecuting, EffIgnore, rBusy},
		{StateExecuting, EvStart, StateExecuting, EffIgnore, rBusy},
		{StateExecuting, EvCancel, StateExecuting, EffCancelNoted, rCancel},
		{StateExecuting, EvComplete, StateComplete, EffRespond, rDone},
		{StateExecuting, EvFault, StateError, EffSetError, rFatal},
		{StateExecuting, EvReset, StateIdle, EffReset, rReset},

		{StateComplete, EvCmdReady, StateReady, EffAccept, rReady},
		{StateComplete, EvGoIdle, StateIdle, EffAccept, rIdle},
		{StateComplete, EvStart, StateExecuting, EffRun, rNext},
		{StateComplete, EvCancel, StateComplete, EffIgnore, rNoCmd},
		{StateComplete, EvComplete, StateComplete, EffIgnore, rSpurious},
		{StateComplete, EvFault, StateError, EffSetError, rFatal},
		{StateComplete, EvReset, StateIdle, EffReset, rReset},

		{StateError, EvCmdReady, StateError, EffIgnore, rDead},
		{StateError, EvGoIdle, StateError, EffIgnore, rDead},
		{StateError, EvStart, StateError, EffAbort, rDead},
		{StateError, EvCancel, StateError, EffIgnore, rDead},
		{StateError, EvComplete, StateError, EffIgnore, rDead},
		{StateError, EvFault, StateError, EffIgnore, rDead},
		{StateError, EvReset, StateIdle, EffReset, rReset},
	}
}

// commandTable is Transitions indexed by (state, event).
type commandTable [numStates][numEvents]Transition

func newCommandTable() *commandTable {
	var t commandTable
	for _, tr := range Transitions() {
		t[tr.From][tr.Event] = tr
	}
	return &t
}

// LocRelation is the locality state machine's state, seen from the locality
// n that a LOC_CTRL request names: which locality is active relative to n,
// and whether n already has a request pending.
type LocRelation uint8

// Locality states relative to the requesting locality n.
const (
	LocNone          LocRelation = iota // no locality is active
	LocSelf                             // n is the active locality
	LocLower                            // a locality below n is active; n has no request pending
	LocLowerPending                     // a locality below n is active; n's request is pending
	LocHigher                           // a locality above n is active; n has no request pending
	LocHigherPending                    // a locality above n is active; n's request is pending
	numLocRelations
)

func (r LocRelation) String() string {
	switch r {
	case LocNone:
		return "none-active"
	case LocSelf:
		return "self-active"
	case LocLower:
		return "lower-active"
	case LocLowerPending:
		return "lower-active,pending"
	case LocHigher:
		return "higher-active"
	case LocHigherPending:
		return "higher-active,pending"
	}
	return fmt.Sprintf("LocRelation(%d)", uint8(r))
}

// LocRelations lists every locality state.
func LocRelations() []LocRelation {
	return []LocRelation{LocNone, LocSelf, LocLower, LocLowerPending, LocHigher, LocHigherPending}
}

// LocEvent is the content of TPM_LOC_CTRL_n when the TPM processes it.
type LocEvent uint8

// Locality events (decoded LOC_CTRL writes).
const (
	LocEvNone       LocEvent = iota // no request bit set
	LocEvRequest                    // requestAccess
	LocEvRelinquish                 // relinquish
	LocEvSeize                      // seize (requestAccess may also be set)
	LocEvConflict                   // relinquish together with requestAccess or seize
	numLocEvents
)

func (e LocEvent) String() string {
	switch e {
	case LocEvNone:
		return "none"
	case LocEvRequest:
		return "requestAccess"
	case LocEvRelinquish:
		return "relinquish"
	case LocEvSeize:
		return "seize"
	case LocEvConflict:
		return "conflict"
	}
	return fmt.Sprintf("LocEvent(%d)", uint8(e))
}

// LocEvents lists every locality event.
func LocEvents() []LocEvent {
	return []LocEvent{LocEvNone, LocEvRequest, LocEvRelinquish, LocEvSeize, LocEvConflict}
}

// DecodeLocCtrl classifies a LOC_CTRL value. resetEstablishmentBit does not
// count as a request.
func DecodeLocCtrl(v uint32) LocEvent {
	req := v&LocCtrlRequestAccess != 0
	rel := v&LocCtrlRelinquish != 0
	seize := v&LocCtrlSeize != 0
	switch {
	case rel && (req || seize):
		return LocEvConflict
	case rel:
		return LocEvRelinquish
	case seize:
		return LocEvSeize
	case req:
		return LocEvRequest
	}
	return LocEvNone
}

// LocEffect is what a locality transition does.
type LocEffect uint8

// Locality effects.
const (
	LocGrant    LocEffect = iota // n becomes active: Granted, locAssigned, localityChangeInt
	LocKeep                      // nothing changes (already active / already pending)
	LocPend                      // n's request waits until the active locality relinquishes
	LocRelease                   // n stops being active; the highest pending request is granted
	LocWithdraw                  // n's pending request is dropped
	LocSeize                     // n becomes active; the old locality's beenSeized is set
	LocDeny                      // refused: DEN0138 DENIED
	LocInvalid                   // inconsistent LOC_CTRL: DEN0138 INV_CRB_CTRL_DATA
)

func (e LocEffect) String() string {
	switch e {
	case LocGrant:
		return "grant"
	case LocKeep:
		return "keep"
	case LocPend:
		return "pend"
	case LocRelease:
		return "release"
	case LocWithdraw:
		return "withdraw"
	case LocSeize:
		return "seize"
	case LocDeny:
		return "deny"
	case LocInvalid:
		return "invalid"
	}
	return fmt.Sprintf("LocEffect(%d)", uint8(e))
}

// LocTransition is one row of the locality table. The state after the
// transition is given relative to n as well.
type LocTransition struct {
	From   LocRelation
	Event  LocEvent
	To     LocRelation
	Effect LocEffect
	Rule   string
}

// LocTransitions returns the locality table: one row for every (state,
// event) pair, in LocRelations() x LocEvents() order. A request at a locality
// the TPM has closed is refused (DENIED) before this table is consulted.
func LocTransitions() []LocTransition {
	const (
		rNone     = "DEN0138 START(locality): neither requestAccess nor relinquish set -> DENIED"
		rConflict = "DEN0138 START: inconsistent locality control data -> INV_CRB_CTRL_DATA"
		rGrant    = "PTP CRB: requestAccess with no active locality grants it"
		rAgain    = "PTP CRB: requestAccess by the active locality changes nothing"
		rPend     = "PTP CRB: requestAccess waits until the active locality relinquishes"
		rRelease  = "PTP CRB: relinquish by the active locality frees the TPM"
		rNotAct   = "DEN0138 START(locality): relinquishing a locality that is not active -> DENIED"
		rWithdraw = "PTP CRB: relinquish withdraws a pending request"
		rSeize    = "PTP CRB: seize by a higher locality takes the TPM; the old one sees beenSeized"
		rNoSeize  = "PTP CRB: seize is only honoured from a higher locality -> DENIED"
		rSeizeNo  = "PTP CRB: seize with no active locality acts as requestAccess"
	)
	return []LocTransition{
		{LocNone, LocEvNone, LocNone, LocDeny, rNone},
		{LocNone, LocEvRequest, LocSelf, LocGrant, rGrant},
		{LocNone, LocEvRelinquish, LocNone, LocDeny, rNotAct},
		{LocNone, LocEvSeize, LocSelf, LocGrant, rSeizeNo},
		{LocNone, LocEvConflict, LocNone, LocInvalid, rConflict},

		{LocSelf, LocEvNone, LocSelf, LocDeny, rNone},
		{LocSelf, LocEvRequest, LocSelf, LocKeep, rAgain},
		{LocSelf, LocEvRelinquish, LocNone, LocRelease, rRelease},
		{LocSelf, LocEvSeize, LocSelf, LocKeep, rAgain},
		{LocSelf, LocEvConflict, LocSelf, LocInvalid, rConflict},

		{LocLower, LocEvNone, LocLower, LocDeny, rNone},
		{LocLower, LocEvRequest, LocLowerPending, LocPend, rPend},
		{LocLower, LocEvRelinquish, LocLower, LocDeny, rNotAct},
		{LocLower, LocEvSeize, LocSelf, LocSeize, rSeize},
		{LocLower, LocEvConflict, LocLower, LocInvalid, rConflict},

		{LocLowerPending, LocEvNone, LocLowerPending, LocDeny, rNone},
		{LocLowerPending, LocEvRequest, LocLowerPending, LocKeep, rPend},
		{LocLowerPending, LocEvRelinquish, LocLower, LocWithdraw, rWithdraw},
		{LocLowerPending, LocEvSeize, LocSelf, LocSeize, rSeize},
		{LocLowerPending, LocEvConflict, LocLowerPending, LocInvalid, rConflict},

		{LocHigher, LocEvNone, LocHigher, LocDeny, rNone},
		{LocHigher, LocEvRequest, LocHigherPending, LocPend, rPend},
		{LocHigher, LocEvRelinquish, LocHigher, LocDeny, rNotAct},
		{LocHigher, LocEvSeize, LocHigher, LocDeny, rNoSeize},
		{LocHigher, LocEvConflict, LocHigher, LocInvalid, rConflict},

		{LocHigherPending, LocEvNone, LocHigherPending, LocDeny, rNone},
		{LocHigherPending, LocEvRequest, LocHigherPending, LocKeep, rPend},
		{LocHigherPending, LocEvRelinquish, LocHigher, LocWithdraw, rWithdraw},
		{LocHigherPending, LocEvSeize, LocHigherPending, LocDeny, rNoSeize},
		{LocHigherPending, LocEvConflict, LocHigherPending, LocInvalid, rConflict},
	}
}

type locTable [numLocRelations][numLocEvents]LocTransition

func newLocTable() *locTable {
	var t locTable
	for _, tr := range LocTransitions() {
		t[tr.From][tr.Event] = tr
	}
	return &t
}
