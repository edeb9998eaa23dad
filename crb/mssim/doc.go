// Package mssim speaks the TCP protocol of the Microsoft/TCG TPM 2.0
// reference simulator ("mssim"), the de-facto way tools reach a software TPM:
// tpm2-tss's mssim TCTI (tpm2-tools), IBM's TSS, go-tpm's tcp transport, and
// swtpm in socket mode (on its server port) all use it.
//
// Modelled sources:
//   - TCG TPM reference implementation, TPMCmd/Simulator/include/TpmTcpProtocol.h
//     (command codes, TpmEndPointInfo flags) and TPMCmd/Simulator/src/TcpServer.c
//     (framing: TpmServer on the command port, PlatformServer on port+1).
//   - tpm2-tss src/tss2-tcti/tcti-mssim.c (what the most common client sends:
//     POWER_ON and NV_ON on the platform port at init, TPM_SEND_COMMAND frames,
//     CANCEL_ON/OFF; its SESSION_END is effectively never sent, so clients just
//     close their sockets).
//
// Wire format (all integers big-endian):
//
//	command port  TPM_SEND_COMMAND:  u32 8, u8 locality, u32 n, n bytes
//	                       answer:   u32 m, m bytes (the TPM response), u32 0
//	              REMOTE_HANDSHAKE:  u32 15, u32 clientVersion
//	                       answer:   u32 serverVersion, u32 endpoint flags, u32 0
//	              SESSION_END:       u32 20 (no answer, the connection closes)
//	platform port signal:            u32 code  -> answer u32 0 (done) or 1 (refused)
//
// The Server wraps any go-tpm transport.TPM (in ffatpm: the CRB-over-FF-A
// driver of the normal world, so every command crosses the whole chain) and
// serializes commands per TPM. The Client is itself a transport.TPM talking to
// an mssim server or to `swtpm socket`.
//
// Deliberate differences from the reference simulator, each logged when hit:
//   - TPM_STOP from a client never stops the server; it only ends that
//     connection (the server stops when its context is cancelled).
//   - The TPM stays powered while served: POWER_OFF, RESET and RESTART are
//     refused (answer 1) unless the server has a Platform that can do them;
//     POWER_ON and NV_ON on a powered TPM are no-ops, as in the reference.
//   - _TPM_Hash_Start/Data/End (H-CRTM) are not modelled: the connection is
//     closed with that reason.
package mssim

//go:generate go run ./internal/gendoc -o ../../docs/mssim.md
