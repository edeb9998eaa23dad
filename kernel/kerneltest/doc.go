// Package kerneltest holds fakes and helpers for tests and fast exploration
// of the kernel model: a fake TPM engine that answers the boot's commands
// without the simulator, a machine built on the real FF-A/SPMC/CRB models
// (crb/platform) with any engine, a stand-in for IMA's init_ima that
// records what it would see, and ready-made Specs.
package kerneltest
