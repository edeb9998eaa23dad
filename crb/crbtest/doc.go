// Package crbtest checks any TPM service partition reached over FF-A
// against Arm DEN0138 and the TCG PC Client PTP CRB rules, and provides
// fault-injecting fakes.
//
// Run(t, factory) is the conformance suite: the factory returns a Target (a
// normal-world FF-A conduit, a non-secure MMIO accessor, the CRB base and the
// partition ID) and each case, citing the rule it checks, drives the
// service with raw DEN0138 calls and CRB register accesses, over every
// direct-message ABI the partition advertises (DIRECT_REQ, and
// DIRECT_REQ2 when it has the REQ2-receive property). A firmware team can
// point it at their own partition through an adapter. Check runs the same
// cases with a recording T and returns the failures, which is how the
// suite's own test proves that a broken partition fails it.
//
// Fakes: handler wrappers for spmc (OKOnError answers OK where the inner
// partition found an error, as Arm Trusted Services' fTPM does; Faults
// injects BUSY n times or forever, aborts mid-command, or never clears
// CTRL_START) and engines (an engine error, a truncated response, a fixed
// TPM response code).
package crbtest
