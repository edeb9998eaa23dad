// Package ffa models the Arm Firmware Framework for A-profile ABI
// (Arm DEN0077, FF-A v1.0 .. v1.2) as seen at the SMC/HVC conduit:
//
//   - function identifiers and the support table of this model
//     (DEN0077 v1.2 "Function IDs" table; see funcs.go and
//     the generated docs/ffa-compliance.md),
//   - status codes returned with FFA_ERROR (DEN0077 "Status codes"),
//   - the register frame of the SMC Calling Convention v1.2 (x0..x17,
//     Arm DEN0028),
//   - FFA_VERSION encoding and negotiation (DEN0077 FFA_VERSION),
//   - endpoint IDs (DEN0077 "Partition identification": bit 15 set for secure endpoints),
//   - UUIDs packed into registers the way Linux does
//     (drivers/firmware/arm_ffa/driver.c, export_uuid),
//   - partition information descriptors v1.0 (8 bytes) and v1.1+ (24 bytes)
//     and partition properties (DEN0077 FFA_PARTITION_INFO_GET),
//   - typed request/response values with Encode/Decode for every call the
//     model serves,
//   - Client, the part of Linux's drivers/firmware/arm_ffa/driver.c that
//     talks to firmware (ffa_init: version check, ID_GET, RXTX_MAP,
//     notification setup probes, partition discovery; direct messaging).
//
// What the modelled firmware answers is an ffa.Status (it implements error);
// misuse of this Go library is reported with ordinary Go errors.
//
// The package imports nothing else from this module.
package ffa
