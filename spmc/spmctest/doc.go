// Package spmctest is a conformance suite for any SPMC reachable through an
// ffa.Conduit, plus the fixture that runs it against this module's spmc.
//
// Run(t, factory) executes every Case; each case names the rule of Arm
// DEN0077 (FF-A v1.2) it checks, as summarised in the project's conformance
// notes (which gather what Hafnium's vmapi tests, TF-A tests and Arm's FF-A
// ACS check). The suite needs a few partitions with defined behaviour
// (Fixture): an echo partition, one without REQ2, one that takes no direct
// messages, two relay partitions for call-chain checks, and a Responder that
// answers invalidly on purpose to check the rules for partition responses.
// EchoHandler, RelayHandler and ResponderHandler implement them for spmc.
//
// Check runs the same cases with a recording TB and returns what failed, so
// the suite can be shown to fail a broken SPMC.
package spmctest
