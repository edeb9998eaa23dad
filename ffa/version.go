package ffa

import "fmt"

// Version is an FF-A version word: bit 31 zero, major in bits 30:16, minor
// in bits 15:0 (DEN0077 FFA_VERSION).
type Version uint32

// Versions known to this model.
const (
	Version1_0 Version = 1<<16 | 0
	Version1_1 Version = 1<<16 | 1
	Version1_2 Version = 1<<16 | 2
)

// VersionNotSupported is what FFA_VERSION returns in w0 for an incompatible
// request: NOT_SUPPORTED (-1) as a 32-bit word.
const VersionNotSupported uint32 = 0xFFFF_FFFF

// MakeVersion builds a version word; major is truncated to 15 bits.
func MakeVersion(major, minor uint16) Version {
	return Version(uint32(major&0x7fff)<<16 | uint32(minor))
}

// Major returns bits 30:16.
func (v Version) Major() uint16 { return uint16(v>>16) & 0x7fff }

// Minor returns bits 15:0.
func (v Version) Minor() uint16 { return uint16(v) }

// Valid reports whether bit 31 is clear.
func (v Version) Valid() bool { return v&(1<<31) == 0 }

// String renders "1.2".
func (v Version) String() string {
	if !v.Valid() {
		return fmt.Sprintf("invalid(%#08x)", uint32(v))
	}
	return fmt.Sprintf("%d.%d", v.Major(), v.Minor())
}

// AtLeast reports whether v is the same major version as o with a minor
// version at least o's.
func (v Version) AtLeast(o Version) bool {
	return v.Valid() && v.Major() == o.Major() && v.Minor() >= o.Minor()
}

// CompatibleWith reports whether a caller at version caller can work with a
// callee at version v under the FF-A rule: same major, and the callee's minor
// at least the caller's (a callee never serves a newer minor than its own).
func (v Version) CompatibleWith(caller Version) bool {
	return v.Valid() && caller.Valid() && v.Major() == caller.Major() && caller.Minor() <= v.Minor()
}
