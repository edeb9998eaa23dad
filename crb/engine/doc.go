// Package engine provides TPM 2.0 engines for the CRB model. An engine is
// any go-tpm transport.TPM (one method: Send(command) (response, error)), so
// the Microsoft reference simulator, a swtpm socket (through crb/mssim's
// client) or /dev/tpmrm0 (go-tpm's linuxtpm) can stand behind the TPM
// partition.
//
// The default engine is the Microsoft TPM 2.0 reference implementation that
// go-tpm-tools/simulator links in with cgo. That simulator is a single
// process-wide instance: simulator.Get blocks until the previous instance is
// closed. OpenSimulator wraps it so that a second open fails at once with
// ErrSimulatorInUse instead of deadlocking, serialises Send, and checks the
// command length before it reaches the C code (which indexes cmd[0]).
// Tests that open it must not run in parallel within one package.
package engine
