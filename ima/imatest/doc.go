// Package imatest provides fakes and helpers for testing code that uses the
// ima package: a software PCR bank root of trust that can fail on purpose,
// the go-tpm-tools simulator opened for a test, and the peer-tool rule
// (skip when evmctl/tpm2_eventlog are missing, fail under CI=true).
package imatest
