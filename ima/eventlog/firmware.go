package eventlog

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"

	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// Extender is what firmware measures into: a TPM's PCR banks (the ima
// package's RootOfTrust satisfies it).
type Extender interface {
	Banks() []hashalg.Alg
	Extend(index int, digests []hashalg.Digest) error
}

// Component is one thing the firmware measures.
type Component struct {
	PCR  uint32
	Type EventType
	// Data is the event data written to the log.
	Data []byte
	// Content is what is hashed for the digest; nil hashes Data (as for
	// separators, versions and actions).
	Content []byte
	// Digests, when it holds a digest of the right size for a bank's
	// algorithm, is used for that bank instead of hashing Content again
	// (Precompute fills it). It must be the digest of Content (or Data).
	Digests []hashalg.Digest
}

// Precompute returns a copy of comps whose Digests hold, for every
// algorithm in algs that is available, the digest of what Measure would
// hash. Measuring the copy writes the same log and PCR values as measuring
// comps; it only saves hashing the same images on every boot of a
// scenario (the emulator's firmware images never change between boots).
// The result is read-only and safe to share between concurrent boots.
func Precompute(comps []Component, algs []hashalg.Alg) []Component {
	out := make([]Component, len(comps))
	for i, c := range comps {
		c.Digests = nil
		for _, a := range algs {
			if a.Available() {
				c.Digests = append(c.Digests, hashalg.Digest{Alg: a, Digest: a.Sum(c.hashed())})
			}
		}
		out[i] = c
	}
	return out
}

// hashed is what the component's digest is taken over.
func (c Component) hashed() []byte {
	if c.Content == nil {
		return c.Data
	}
	return c.Content
}

// UCS2 encodes s as NUL-terminated little-endian UTF-16, the encoding of
// EV_S_CRTM_VERSION.
func UCS2(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return append(b, 0, 0)
}

// Separator returns the EV_SEPARATOR component for pcr (data 00000000).
func Separator(pcr uint32) Component {
	return Component{PCR: pcr, Type: EvSeparator, Data: []byte{0, 0, 0, 0}}
}

// Images holds the boot images the default firmware measures. Zero values
// are replaced with fixed placeholder contents, so a boot is deterministic.
type Images struct {
	Version    string // S-CRTM version
	BL2        []byte
	BL31       []byte // EL3 runtime
	SPMC       []byte // S-EL2 SPMC
	TPMSP      []byte // TPM secure partition
	HWConfig   []byte // device tree / ACPI tables
	BL33       []byte // normal-world loader (UEFI / U-Boot)
	Kernel     []byte // kernel image (PCR 9, as a boot loader measures it)
	Cmdline    string // kernel command line (PCR 8)
	NoPCR8And9 bool   // stop at PCR0..7 (firmware only, no loader stage)
}

func placeholder(name string) []byte {
	b := make([]byte, 4096)
	for i := range b {
		b[i] = byte(i*31) ^ name[i%len(name)]
	}
	return b
}

// DefaultComponents is the Arm boot chain measured as TF-A does (EV_POST_CODE
// events named after the image), the hardware configuration in PCR1, the
// normal-world loader in PCR4, separators in PCR0..7, then the loader's own
// measurements of the kernel command line (PCR8) and image (PCR9).
func DefaultComponents(im Images) []Component {
	or := func(b []byte, name string) []byte {
		if b == nil {
			return placeholder(name)
		}
		return b
	}
	if im.Version == "" {
		im.Version = "ffatpm TF-A v2.12"
	}
	if im.Cmdline == "" {
		im.Cmdline = "console=ttyAMA0 ima_policy=tcb ima_hash=sha256 ima_template=ima-ng"
	}
	cs := []Component{
		{PCR: 0, Type: EvSCRTMVersion, Data: UCS2(im.Version)},
		{PCR: 0, Type: EvPostCode, Data: []byte("BL_2"), Content: or(im.BL2, "BL_2")},
		{PCR: 0, Type: EvPostCode, Data: []byte("SECURE_RT_EL3"), Content: or(im.BL31, "SECURE_RT_EL3")},
		{PCR: 0, Type: EvPostCode, Data: []byte("SPMC"), Content: or(im.SPMC, "SPMC")},
		{PCR: 0, Type: EvPostCode, Data: []byte("SP_TPM"), Content: or(im.TPMSP, "SP_TPM")},
		{PCR: 1, Type: EvPlatformConfigFlags, Data: []byte("HW_CONFIG"), Content: or(im.HWConfig, "HW_CONFIG")},
		{PCR: 4, Type: EvPostCode, Data: []byte("BL_33"), Content: or(im.BL33, "BL_33")},
	}
	for p := uint32(0); p < 8; p++ {
		cs = append(cs, Separator(p))
	}
	if !im.NoPCR8And9 {
		cs = append(cs,
			// As GRUB logs them: "kernel_cmdline: <line>" NUL, digest over
			// the command line alone; the image by its path, digest over it.
			Component{PCR: 8, Type: EvIPL, Data: append([]byte("kernel_cmdline: "+im.Cmdline), 0), Content: []byte(im.Cmdline)},
			Component{PCR: 9, Type: EvIPL, Data: []byte("/boot/Image\x00"), Content: or(im.Kernel, "kernel")},
		)
	}
	return cs
}

// Measure extends each component into ext and returns the crypto-agile log
// describing what was extended (Spec ID event for ext's banks, a
// StartupLocality event when locality is not 0, then one event per component).
func Measure(ext Extender, comps []Component, locality uint8) (*Log, error) {
	banks := ext.Banks()
	spec := &SpecID{PlatformClass: 0, VersionMinor: 0, VersionMajor: 2, Errata: 0, UintnSize: 2}
	for _, a := range banks {
		if !a.Available() {
			return nil, fmt.Errorf("eventlog: cannot measure into a %v bank", a)
		}
		spec.Algorithms = append(spec.Algorithms, AlgSize{Alg: a, Size: uint16(a.Size())})
	}
	l := &Log{Spec: spec}
	l.Header = &Event{PCR: 0, Type: EvNoAction, Digests: []hashalg.Digest{{Alg: hashalg.SHA1, Digest: make([]byte, 20)}}, Data: spec.Marshal()}
	zero := make([]hashalg.Digest, len(banks))
	for i, a := range banks {
		zero[i] = hashalg.Digest{Alg: a, Digest: make([]byte, a.Size())}
	}
	// The StartupLocality event is only needed when the TPM was started
	// from locality 3 or 4 (H-CRTM), where PCR0 starts at the locality.
	// It is omitted for locality 0: tpm2_eventlog 5.x extends it into
	// PCR0 although EV_NO_ACTION events are never extended.
	if locality != 0 {
		l.Events = append(l.Events, Event{PCR: 0, Type: EvNoAction, Digests: zero,
			Data: append([]byte(StartupLocalitySignature), locality)})
	}
	for _, c := range comps {
		ds := make([]hashalg.Digest, len(banks))
		for i, a := range banks {
			if d, ok := hashalg.Find(c.Digests, a); ok && len(d) == a.Size() {
				// A copy: the log's events are the caller's to keep.
				ds[i] = hashalg.Digest{Alg: a, Digest: append([]byte(nil), d...)}
				continue
			}
			ds[i] = hashalg.Digest{Alg: a, Digest: a.Sum(c.hashed())}
		}
		if err := ext.Extend(int(c.PCR), ds); err != nil {
			return l, fmt.Errorf("eventlog: measure %v into PCR %d: %w", c.Type, c.PCR, err)
		}
		l.Events = append(l.Events, Event{PCR: c.PCR, Type: c.Type, Digests: ds, Data: c.Data})
	}
	return l, nil
}
