// Package spmc models a Secure Partition Manager Core (Arm DEN0077 FF-A
// v1.2: the partition manager with its setup, discovery and direct-messaging
// ABIs) at its normal-world FF-A instance.
//
// Partitions are values (ID with bit 15 set, UUIDs, properties, execution
// contexts, and a Handler for direct requests). The SPMC implements
// ffa.Conduit for each normal-world endpoint (Conduit / NormalWorld) and
// serves FFA_VERSION, FFA_FEATURES, FFA_ID_GET, FFA_SPM_ID_GET,
// FFA_RXTX_MAP/UNMAP, FFA_RX_RELEASE, FFA_PARTITION_INFO_GET(_REGS) and
// direct messaging (REQ/RESP 32/64 and REQ2/RESP2), driven by the support
// table in package ffa: a function the table marks unsupported is answered
// with NOT_SUPPORTED without reaching any code here.
//
// Misuse gets the error the specification (and the conformance suites
// summarised in the project notes) names: see the comments on each handler
// and spmc/spmctest, which checks any SPMC behind an ffa.Conduit.
//
// RX/TX buffers live in ffa/phys RAM; RXTX_MAP checks the security state,
// kind and owner of the memory through the bus, and PARTITION_INFO_GET
// writes descriptors with a Secure accessor.
//
// A call runs on the caller's goroutine (no goroutines, no clocks); the
// SPMC is safe for concurrent callers.
package spmc
