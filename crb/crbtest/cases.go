package crbtest

import (
	"encoding/binary"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/crbdrv"
	"github.com/ffatpm/ffatpm/ffa"
	"github.com/google/go-tpm/tpm2"
)

const (
	qCmd = uint64(crb.QualifierCommand)
	qLoc = uint64(crb.QualifierLocalityRequest)
)

// Cases returns the conformance cases in a fixed order.
func Cases() []Case {
	return []Case{
		{"interface-version", "DEN0138 GET_INTERFACE_VERSION: OK_RESULTS_RETURNED, version 1.0 = 0x00010000 in w5",
			func(t T, e *Env) {
				st, v := e.Call(crb.FuncGetInterfaceVersion)
				e.Expect("GET_INTERFACE_VERSION status", st, crb.StatusOKResultsReturned)
				if iv := crb.InterfaceVersion(uint32(v)); iv.Major() != 1 || uint32(v)>>31 != 0 {
					t.Errorf("%s: interface version %#x, want major 1 (bit 31 zero)", e.Via, v)
				}
			}},
		{"interface-version-mbz", "DEN0138: reserved argument registers are MBZ; nonzero -> INVARG",
			func(t T, e *Env) {
				st, _ := e.Call(crb.FuncGetInterfaceVersion, 1)
				e.Expect("GET_INTERFACE_VERSION with w5 != 0", st, crb.StatusInvArg)
			}},
		{"feature-unknown", "DEN0138 GET_FEATURE_INFO: a feature the service does not support -> NOTSUP",
			func(t T, e *Env) {
				for _, id := range []uint64{0, 0x12345678, uint64(crb.FeatureNotification) + 1} {
					st, _ := e.Call(crb.FuncGetFeatureInfo, id)
					e.Expect("GET_FEATURE_INFO unknown feature", st, crb.StatusNotSup)
				}
			}},
		{"unknown-function", "DEN0138: a function ID the service does not implement -> NOFUNC",
			func(t T, e *Env) {
				for _, fn := range []crb.Func{0, 0x0F000601, 0x0F000002, 0x8F000201, 0x0F0001FF} {
					st, _ := e.Call(fn)
					e.Expect("unknown function "+fn.String(), st, crb.StatusNoFunc)
				}
			}},
		{"start-bad-qualifier", "DEN0138 START: qualifier other than 0 or 1, or bits 31:8 set -> INVARG",
			func(t T, e *Env) {
				e.Grant(0)
				for _, q := range []uint64{2, 0xFF, 0x100, 0x101} {
					st, _ := e.Call(crb.FuncStart, q, 0)
					e.Expect("START qualifier", st, crb.StatusInvArg)
				}
			}},
		{"start-locality-range", "DEN0138 START: locality above 4 -> INVARG",
			func(t T, e *Env) {
				for _, loc := range []uint64{5, 0xFF, 0xFFFFFFFF} {
					for _, q := range []uint64{qCmd, qLoc} {
						st, _ := e.Call(crb.FuncStart, q, loc)
						e.Expect("START locality", st, crb.StatusInvArg)
					}
				}
			}},
		{"start-mbz", "DEN0138 START: w7 reserved, MBZ -> INVARG",
			func(t T, e *Env) {
				e.W32(0, crb.RegLocCtrl, crb.LocCtrlRequestAccess)
				st, _ := e.Call(crb.FuncStart, qLoc, 0, 1)
				e.Expect("START with w7 != 0", st, crb.StatusInvArg)
			}},
		{"closed-locality", "DEN0138 START: the TPM has disabled locality requests and command processing at this locality -> DENIED",
			func(t T, e *Env) {
				n := e.ClosedLocality
				if n < 0 {
					e.Skip("target has no closed locality")
				}
				e.W32(n, crb.RegLocCtrl, crb.LocCtrlRequestAccess)
				st, _ := e.Call(crb.FuncStart, qLoc, uint64(n))
				e.Expect("locality request at a closed locality", st, crb.StatusDenied)
				st, _ = e.Call(crb.FuncStart, qCmd, uint64(n))
				e.Expect("command at a closed locality", st, crb.StatusDenied)
				if v := e.R32(n, crb.RegLocSts); v&crb.LocStsGranted != 0 {
					t.Errorf("%s: closed locality %d shows Granted", e.Via, n)
				}
			}},
		{"command-inactive-locality", "DEN0138 START(command): the locality is not the active one -> INVARG (PTP: commands only at the active locality)",
			func(t T, e *Env) {
				st, _ := e.Call(crb.FuncStart, qCmd, 0)
				e.Expect("command with no active locality", st, crb.StatusInvArg)
				e.Grant(0)
				e.W32(1, crb.RegCtrlStart, crb.CtrlStartInvoke)
				st, _ = e.Call(crb.FuncStart, qCmd, 1)
				e.Expect("command at a locality that is not active", st, crb.StatusInvArg)
			}},
		{"locality-no-request", "DEN0138 START(locality): neither requestAccess nor relinquish set -> DENIED",
			func(t T, e *Env) {
				st, _ := e.Call(crb.FuncStart, qLoc, 0)
				e.Expect("locality START with LOC_CTRL empty", st, crb.StatusDenied)
				if v := e.R32(0, crb.RegLocState); v&crb.LocStateLocAssigned != 0 {
					t.Errorf("%s: a locality was assigned without a request", e.Via)
				}
			}},
		{"relinquish-inactive", "DEN0138 START(locality): relinquishing a locality that is not active -> DENIED",
			func(t T, e *Env) {
				e.W32(1, crb.RegLocCtrl, crb.LocCtrlRelinquish)
				st, _ := e.Call(crb.FuncStart, qLoc, 1)
				e.Expect("relinquish with no active locality", st, crb.StatusDenied)
				e.Grant(0)
				e.W32(1, crb.RegLocCtrl, crb.LocCtrlRelinquish)
				st, _ = e.Call(crb.FuncStart, qLoc, 1)
				e.Expect("relinquish of a locality that is not active", st, crb.StatusDenied)
				if v := e.R32(0, crb.RegLocState); v&crb.LocStateLocAssigned == 0 {
					t.Errorf("%s: relinquishing locality 1 released locality 0", e.Via)
				}
			}},
		{"start-ctrl-start-clear", "DEN0138 START(command) with CTRL_START clear and no request -> INV_CRB_CTRL_DATA",
			func(t T, e *Env) {
				e.Grant(0)
				st, _ := e.Call(crb.FuncStart, qCmd, 0)
				e.Expect("START with nothing to do", st, crb.StatusInvCRBCtrlData)
			}},
		{"cmd-size-zero", "DEN0138 START(command): a command size of 0 -> INV_CRB_CTRL_DATA",
			func(t T, e *Env) {
				e.Grant(0)
				e.WriteBuffer(0, GetRandomCommand(8))
				e.W32(0, crb.RegCmdSize, 0)
				e.W32(0, crb.RegCtrlStart, crb.CtrlStartInvoke)
				st, _ := e.Call(crb.FuncStart, qCmd, 0)
				e.Expect("CMD_SIZE 0", st, crb.StatusInvCRBCtrlData)
			}},
		{"cmd-size-beyond-buffer", "DEN0138 START(command): a command size beyond the CRB buffer -> INV_CRB_CTRL_DATA",
			func(t T, e *Env) {
				e.Grant(0)
				e.WriteBuffer(0, GetRandomCommand(8))
				e.W32(0, crb.RegCmdSize, crb.LocalityStride)
				e.W32(0, crb.RegCtrlStart, crb.CtrlStartInvoke)
				st, _ := e.Call(crb.FuncStart, qCmd, 0)
				e.Expect("CMD_SIZE beyond the buffer", st, crb.StatusInvCRBCtrlData)
			}},
		{"cmd-address-outside-buffer", "DEN0138 START(command): CRB control data not valid (command or response address outside the locality's buffer) -> INV_CRB_CTRL_DATA",
			func(t T, e *Env) {
				for _, addr := range []uint64{0, e.CRBBase + crb.LocalityStride + crb.DataBufferOffset, e.CRBBase} {
					e.Grant(0)
					e.WriteBuffer(0, GetRandomCommand(8))
					e.W32(0, crb.RegCmdLAddr, uint32(addr))
					e.W32(0, crb.RegCmdHAddr, uint32(addr>>32))
					e.W32(0, crb.RegCtrlStart, crb.CtrlStartInvoke)
					st, _ := e.Call(crb.FuncStart, qCmd, 0)
					e.Expect("command address outside the buffer", st, crb.StatusInvCRBCtrlData)
					a := e.CRBBase + crb.DataBufferOffset
					e.W32(0, crb.RegCmdLAddr, uint32(a))
					e.W32(0, crb.RegCmdHAddr, uint32(a>>32))
				}
			}},
		{"buffer-address-secure-memory", "Isolation: CMD or RSP address pointing at the partition's private memory -> INV_CRB_CTRL_DATA, and the command does not run",
			func(t T, e *Env) {
				if e.SecureAddr == 0 {
					e.Skip("target names no secure address")
				}
				e.Grant(0)
				e.WriteBuffer(0, GetRandomCommand(8))
				e.W32(0, crb.RegCmdLAddr, uint32(e.SecureAddr))
				e.W32(0, crb.RegCmdHAddr, uint32(e.SecureAddr>>32))
				e.W32(0, crb.RegCtrlStart, crb.CtrlStartInvoke)
				st, _ := e.Call(crb.FuncStart, qCmd, 0)
				e.Expect("command address in secure memory", st, crb.StatusInvCRBCtrlData)
				a := e.CRBBase + crb.DataBufferOffset
				e.W32(0, crb.RegCmdLAddr, uint32(a))
				e.W32(0, crb.RegCmdHAddr, uint32(a>>32))
				if err := e.MMIO.Write(e.addr(0, crb.RegRspAddr), 8, e.SecureAddr); err != nil {
					t.Errorf("write RSP_ADDR: %v", err)
					return
				}
				st, _ = e.Call(crb.FuncStart, qCmd, 0)
				e.Expect("response address in secure memory", st, crb.StatusInvCRBCtrlData)
				if b := e.ReadBuffer(0, 12); binary.BigEndian.Uint32(b[6:10]) != uint32(tpm2.TPMCCGetRandom) {
					t.Errorf("%s: the buffer changed although START was refused: % x", e.Via, b)
				}
			}},
		{"state-walk", "PTP CRB state machine: Idle -> Ready (cmdReady) -> Execution (Start) -> Completion -> Idle (goIdle), OK at each START",
			func(t T, e *Env) {
				e.Grant(0)
				if v := e.R32(0, crb.RegLocSts); v&crb.LocStsGranted == 0 {
					t.Errorf("%s: LOC_STS.Granted clear after the grant", e.Via)
				}
				e.W32(0, crb.RegCtrlReq, crb.CtrlReqCmdReady)
				st, _ := e.Call(crb.FuncStart, qCmd, 0)
				e.Expect("START after cmdReady", st, crb.StatusOK)
				if v := e.R32(0, crb.RegCtrlReq); v != 0 {
					t.Errorf("%s: CTRL_REQ = %#x after cmdReady was served, want 0", e.Via, v)
				}
				if v := e.R32(0, crb.RegCtrlSts); v&crb.CtrlStsTPMIdle != 0 {
					t.Errorf("%s: tpmIdle still set in Ready", e.Via)
				}
				for i := 0; i < 2; i++ {
					e.WriteBuffer(0, GetRandomCommand(8))
					e.W32(0, crb.RegCtrlStart, crb.CtrlStartInvoke)
					st, _ = e.Call(crb.FuncStart, qCmd, 0)
					e.Expect("START(command)", st, crb.StatusOK)
					if v := e.R32(0, crb.RegCtrlStart); v != 0 {
						t.Errorf("%s: CTRL_START = %#x after the command completed, want 0", e.Via, v)
					}
					checkGetRandomResponse(t, e, e.ReadBuffer(0, 20), 8)
				}
				e.W32(0, crb.RegCtrlReq, crb.CtrlReqGoIdle)
				st, _ = e.Call(crb.FuncStart, qCmd, 0)
				e.Expect("START after goIdle", st, crb.StatusOK)
				if v := e.R32(0, crb.RegCtrlSts); v&crb.CtrlStsTPMIdle == 0 {
					t.Errorf("%s: tpmIdle clear after goIdle", e.Via)
				}
				e.W32(0, crb.RegLocCtrl, crb.LocCtrlRelinquish)
				st, _ = e.Call(crb.FuncStart, qLoc, 0)
				e.Expect("relinquish", st, crb.StatusOK)
				if v := e.R32(0, crb.RegLocState); v&crb.LocStateLocAssigned != 0 {
					t.Errorf("%s: locAssigned still set after relinquish", e.Via)
				}
			}},
		{"edk2-sequence", "EDK2 Tpm2DeviceLibFfa: DIRECT_REQ2 always, START(command) after cmdReady, after Start and after goIdle",
			func(t T, e *Env) {
				if e.Via != ViaReq2 {
					e.Skip("EDK2 uses DIRECT_REQ2 only")
				}
				e.Grant(0)
				for i := 0; i < 2; i++ {
					e.W32(0, crb.RegCtrlReq, crb.CtrlReqCmdReady)
					st, _ := e.Call(crb.FuncStart, qCmd, 0)
					e.Expect("EDK2 cmdReady START", st, crb.StatusOK)
					e.WriteBuffer(0, GetRandomCommand(16))
					e.W32(0, crb.RegCtrlStart, crb.CtrlStartInvoke)
					st, _ = e.Call(crb.FuncStart, qCmd, 0)
					e.Expect("EDK2 Start START", st, crb.StatusOK)
					checkGetRandomResponse(t, e, e.ReadBuffer(0, 28), 16)
					e.W32(0, crb.RegCtrlReq, crb.CtrlReqGoIdle)
					st, _ = e.Call(crb.FuncStart, qCmd, 0)
					e.Expect("EDK2 goIdle START", st, crb.StatusOK)
				}
			}},
		{"linux-client", "Linux tpm_crb + tpm_crb_ffa: REQ2 when advertised (else REQ), probe accepts major 1, GetRandom round trip",
			func(t T, e *Env) { linuxClient(t, e, false) }},
		{"linux-client-idle", "Linux tpm_crb with the FF-A idle patch: cmdReady/goIdle each followed by START(command)",
			func(t T, e *Env) { linuxClient(t, e, true) }},
		{"notifications", "DEN0138 notifications: REGISTER twice -> ALREADY; UNREGISTER/FINISH_NOTIFIED without registration -> DENIED; unsupported -> NOTSUP",
			func(t T, e *Env) {
				st, _ := e.Call(crb.FuncGetFeatureInfo, uint64(crb.FeatureNotification))
				if st == crb.StatusNotSup {
					st, _ = e.Call(crb.FuncRegisterForNotification, 0, 1)
					e.Expect("REGISTER without the feature", st, crb.StatusNotSup)
					return
				}
				e.Expect("GET_FEATURE_INFO(notification)", st, crb.StatusOKResultsReturned)
				st, _ = e.Call(crb.FuncUnregisterFromNotification)
				e.Expect("UNREGISTER before REGISTER", st, crb.StatusDenied)
				st, _ = e.Call(crb.FuncFinishNotified)
				e.Expect("FINISH_NOTIFIED before REGISTER", st, crb.StatusDenied)
				st, _ = e.Call(crb.FuncRegisterForNotification, 0, 1)
				e.Expect("REGISTER", st, crb.StatusOK)
				st, _ = e.Call(crb.FuncRegisterForNotification, 0, 1)
				e.Expect("second REGISTER", st, crb.StatusAlready)
				st, _ = e.Call(crb.FuncUnregisterFromNotification)
				e.Expect("UNREGISTER", st, crb.StatusOK)
				st, _ = e.Call(crb.FuncUnregisterFromNotification)
				e.Expect("second UNREGISTER", st, crb.StatusDenied)
			}},
		{"direct-req-w3-mbz", "DEN0138 over DIRECT_REQ: w3 is not used, MBZ -> INVARG",
			func(t T, e *Env) {
				if e.Via == ViaReq2 {
					e.Skip("DIRECT_REQ only")
				}
				st, _, err := e.CallFrom(e.Target.Conduit, e.Self, 1, crb.FuncGetInterfaceVersion)
				if err != nil {
					t.Errorf("%s: FF-A error %v", e.Via, err)
					return
				}
				e.Expect("w3 != 0", st, crb.StatusInvArg)
			}},
		{"seize-from-lower-denied", "PTP CRB: seize is honoured only from a locality above the active one; a lower locality is refused (DENIED)",
			func(t T, e *Env) {
				if e.ClosedLocality == 2 {
					e.Skip("locality 2 closed")
				}
				e.Grant(2)
				e.W32(1, crb.RegLocCtrl, crb.LocCtrlSeize)
				st, _ := e.Call(crb.FuncStart, qLoc, 1)
				e.Expect("seize from a lower locality", st, crb.StatusDenied)
				if v := e.R32(1, crb.RegLocState); int(v&crb.LocStateActiveMask>>crb.LocStateActiveShift) != 2 {
					t.Errorf("%s: active locality changed to %d after a refused seize", e.Via, v&crb.LocStateActiveMask>>crb.LocStateActiveShift)
				}
			}},
		{"seize-from-higher", "PTP CRB: a higher locality may seize; the old locality's LOC_STS.beenSeized is set",
			func(t T, e *Env) {
				if e.ClosedLocality == 2 {
					e.Skip("locality 2 closed")
				}
				e.Grant(0)
				e.W32(2, crb.RegLocCtrl, crb.LocCtrlSeize)
				st, _ := e.Call(crb.FuncStart, qLoc, 2)
				e.Expect("seize from a higher locality", st, crb.StatusOK)
				if v := e.R32(0, crb.RegLocSts); v&crb.LocStsBeenSeized == 0 {
					t.Errorf("%s: LOC_STS_0.beenSeized clear after the seize", e.Via)
				}
				st, _ = e.Call(crb.FuncStart, qCmd, 0)
				e.Expect("command at the seized locality", st, crb.StatusInvArg)
			}},
		{"second-endpoint-isolation", "Isolation: a locality granted to one endpoint cannot be commanded, relinquished or seized by another (DENIED)",
			func(t T, e *Env) {
				if e.Second == nil {
					e.Skip("target has one normal-world endpoint")
				}
				e.Grant(0)
				e.W32(0, crb.RegCtrlStart, crb.CtrlStartInvoke)
				st, _, err := e.CallFrom(e.Second.Conduit, e.Second.ID, 0, crb.FuncStart, qCmd, 0)
				if err != nil {
					t.Errorf("%s: FF-A error %v", e.Via, err)
					return
				}
				e.Expect("command from another endpoint", st, crb.StatusDenied)
				e.W32(0, crb.RegLocCtrl, crb.LocCtrlRelinquish)
				st, _, _ = e.CallFrom(e.Second.Conduit, e.Second.ID, 0, crb.FuncStart, qLoc, 0)
				e.Expect("relinquish from another endpoint", st, crb.StatusDenied)
				if e.ClosedLocality != 3 {
					e.W32(3, crb.RegLocCtrl, crb.LocCtrlSeize)
					st, _, _ = e.CallFrom(e.Second.Conduit, e.Second.ID, 0, crb.FuncStart, qLoc, 3)
					e.Expect("seize from another endpoint", st, crb.StatusDenied)
				}
				if v := e.R32(0, crb.RegLocState); v&crb.LocStateLocAssigned == 0 || v&crb.LocStateActiveMask != 0 {
					t.Errorf("%s: locality 0 lost after refused calls: LOC_STATE %s", e.Via, crb.DescribeBits(crb.RegLocState, uint64(v)))
				}
			}},
	}
}

func checkGetRandomResponse(t T, e *Env, b []byte, n int) {
	t.Helper()
	size := binary.BigEndian.Uint32(b[2:6])
	rc := binary.BigEndian.Uint32(b[6:10])
	if rc != 0 || size != uint32(12+n) || binary.BigEndian.Uint16(b[10:12]) != uint16(n) {
		t.Errorf("%s: GetRandom(%d) response header size=%d rc=%#x, want size %d rc 0", e.Via, n, size, rc, 12+n)
	}
}

func linuxClient(t T, e *Env, idle bool) {
	info := e.Info
	switch e.Via {
	case ViaReq32:
		info.Properties &^= ffa.PropDirectReq2Recv | ffa.PropAArch64
	case ViaReq64:
		info.Properties &^= ffa.PropDirectReq2Recv
	}
	f, err := crbdrv.NewFFA(crbdrv.FFAConfig{Messenger: crbdrv.ConduitMessenger{Conduit: e.Target.Conduit, Self: e.Self}, Partition: info})
	if err != nil {
		t.Errorf("NewFFA: %v", err)
		return
	}
	if err := f.Probe(); err != nil {
		t.Errorf("%s: tpm_crb_ffa probe: %v", e.Via, err)
		return
	}
	chip, err := crbdrv.NewChip(crbdrv.ChipConfig{MMIO: e.MMIO, ControlArea: e.CRBBase + crb.ControlAreaOffset, FFA: f, Idle: idle})
	if err != nil {
		t.Errorf("NewChip: %v", err)
		return
	}
	if err := chip.Init(); err != nil {
		t.Errorf("%s: tpm_crb init: %v", e.Via, err)
		return
	}
	for i := 0; i < 2; i++ {
		r, err := tpm2.GetRandom{BytesRequested: 16}.Execute(chip)
		if err != nil {
			t.Errorf("%s: GetRandom through the Linux driver model: %v", e.Via, err)
			return
		}
		if len(r.RandomBytes.Buffer) != 16 {
			t.Errorf("%s: GetRandom returned %d bytes", e.Via, len(r.RandomBytes.Buffer))
		}
	}
}
