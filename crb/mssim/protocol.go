package mssim

import "fmt"

// Command is a 32-bit code that starts every message on either port
// (TpmTcpProtocol.h).
type Command uint32

// Command codes, named as in TpmTcpProtocol.h.
const (
	SignalPowerOn          Command = 1  // TPM_SIGNAL_POWER_ON
	SignalPowerOff         Command = 2  // TPM_SIGNAL_POWER_OFF
	SignalPhysPresOn       Command = 3  // TPM_SIGNAL_PHYS_PRES_ON
	SignalPhysPresOff      Command = 4  // TPM_SIGNAL_PHYS_PRES_OFF
	SignalHashStart        Command = 5  // TPM_SIGNAL_HASH_START
	SignalHashData         Command = 6  // TPM_SIGNAL_HASH_DATA
	SignalHashEnd          Command = 7  // TPM_SIGNAL_HASH_END
	SendCommand            Command = 8  // TPM_SEND_COMMAND
	SignalCancelOn         Command = 9  // TPM_SIGNAL_CANCEL_ON
	SignalCancelOff        Command = 10 // TPM_SIGNAL_CANCEL_OFF
	SignalNVOn             Command = 11 // TPM_SIGNAL_NV_ON
	SignalNVOff            Command = 12 // TPM_SIGNAL_NV_OFF
	SignalKeyCacheOn       Command = 13 // TPM_SIGNAL_KEY_CACHE_ON
	SignalKeyCacheOff      Command = 14 // TPM_SIGNAL_KEY_CACHE_OFF
	RemoteHandshake        Command = 15 // TPM_REMOTE_HANDSHAKE
	SetAlternativeResult   Command = 16 // TPM_SET_ALTERNATIVE_RESULT
	SignalReset            Command = 17 // TPM_SIGNAL_RESET
	SignalRestart          Command = 18 // TPM_SIGNAL_RESTART
	SessionEnd             Command = 20 // TPM_SESSION_END
	Stop                   Command = 21 // TPM_STOP
	GetCommandResponseSize Command = 25 // TPM_GET_COMMAND_RESPONSE_SIZES
	ACTGetSignaled         Command = 26 // TPM_ACT_GET_SIGNALED
	TestFailureMode        Command = 30 // TPM_TEST_FAILURE_MODE
)

// Port names the two listening sockets of a simulator.
type Port uint8

const (
	// PortTPM is the command port (2321 by default).
	PortTPM Port = 1 << iota
	// PortPlatform is the platform signal port, command port + 1 (2322).
	PortPlatform
)

func (p Port) String() string {
	switch p {
	case PortTPM:
		return "command port"
	case PortPlatform:
		return "platform port"
	case PortTPM | PortPlatform:
		return "both ports"
	}
	return fmt.Sprintf("Port(%d)", uint8(p))
}

// Args is the shape of what follows a command code on the wire.
type Args uint8

const (
	ArgsNone     Args = iota // nothing
	ArgsU32                  // one u32
	ArgsBuffer               // u32 n, n bytes
	ArgsLocality             // u8 locality, u32 n, n bytes
)

// Action is what this package's Server does with a well-formed message.
type Action uint8

const (
	ActExecute    Action = iota // run it and answer
	ActAck                      // answer 0 without effect (a no-op on a powered TPM)
	ActPlatform                 // delegate to the Server's Platform; refuse (answer 1) without one
	ActRefuse                   // answer 1 ("failed") and keep the connection
	ActClose                    // close the connection quietly (end of session)
	ActUnmodelled               // close the connection, logging that it is not modelled
)

func (a Action) String() string {
	switch a {
	case ActExecute:
		return "execute"
	case ActAck:
		return "ack"
	case ActPlatform:
		return "platform"
	case ActRefuse:
		return "refuse"
	case ActClose:
		return "close"
	case ActUnmodelled:
		return "unmodelled"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// CommandInfo is one row of the support table.
type CommandInfo struct {
	Cmd    Command
	Name   string // the TpmTcpProtocol.h name
	Ports  Port   // where the reference server accepts it
	Args   Args
	Action Action
}

// Commands returns the support table: every code of TpmTcpProtocol.h this
// package knows, where it is accepted, what follows it on the wire and what
// the Server does with it. The Server's dispatch and the decoder read it.
func Commands() []CommandInfo {
	t := table()
	return t[:]
}

// table is the support table as an array value, so lookups need no
// allocation and no package-level variable.
func table() [23]CommandInfo {
	return [23]CommandInfo{
		{SignalPowerOn, "TPM_SIGNAL_POWER_ON", PortPlatform, ArgsNone, ActPlatform},
		{SignalPowerOff, "TPM_SIGNAL_POWER_OFF", PortPlatform, ArgsNone, ActPlatform},
		{SignalPhysPresOn, "TPM_SIGNAL_PHYS_PRES_ON", PortPlatform, ArgsNone, ActAck},
		{SignalPhysPresOff, "TPM_SIGNAL_PHYS_PRES_OFF", PortPlatform, ArgsNone, ActAck},
		{SignalHashStart, "TPM_SIGNAL_HASH_START", PortTPM, ArgsNone, ActUnmodelled},
		{SignalHashData, "TPM_SIGNAL_HASH_DATA", PortTPM, ArgsBuffer, ActUnmodelled},
		{SignalHashEnd, "TPM_SIGNAL_HASH_END", PortTPM, ArgsNone, ActUnmodelled},
		{SendCommand, "TPM_SEND_COMMAND", PortTPM, ArgsLocality, ActExecute},
		{SignalCancelOn, "TPM_SIGNAL_CANCEL_ON", PortPlatform, ArgsNone, ActAck},
		{SignalCancelOff, "TPM_SIGNAL_CANCEL_OFF", PortPlatform, ArgsNone, ActAck},
		{SignalNVOn, "TPM_SIGNAL_NV_ON", PortPlatform, ArgsNone, ActAck},
		{SignalNVOff, "TPM_SIGNAL_NV_OFF", PortPlatform, ArgsNone, ActRefuse},
		{SignalKeyCacheOn, "TPM_SIGNAL_KEY_CACHE_ON", PortPlatform, ArgsNone, ActAck},
		{SignalKeyCacheOff, "TPM_SIGNAL_KEY_CACHE_OFF", PortPlatform, ArgsNone, ActAck},
		{RemoteHandshake, "TPM_REMOTE_HANDSHAKE", PortTPM, ArgsU32, ActExecute},
		{SetAlternativeResult, "TPM_SET_ALTERNATIVE_RESULT", PortTPM, ArgsU32, ActAck},
		{SignalReset, "TPM_SIGNAL_RESET", PortPlatform, ArgsNone, ActPlatform},
		{SignalRestart, "TPM_SIGNAL_RESTART", PortPlatform, ArgsNone, ActPlatform},
		{SessionEnd, "TPM_SESSION_END", PortTPM | PortPlatform, ArgsNone, ActClose},
		{Stop, "TPM_STOP", PortTPM | PortPlatform, ArgsNone, ActClose},
		{GetCommandResponseSize, "TPM_GET_COMMAND_RESPONSE_SIZES", PortPlatform, ArgsNone, ActRefuse},
		{ACTGetSignaled, "TPM_ACT_GET_SIGNALED", PortPlatform, ArgsU32, ActRefuse},
		{TestFailureMode, "TPM_TEST_FAILURE_MODE", PortPlatform, ArgsNone, ActRefuse},
	}
}

// Info returns the support-table row of c.
func Info(c Command) (CommandInfo, bool) {
	t := table()
	for _, ci := range t {
		if ci.Cmd == c {
			return ci, true
		}
	}
	return CommandInfo{}, false
}

func (c Command) String() string {
	if ci, ok := Info(c); ok {
		return ci.Name
	}
	return fmt.Sprintf("Command(%d)", uint32(c))
}

// Endpoint flags returned by REMOTE_HANDSHAKE (enum TpmEndPointInfo).
const (
	EndpointPlatformAvailable uint32 = 0x01 // tpmPlatformAvailable
	EndpointUsesTbs           uint32 = 0x02 // tpmUsesTbs
	EndpointInRawMode         uint32 = 0x04 // tpmInRawMode
	EndpointSupportsPP        uint32 = 0x08 // tpmSupportsPP
)

// ServerVersion is the protocol version this package's Server reports in
// REMOTE_HANDSHAKE (the reference's ServerVersion).
const ServerVersion uint32 = 1

// Platform answers: the reference writes u32 0 after a signal it handled and
// u32 1 for one it does not recognise.
const (
	AckOK      uint32 = 0
	AckRefused uint32 = 1
)
