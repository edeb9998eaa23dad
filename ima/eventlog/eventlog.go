package eventlog

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// EventType is a TCG event type (PC Client PFP, table 9).
type EventType uint32

// Event types.
const (
	EvPrebootCert            EventType = 0x0
	EvPostCode               EventType = 0x1
	EvUnused                 EventType = 0x2
	EvNoAction               EventType = 0x3
	EvSeparator              EventType = 0x4
	EvAction                 EventType = 0x5
	EvEventTag               EventType = 0x6
	EvSCRTMContents          EventType = 0x7
	EvSCRTMVersion           EventType = 0x8
	EvCPUMicrocode           EventType = 0x9
	EvPlatformConfigFlags    EventType = 0xA
	EvTableOfDevices         EventType = 0xB
	EvCompactHash            EventType = 0xC
	EvIPL                    EventType = 0xD
	EvIPLPartitionData       EventType = 0xE
	EvNonhostCode            EventType = 0xF
	EvNonhostConfig          EventType = 0x10
	EvNonhostInfo            EventType = 0x11
	EvOmitBootDeviceEvents   EventType = 0x12
	EvEFIVariableDriverCfg   EventType = 0x80000001
	EvEFIVariableBoot        EventType = 0x80000002
	EvEFIBootServicesApp     EventType = 0x80000003
	EvEFIBootServicesDriver  EventType = 0x80000004
	EvEFIRuntimeServicesDrv  EventType = 0x80000005
	EvEFIGPTEvent            EventType = 0x80000006
	EvEFIAction              EventType = 0x80000007
	EvEFIPlatformFirmwareBlb EventType = 0x80000008
	EvEFIHandoffTables       EventType = 0x80000009
	EvEFIPlatformFirmwareB2  EventType = 0x8000000A
	EvEFIHandoffTables2      EventType = 0x8000000B
	EvEFIVariableBoot2       EventType = 0x8000000C
	EvEFIHCRTMEvent          EventType = 0x80000010
	EvEFIVariableAuthority   EventType = 0x800000E0
	EvEFISPDMFirmwareBlob    EventType = 0x800000E1
	EvEFISPDMFirmwareConfig  EventType = 0x800000E2
)

func typeNames() map[EventType]string {
	return map[EventType]string{
		EvPrebootCert: "EV_PREBOOT_CERT", EvPostCode: "EV_POST_CODE", EvUnused: "EV_UNUSED",
		EvNoAction: "EV_NO_ACTION", EvSeparator: "EV_SEPARATOR", EvAction: "EV_ACTION",
		EvEventTag: "EV_EVENT_TAG", EvSCRTMContents: "EV_S_CRTM_CONTENTS", EvSCRTMVersion: "EV_S_CRTM_VERSION",
		EvCPUMicrocode: "EV_CPU_MICROCODE", EvPlatformConfigFlags: "EV_PLATFORM_CONFIG_FLAGS",
		EvTableOfDevices: "EV_TABLE_OF_DEVICES", EvCompactHash: "EV_COMPACT_HASH", EvIPL: "EV_IPL",
		EvIPLPartitionData: "EV_IPL_PARTITION_DATA", EvNonhostCode: "EV_NONHOST_CODE",
		EvNonhostConfig: "EV_NONHOST_CONFIG", EvNonhostInfo: "EV_NONHOST_INFO",
		EvOmitBootDeviceEvents: "EV_OMIT_BOOT_DEVICE_EVENTS",
		EvEFIVariableDriverCfg: "EV_EFI_VARIABLE_DRIVER_CONFIG", EvEFIVariableBoot: "EV_EFI_VARIABLE_BOOT",
		EvEFIBootServicesApp: "EV_EFI_BOOT_SERVICES_APPLICATION", EvEFIBootServicesDriver: "EV_EFI_BOOT_SERVICES_DRIVER",
		EvEFIRuntimeServicesDrv: "EV_EFI_RUNTIME_SERVICES_DRIVER", EvEFIGPTEvent: "EV_EFI_GPT_EVENT",
		EvEFIAction: "EV_EFI_ACTION", EvEFIPlatformFirmwareBlb: "EV_EFI_PLATFORM_FIRMWARE_BLOB",
		EvEFIHandoffTables: "EV_EFI_HANDOFF_TABLES", EvEFIPlatformFirmwareB2: "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
		EvEFIHandoffTables2: "EV_EFI_HANDOFF_TABLES2", EvEFIVariableBoot2: "EV_EFI_VARIABLE_BOOT2",
		EvEFIHCRTMEvent: "EV_EFI_HCRTM_EVENT", EvEFIVariableAuthority: "EV_EFI_VARIABLE_AUTHORITY",
		EvEFISPDMFirmwareBlob: "EV_EFI_SPDM_FIRMWARE_BLOB", EvEFISPDMFirmwareConfig: "EV_EFI_SPDM_FIRMWARE_CONFIG",
	}
}

func (t EventType) String() string {
	if n, ok := typeNames()[t]; ok {
		return n
	}
	return fmt.Sprintf("EV_%#x", uint32(t))
}

// Signatures of EV_NO_ACTION events (PC Client PFP 10.4.5).
const (
	SpecIDSignature03        = "Spec ID Event03\x00"
	SpecIDSignature00        = "Spec ID Event00\x00"
	StartupLocalitySignature = "StartupLocality\x00"
)

// AlgSize is one TCG_EfiSpecIdEventAlgorithmSize entry.
type AlgSize struct {
	Alg  hashalg.Alg
	Size uint16
}

// SpecID is the TCG_EfiSpecIdEvent the first (SHA-1 format) event carries.
type SpecID struct {
	PlatformClass uint32
	VersionMinor  uint8
	VersionMajor  uint8
	Errata        uint8
	UintnSize     uint8 // 1: UINT32, 2: UINT64
	Algorithms    []AlgSize
	VendorInfo    []byte
}

// Event is one log record.
type Event struct {
	PCR     uint32
	Type    EventType
	Digests []hashalg.Digest
	Data    []byte
}

// Log is a parsed event log. A crypto-agile log has Spec set and its first
// record (the header, SHA-1 format) in Header; Events are the rest. A
// legacy log has Spec nil and every record, SHA-1 only, in Events.
type Log struct {
	Header *Event
	Spec   *SpecID
	Events []Event
}

// Banks lists the algorithms the log records (from the Spec ID event).
func (l *Log) Banks() []hashalg.Alg {
	if l.Spec == nil {
		return []hashalg.Alg{hashalg.SHA1}
	}
	out := make([]hashalg.Alg, 0, len(l.Spec.Algorithms))
	for _, a := range l.Spec.Algorithms {
		out = append(out, a.Alg)
	}
	return out
}

// Limits the parser enforces.
const (
	maxEventData = 1 << 24 // 16 MiB per event
	maxDigests   = 16
	maxAlgs      = 16
)

// Error locates a parse failure.
type Error struct {
	Event  int
	Offset int
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("eventlog: event %d at offset %d: %s", e.Event, e.Offset, e.Reason)
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) u32() (uint32, bool) {
	if len(r.b)-r.off < 4 {
		return 0, false
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v, true
}

func (r *reader) u16() (uint16, bool) {
	if len(r.b)-r.off < 2 {
		return 0, false
	}
	v := binary.LittleEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v, true
}

func (r *reader) take(n int) ([]byte, bool) {
	if n < 0 || len(r.b)-r.off < n {
		return nil, false
	}
	v := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return v, true
}

// Parse parses a firmware event log.
func Parse(data []byte) (*Log, error) {
	r := &reader{b: data}
	if len(data) == 0 {
		return nil, &Error{Reason: "empty log"}
	}
	first, err := parseSHA1Event(r, 0)
	if err != nil {
		return nil, err
	}
	l := &Log{}
	if first.Type == EvNoAction && first.PCR == 0 && bytes.HasPrefix(first.Data, []byte(SpecIDSignature03)) {
		spec, err := parseSpecID(first.Data)
		if err != nil {
			return nil, &Error{Event: 0, Offset: 0, Reason: err.Error()}
		}
		l.Header, l.Spec = &first, spec
		sizes := map[hashalg.Alg]int{}
		for _, a := range spec.Algorithms {
			sizes[a.Alg] = int(a.Size)
		}
		for n := 1; r.off < len(data); n++ {
			ev, err := parseEvent2(r, n, sizes)
			if err != nil {
				return l, err
			}
			l.Events = append(l.Events, ev)
		}
		return l, nil
	}
	l.Events = append(l.Events, first)
	for n := 1; r.off < len(data); n++ {
		ev, err := parseSHA1Event(r, n)
		if err != nil {
			return l, err
		}
		l.Events = append(l.Events, ev)
	}
	return l, nil
}

func parseSHA1Event(r *reader, n int) (Event, error) {
	start := r.off
	fail := func(s string) (Event, error) { return Event{}, &Error{Event: n, Offset: start, Reason: s} }
	pcr, ok := r.u32()
	if !ok {
		return fail("truncated PCR index")
	}
	typ, ok := r.u32()
	if !ok {
		return fail("truncated event type")
	}
	d, ok := r.take(20)
	if !ok {
		return fail("truncated SHA-1 digest")
	}
	size, ok := r.u32()
	if !ok {
		return fail("truncated event size")
	}
	if size > maxEventData {
		return fail(fmt.Sprintf("event size %d exceeds %d", size, maxEventData))
	}
	data, ok := r.take(int(size))
	if !ok {
		return fail(fmt.Sprintf("event data of %d bytes exceeds the %d left", size, len(r.b)-r.off))
	}
	return Event{PCR: pcr, Type: EventType(typ), Digests: []hashalg.Digest{{Alg: hashalg.SHA1, Digest: d}}, Data: data}, nil
}

func parseSpecID(b []byte) (*SpecID, error) {
	r := &reader{b: b}
	if _, ok := r.take(16); !ok {
		return nil, fmt.Errorf("Spec ID event shorter than its signature")
	}
	s := &SpecID{}
	var ok bool
	if s.PlatformClass, ok = r.u32(); !ok {
		return nil, fmt.Errorf("Spec ID event: truncated platformClass")
	}
	hdr, ok := r.take(4)
	if !ok {
		return nil, fmt.Errorf("Spec ID event: truncated version fields")
	}
	s.VersionMinor, s.VersionMajor, s.Errata, s.UintnSize = hdr[0], hdr[1], hdr[2], hdr[3]
	n, ok := r.u32()
	if !ok {
		return nil, fmt.Errorf("Spec ID event: truncated numberOfAlgorithms")
	}
	if n == 0 || n > maxAlgs {
		return nil, fmt.Errorf("Spec ID event: numberOfAlgorithms %d out of range 1..%d", n, maxAlgs)
	}
	for i := 0; i < int(n); i++ {
		id, ok1 := r.u16()
		sz, ok2 := r.u16()
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("Spec ID event: truncated algorithm %d", i)
		}
		a := hashalg.Alg(id)
		if a.Valid() && int(sz) != a.Size() {
			return nil, fmt.Errorf("Spec ID event: %v digest size %d, want %d", a, sz, a.Size())
		}
		if sz == 0 || sz > 64 {
			return nil, fmt.Errorf("Spec ID event: algorithm %#04x digest size %d out of range", id, sz)
		}
		s.Algorithms = append(s.Algorithms, AlgSize{Alg: a, Size: sz})
	}
	vl, ok := r.take(1)
	if !ok {
		return nil, fmt.Errorf("Spec ID event: truncated vendorInfoSize")
	}
	if s.VendorInfo, ok = r.take(int(vl[0])); !ok {
		return nil, fmt.Errorf("Spec ID event: truncated vendorInfo")
	}
	return s, nil
}

func parseEvent2(r *reader, n int, sizes map[hashalg.Alg]int) (Event, error) {
	start := r.off
	fail := func(s string) (Event, error) { return Event{}, &Error{Event: n, Offset: start, Reason: s} }
	pcr, ok := r.u32()
	if !ok {
		return fail("truncated PCR index")
	}
	typ, ok := r.u32()
	if !ok {
		return fail("truncated event type")
	}
	cnt, ok := r.u32()
	if !ok {
		return fail("truncated digest count")
	}
	if cnt > maxDigests {
		return fail(fmt.Sprintf("digest count %d exceeds %d", cnt, maxDigests))
	}
	ev := Event{PCR: pcr, Type: EventType(typ)}
	for i := 0; i < int(cnt); i++ {
		id, ok := r.u16()
		if !ok {
			return fail(fmt.Sprintf("truncated algorithm of digest %d", i))
		}
		sz, known := sizes[hashalg.Alg(id)]
		if !known {
			return fail(fmt.Sprintf("digest %d uses algorithm %#04x, which the Spec ID event does not list", i, id))
		}
		d, ok := r.take(sz)
		if !ok {
			return fail(fmt.Sprintf("truncated %v digest", hashalg.Alg(id)))
		}
		ev.Digests = append(ev.Digests, hashalg.Digest{Alg: hashalg.Alg(id), Digest: d})
	}
	size, ok := r.u32()
	if !ok {
		return fail("truncated event size")
	}
	if size > maxEventData {
		return fail(fmt.Sprintf("event size %d exceeds %d", size, maxEventData))
	}
	if ev.Data, ok = r.take(int(size)); !ok {
		return fail(fmt.Sprintf("event data of %d bytes exceeds the %d left", size, len(r.b)-r.off))
	}
	return ev, nil
}

// Marshal encodes the log in the format Parse reads.
func (l *Log) Marshal() []byte {
	var b []byte
	put32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	sha1Event := func(e Event) {
		put32(e.PCR)
		put32(uint32(e.Type))
		d, _ := hashalg.Find(e.Digests, hashalg.SHA1)
		var z [20]byte
		copy(z[:], d)
		b = append(b, z[:]...)
		put32(uint32(len(e.Data)))
		b = append(b, e.Data...)
	}
	if l.Spec == nil {
		for _, e := range l.Events {
			sha1Event(e)
		}
		return b
	}
	if l.Header != nil {
		sha1Event(*l.Header) // as parsed or measured, byte for byte
	} else {
		sha1Event(Event{PCR: 0, Type: EvNoAction, Data: l.Spec.Marshal()})
	}
	for _, e := range l.Events {
		put32(e.PCR)
		put32(uint32(e.Type))
		put32(uint32(len(e.Digests)))
		for _, d := range e.Digests {
			b = binary.LittleEndian.AppendUint16(b, uint16(d.Alg))
			b = append(b, d.Digest...)
		}
		put32(uint32(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b
}

// Marshal encodes the TCG_EfiSpecIdEvent.
func (s *SpecID) Marshal() []byte {
	b := []byte(SpecIDSignature03)
	b = binary.LittleEndian.AppendUint32(b, s.PlatformClass)
	b = append(b, s.VersionMinor, s.VersionMajor, s.Errata, s.UintnSize)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.Algorithms)))
	for _, a := range s.Algorithms {
		b = binary.LittleEndian.AppendUint16(b, uint16(a.Alg))
		b = binary.LittleEndian.AppendUint16(b, a.Size)
	}
	b = append(b, byte(len(s.VendorInfo)))
	return append(b, s.VendorInfo...)
}

// NumPCRs is the number of PCRs replay produces.
const NumPCRs = 24

// PCRs is one replayed bank: PCR index -> value.
type PCRs [NumPCRs][]byte

// Replay computes the PCR values the log describes, per bank it records
// and Go can hash. Events with PCR indexes >= 24 are rejected.
func (l *Log) Replay() (map[hashalg.Alg]*PCRs, error) {
	pcr0Extended := false
	out := map[hashalg.Alg]*PCRs{}
	for _, a := range l.Banks() {
		if !a.Available() {
			continue
		}
		p := &PCRs{}
		for i := range p {
			p[i] = make([]byte, a.Size())
		}
		out[a] = p
	}
	for i, e := range l.Events {
		if e.Type == EvNoAction {
			if e.PCR == 0 && !pcr0Extended && len(e.Data) == 17 && bytes.HasPrefix(e.Data, []byte(StartupLocalitySignature)) {
				for _, p := range out {
					p[0][len(p[0])-1] = e.Data[16]
				}
			}
			continue
		}
		if e.PCR >= NumPCRs {
			return nil, fmt.Errorf("eventlog: event %d (%v) names PCR %d", i+1, e.Type, e.PCR)
		}
		pcr0Extended = pcr0Extended || e.PCR == 0
		for a, p := range out {
			d, ok := hashalg.Find(e.Digests, a)
			if !ok {
				return nil, fmt.Errorf("eventlog: event %d (%v, PCR %d) has no %v digest", i+1, e.Type, e.PCR, a)
			}
			p[e.PCR] = a.Extend(p[e.PCR], d)
		}
	}
	return out, nil
}
