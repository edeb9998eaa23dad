package spmc

import (
	"fmt"
	"strings"

	"github.com/ffatpm/ffatpm/ffa"
)

// RxState is the state of one endpoint's RX/TX buffer pair (DEN0077 "RX
// buffer ownership": the producer fills RX, the consumer owns it until
// FFA_RX_RELEASE).
type RxState uint8

// RX/TX states.
const (
	RxUnmapped RxState = iota // no buffers registered
	RxEmpty                   // mapped; the SPMC (producer) may write RX
	RxFull                    // RX holds data the endpoint owns until release
	numRxStates
)

// String names the state.
func (s RxState) String() string {
	switch s {
	case RxUnmapped:
		return "unmapped"
	case RxEmpty:
		return "empty"
	case RxFull:
		return "full"
	}
	return fmt.Sprintf("RxState(%d)", uint8(s))
}

// RxEvent is what happens to the buffer pair.
type RxEvent uint8

// RX/TX events.
const (
	RxEvMap     RxEvent = iota // FFA_RXTX_MAP (after its argument checks)
	RxEvUnmap                  // FFA_RXTX_UNMAP
	RxEvFill                   // FFA_PARTITION_INFO_GET writes descriptors
	RxEvRelease                // FFA_RX_RELEASE
	numRxEvents
)

// String names the event after its ABI.
func (e RxEvent) String() string {
	switch e {
	case RxEvMap:
		return "FFA_RXTX_MAP"
	case RxEvUnmap:
		return "FFA_RXTX_UNMAP"
	case RxEvFill:
		return "FFA_PARTITION_INFO_GET"
	case RxEvRelease:
		return "FFA_RX_RELEASE"
	}
	return fmt.Sprintf("RxEvent(%d)", uint8(e))
}

// RxTransition is one row of the RX/TX state machine: in state From, event
// Event leads to state To, or is refused with Status (To = From then).
type RxTransition struct {
	From   RxState
	Event  RxEvent
	To     RxState
	Status ffa.Status // 0 = allowed
}

// rxTable is the RX/TX state machine, indexed [state][event]. Read-only.
var rxTable = [numRxStates][numRxEvents]RxTransition{
	RxUnmapped: {
		RxEvMap:     {RxUnmapped, RxEvMap, RxEmpty, 0},
		RxEvUnmap:   {RxUnmapped, RxEvUnmap, RxUnmapped, ffa.ErrInvalidParameters},
		RxEvFill:    {RxUnmapped, RxEvFill, RxUnmapped, ffa.ErrBusy},
		RxEvRelease: {RxUnmapped, RxEvRelease, RxUnmapped, ffa.ErrDenied},
	},
	RxEmpty: {
		RxEvMap:     {RxEmpty, RxEvMap, RxEmpty, ffa.ErrDenied},
		RxEvUnmap:   {RxEmpty, RxEvUnmap, RxUnmapped, 0},
		RxEvFill:    {RxEmpty, RxEvFill, RxFull, 0},
		RxEvRelease: {RxEmpty, RxEvRelease, RxEmpty, ffa.ErrDenied},
	},
	RxFull: {
		RxEvMap:     {RxFull, RxEvMap, RxFull, ffa.ErrDenied},
		RxEvUnmap:   {RxFull, RxEvUnmap, RxUnmapped, 0},
		RxEvFill:    {RxFull, RxEvFill, RxFull, ffa.ErrBusy},
		RxEvRelease: {RxFull, RxEvRelease, RxEmpty, 0},
	},
}

// RxNext looks up the transition for event ev in state s.
func RxNext(s RxState, ev RxEvent) RxTransition {
	if s >= numRxStates || ev >= numRxEvents {
		return RxTransition{From: s, Event: ev, To: s, Status: ffa.ErrInvalidParameters}
	}
	return rxTable[s][ev]
}

// RxTransitions returns the whole table, row by row.
func RxTransitions() []RxTransition {
	var out []RxTransition
	for s := range numRxStates {
		for ev := range numRxEvents {
			out = append(out, rxTable[s][ev])
		}
	}
	return out
}

// RxTable renders the state machine as a Markdown table.
func RxTable() string {
	var b strings.Builder
	b.WriteString("| state | event | next | result |\n|---|---|---|---|\n")
	for _, t := range RxTransitions() {
		res := "SUCCESS"
		if t.Status != 0 {
			res = t.Status.String()
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.From, t.Event, t.To, res)
	}
	return b.String()
}
