// Package phys models the physical address space of the emulated Arm machine:
// RAM regions and MMIO device windows, each with a name, an owner and a
// security state (Arm ARM "Security states", Secure / Non-secure physical
// address spaces).
//
// Every access is tagged with the world that makes it. A Non-secure access to
// Secure memory, an access to an unmapped address, a misaligned access, an
// access of a size other than 1, 2, 4 or 8 bytes and an access that runs past
// the end of its region all fail with an *AccessError naming the address, the
// size and the reason. Secure accesses may reach Non-secure memory, as on real
// hardware.
//
// The SPMC uses the bus to check the security state of RX/TX buffers
// (DEN0077 FFA_RXTX_MAP) and to read and write them; the CRB device is an
// MMIO Device on it; the normal-world kernel model holds a NonSecure
// Accessor.
//
// The package imports nothing else from this module.
package phys
