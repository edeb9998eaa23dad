package ima

import (
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-tpm/tpm2"

	"github.com/ffatpm/ffatpm/ima/hashalg"
	"github.com/ffatpm/ffatpm/ima/policy"
)

// Names of the first entry (ima_init.c boot_aggregate_name and, with late
// initialisation, boot_aggregate_late_name).
const (
	BootAggregateName     = "boot_aggregate"
	BootAggregateLateName = "boot_aggregate_late"
)

// Log lines Linux prints (pr_fmt "ima: ").
const (
	LogBypass       = "ima: No TPM chip found, activating TPM-bypass!"
	logAllocatedFmt = "ima: Allocated hash algorithm: %s"
	logTPMErrorFmt  = "ima: Error Communicating to TPM chip, result: %d"
	logNoArchPolicy = "ima: No architecture policies found"
	logPCRReadError = "ima: Error Communicating to TPM chip"
)

// Config is IMA's boot configuration: Kconfig defaults and the kernel
// command line (ima_hash=, ima_template=, ima_policy=).
type Config struct {
	// HashAlgo is ima_hash (CONFIG_IMA_DEFAULT_HASH); zero means SHA-256.
	HashAlgo hashalg.Alg
	// Template is ima_template (CONFIG_IMA_DEFAULT_TEMPLATE); "" = ima-ng.
	Template string
	// PCR is CONFIG_IMA_MEASURE_PCR_IDX; 0 means the root of trust's
	// default index (10 on a TPM).
	PCR int
	// Policy decides what is measured; nil measures nothing (Linux's
	// default without ima_policy=).
	Policy *policy.Policy
}

func (c Config) withDefaults() Config {
	if c.HashAlgo == 0 {
		c.HashAlgo = hashalg.SHA256
	}
	if c.Template == "" {
		c.Template = TemplateIMANG
	}
	return c
}

// Logger receives kernel log lines.
type Logger func(line string)

// IMA is the state init_ima builds: the measurement list and the root of
// trust it extends (nil in TPM-bypass).
type IMA struct {
	cfg  Config
	rot  RootOfTrust
	list *List
	tmpl Template
	pcr  int
	log  Logger

	extendMu      sync.Mutex // held across list append and extend
	mu            sync.Mutex
	extendErrors  int
	lastExtendErr error
}

// Init is ima_init: with rot nil it logs the TPM-bypass line and measures
// without extending; it then records the boot aggregate, named
// aggregateName, as the first entry.
func Init(cfg Config, rot RootOfTrust, aggregateName string, log Logger) (*IMA, error) {
	cfg = cfg.withDefaults()
	if !cfg.HashAlgo.Available() {
		return nil, fmt.Errorf("ima: hash algorithm %v is not available", cfg.HashAlgo)
	}
	tmpl, err := LookupTemplate(cfg.Template)
	if err != nil {
		return nil, err
	}
	if cfg.PCR < 0 || cfg.PCR >= TPMPCRs {
		return nil, fmt.Errorf("ima: measurement register %d out of range 0..%d", cfg.PCR, TPMPCRs-1)
	}
	if log == nil {
		log = func(string) {}
	}
	m := &IMA{cfg: cfg, rot: rot, tmpl: tmpl, log: log}
	var banks []hashalg.Alg
	name := ""
	if rot == nil {
		log(LogBypass)
	} else {
		banks = rot.Banks()
		name = rot.Name()
	}
	m.pcr = cfg.PCR
	if m.pcr == 0 {
		m.pcr = DefaultPCR
		if rot != nil {
			m.pcr = rot.DefaultIndex()
		}
	}
	log(fmt.Sprintf(logAllocatedFmt, cfg.HashAlgo))
	if r, ok := rot.(interface{ Registers() int }); ok && m.pcr >= r.Registers() {
		return nil, fmt.Errorf("ima: measurement register %d out of range for %s (0..%d)", m.pcr, rot.Name(), r.Registers()-1)
	}
	m.list = NewList(AlgoArray(banks, cfg.HashAlgo), name)
	if err := m.addBootAggregate(aggregateName); err != nil {
		return nil, err
	}
	// ima_init_policy: no architecture-specific rules (no secure-boot arch
	// policy in this model), as the 6.1 reference dmesg shows.
	log(logNoArchPolicy)
	return m, nil
}

// addBootAggregate is ima_add_boot_aggregate.
func (m *IMA) addBootAggregate(name string) error {
	ev := Event{Name: name}
	want := m.cfg.HashAlgo
	if m.tmpl.Name == TemplateIMA {
		want = hashalg.SHA1
	}
	ev.Digest = hashalg.Digest{Alg: want, Digest: make([]byte, want.Size())}
	if m.rot != nil {
		bank, ok := BootAggregateBank(m.rot.Banks(), want)
		switch {
		case !ok:
			m.log("ima: No suitable TPM algorithm for boot aggregate")
		case bank.Available():
			ev.Digest = hashalg.Digest{Alg: bank, Digest: m.bootAggregateTolerant(bank)}
		}
	}
	if m.tmpl.Name == TemplateIMA && ev.Digest.Alg != hashalg.SHA1 {
		ev.Digest = hashalg.Digest{Alg: hashalg.SHA1, Digest: make([]byte, 20)}
	}
	_, err := m.store(ev, m.tmpl, m.pcr)
	return err
}

// bootAggregateTolerant is ima_calc_boot_aggregate_tfm: one tpm_digest
// buffer, starting zeroed, read into for each register; ima_pcrread only
// logs a failed read, so the buffer keeps the previous register's value
// and init goes on.
func (m *IMA) bootAggregateTolerant(bank hashalg.Alg) []byte {
	h := bank.New()
	d := make([]byte, bank.Size())
	for _, i := range m.rot.BootAggregateIndices(bank) {
		v, err := m.rot.Read(i, bank)
		if err != nil || len(v) != bank.Size() {
			m.log(logPCRReadError)
		} else {
			d = v
		}
		h.Write(d)
	}
	return h.Sum(nil)
}

// List returns the measurement list.
func (m *IMA) List() *List { return m.list }

// RootOfTrust returns the root of trust, nil in TPM-bypass.
func (m *IMA) RootOfTrust() RootOfTrust { return m.rot }

// Bypass reports whether IMA runs without a root of trust.
func (m *IMA) Bypass() bool { return m.rot == nil }

// PCR returns the register measurements extend by default.
func (m *IMA) PCR() int { return m.pcr }

// Config returns the effective configuration.
func (m *IMA) Config() Config { return m.cfg }

// ExtendErrors counts extends the root of trust refused. As in Linux, a
// refused extend leaves the entry listed and the measurement succeeds.
func (m *IMA) ExtendErrors() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.extendErrors
}

// LastExtendError returns the most recent refused extend, or nil.
func (m *IMA) LastExtendError() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastExtendErr
}

// store is ima_store_template + ima_add_template_entry: build the template
// data, compute its digest per algorithm, append unless a duplicate, and
// extend the register in every bank (ff..ff for a violation).
func (m *IMA) store(ev Event, tmpl Template, pcr int) (bool, error) {
	fields, err := tmpl.BuildFields(ev, m.cfg.HashAlgo)
	if err != nil {
		return false, err
	}
	algs := m.list.algs
	e := Entry{PCR: pcr, Template: tmpl.Name, Fields: fields, Digests: make([][]byte, len(algs))}
	for i, a := range algs {
		if ev.Violation {
			e.Digests[i] = make([]byte, a.Size())
		} else {
			e.Digests[i] = TemplateDigest(tmpl.Name, fields, a)
		}
	}
	if m.rot == nil {
		return m.list.Append(e, ev.Violation)
	}
	// ima_extend_list_mutex: the list order must be the extend order.
	m.extendMu.Lock()
	defer m.extendMu.Unlock()
	added, err := m.list.Append(e, ev.Violation)
	if err != nil || !added {
		return added, err
	}
	banks := m.rot.Banks()
	ds := make([]hashalg.Digest, len(banks))
	for i, b := range banks {
		if ev.Violation {
			ff := make([]byte, b.Size())
			for j := range ff {
				ff[j] = 0xff
			}
			ds[i] = hashalg.Digest{Alg: b, Digest: ff}
		} else {
			ds[i] = hashalg.Digest{Alg: b, Digest: e.Digests[i]}
		}
	}
	if err := m.rot.Extend(pcr, ds); err != nil {
		// ima_add_template_entry: pr_err and an audit record, but the
		// entry stays listed and the call succeeds.
		m.mu.Lock()
		m.extendErrors++
		m.lastExtendErr = fmt.Errorf("ima: entry %q listed but not extended: %w", ev.Name, err)
		m.mu.Unlock()
		m.log(fmt.Sprintf(logTPMErrorFmt, tpmResult(err)))
	}
	return true, nil
}

// Outcome says what a measurement request did.
type Outcome int

// Outcomes of Measure.
const (
	NotMeasured Outcome = iota // the policy says no
	Measured                   // a new entry was added and extended
	Duplicate                  // same PCR and template digest already listed
)

func (o Outcome) String() string {
	switch o {
	case NotMeasured:
		return "not-measured"
	case Measured:
		return "measured"
	case Duplicate:
		return "duplicate"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// File is one file a hook sees: its path, content and the access.
type File struct {
	Path string
	Data []byte
	// Sig is its security.ima signature, for ima-sig.
	Sig []byte
	// Req carries the hook, mask, ids and filesystem the policy matches on.
	Req policy.Request
}

// Measure is process_measurement for one access: ask the policy, hash the
// content with IMA's algorithm and record it.
func (m *IMA) Measure(f File) (Outcome, error) {
	dec := m.cfg.Policy.Match(f.Req)
	if !dec.Measure {
		return NotMeasured, nil
	}
	tmpl := m.tmpl
	if dec.Template != "" {
		t, err := LookupTemplate(dec.Template)
		if err != nil {
			return NotMeasured, err
		}
		tmpl = t
	}
	pcr := m.pcr
	if dec.PCR >= 0 {
		pcr = dec.PCR
	}
	return m.MeasureData(f.Path, f.Data, f.Sig, tmpl.Name, pcr)
}

// MeasureData records content under name with an explicit template and
// register, bypassing the policy.
func (m *IMA) MeasureData(name string, data, sig []byte, template string, pcr int) (Outcome, error) {
	tmpl, err := LookupTemplate(template)
	if err != nil {
		return NotMeasured, err
	}
	alg := m.cfg.HashAlgo
	if tmpl.Name == TemplateIMA {
		alg = hashalg.SHA1
	}
	ev := Event{Name: name, Digest: hashalg.Digest{Alg: alg, Digest: alg.Sum(data)}, Sig: sig}
	added, err := m.store(ev, tmpl, pcr)
	if err != nil {
		return NotMeasured, err
	}
	if !added {
		return Duplicate, nil
	}
	return Measured, nil
}

// Violation records an integrity violation for name (ima_add_violation:
// ToMToU or open-writers), extending the register with ff..ff.
func (m *IMA) Violation(name string) error {
	_, err := m.store(Event{Name: name, Violation: true}, m.tmpl, m.pcr)
	return err
}

// tpmResult is the int tpm_pcr_extend returns for err: the driver's
// negative errno, the TPM's response code (positive) when the TPM answered
// with an error, else -EIO.
func tpmResult(err error) int {
	var errno interface{ Ret() int } // a kernel errno from the driver: -EBUSY, -ETIME, ...
	if errors.As(err, &errno) {
		return errno.Ret()
	}
	var rc tpm2.TPMRC
	if errors.As(err, &rc) {
		return int(rc)
	}
	return -5 // -EIO
}
