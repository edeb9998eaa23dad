package ima

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/ffatpm/ffatpm/ima/eventlog"
	"github.com/ffatpm/ffatpm/ima/hashalg"
)

// Check is one verification step and its verdict.
type Check struct {
	Name string
	OK   bool
	// Detail says what was compared and, on failure, what differed.
	Detail string
}

// Report is the result of Verify.
type Report struct {
	Checks []Check
	// Bypass is set when the list's boot_aggregate is all zeros: the
	// kernel found no TPM at IMA initialisation.
	Bypass bool
	// Late is set when the first entry is boot_aggregate_late.
	Late bool
	// Entries is the number of list records replayed.
	Entries int
	// Violations counts records with a zero template digest.
	Violations int
}

// OK reports whether every check passed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

// Failed returns the failing checks.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

func (r *Report) add(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// String renders one line per check.
func (r *Report) String() string {
	var b strings.Builder
	for _, c := range r.Checks {
		v := "ok  "
		if !c.OK {
			v = "FAIL"
		}
		fmt.Fprintf(&b, "%s %s: %s\n", v, c.Name, c.Detail)
	}
	return b.String()
}

// Evidence is what an attestation verifier receives.
type Evidence struct {
	// Lists maps a template-digest algorithm to the binary list with those
	// digests (the un-suffixed file is SHA-1). At least one is required.
	Lists map[hashalg.Alg][]Record
	// PCRs are the TPM's values per bank (a quote, or evmctl PCR files).
	PCRs map[hashalg.Alg]PCRValues
	// EventLog is the firmware event log, optional.
	EventLog *eventlog.Log
}

// ReplayList replays records into bank alg, starting from zero registers.
// It uses each record's digest when the records carry alg digests
// (listAlg == alg) and otherwise recomputes the template digest with alg
// from the template data, as evmctl does for banks without their own list.
// Violations (all-zero digests) extend ff..ff.
func ReplayList(recs []Record, listAlg, alg hashalg.Alg) (PCRValues, error) {
	if !alg.Available() {
		return nil, fmt.Errorf("ima: replay: cannot hash bank %v", alg)
	}
	out := PCRValues{}
	ff := bytes.Repeat([]byte{0xff}, alg.Size())
	for i := range recs {
		r := &recs[i]
		p := int(r.PCR)
		if p < 0 || p >= TPMPCRs {
			return nil, fmt.Errorf("ima: replay: record %d names PCR %d", i, r.PCR)
		}
		cur, ok := out[p]
		if !ok {
			cur = make([]byte, alg.Size())
		}
		var d []byte
		switch {
		case r.Violation():
			d = ff
		case listAlg == alg:
			d = r.TemplateDigest
		default:
			d = r.Recompute(alg)
		}
		if len(d) != alg.Size() {
			return nil, fmt.Errorf("ima: replay: record %d digest is %d bytes, bank %v wants %d", i, len(d), alg, alg.Size())
		}
		out[p] = alg.Extend(cur, d)
	}
	return out, nil
}

// BootAggregateFromPCRs computes boot_aggregate for bank alg from PCR
// values (PCR0..7 for SHA-1, PCR0..9 otherwise); missing values are zero.
func BootAggregateFromPCRs(p PCRValues, alg hashalg.Alg) []byte {
	h := alg.New()
	for _, i := range TPMBootAggregateIndices(alg) {
		v, ok := p[i]
		if !ok {
			v = make([]byte, alg.Size())
		}
		h.Write(v)
	}
	return h.Sum(nil)
}

// Verify replays the lists against the PCR values of every bank, checks
// each record's template digest, recomputes boot_aggregate from the PCRs
// (and from the replayed event log), and replays the event log against
// PCR0..9. It reports every check with what differed.
func Verify(ev Evidence) *Report {
	rep := &Report{}
	if len(ev.Lists) == 0 {
		rep.add("list", false, "no measurement list given")
		return rep
	}
	listAlgs := sortedAlgs(ev.Lists)
	// Prefer SHA-1 (the file every kernel writes) as the reference list.
	ref := listAlgs[0]
	if _, ok := ev.Lists[hashalg.SHA1]; ok {
		ref = hashalg.SHA1
	}
	recs := ev.Lists[ref]
	rep.Entries = len(recs)

	// 1. Template digests: each record's digest must match its data.
	for _, la := range listAlgs {
		bad, first := 0, -1
		for i := range ev.Lists[la] {
			r := &ev.Lists[la][i]
			if r.Violation() || !la.Available() {
				continue
			}
			if !bytes.Equal(r.Recompute(la), r.TemplateDigest) {
				bad++
				if first < 0 {
					first = i
				}
			}
		}
		if bad == 0 {
			rep.add("template digests "+la.String(), true, "%d records match their template data", len(ev.Lists[la]))
		} else {
			r := ev.Lists[la][first]
			rep.add("template digests "+la.String(), false, "%d of %d records do not match their template data; first is record %d (%q): list has %x, data hashes to %x",
				bad, len(ev.Lists[la]), first, r.Name(), r.TemplateDigest, r.Recompute(la))
		}
	}

	// 2. Replay against each bank's PCRs.
	for _, bank := range sortedAlgs(ev.PCRs) {
		if !bank.Available() {
			continue
		}
		la := ref
		if _, ok := ev.Lists[bank]; ok {
			la = bank
		}
		replayed, err := ReplayList(ev.Lists[la], la, bank)
		if err != nil {
			rep.add("replay "+bank.String(), false, "%v", err)
			continue
		}
		for _, p := range sortedIdx(replayed) {
			name := fmt.Sprintf("PCR%d %v", p, bank)
			got, ok := ev.PCRs[bank][p]
			switch {
			case !ok:
				rep.add(name, false, "the list extends PCR%d but no %v value for it was given", p, bank)
			case bytes.Equal(got, replayed[p]):
				rep.add(name, true, "replaying %d records (%s list) gives the TPM's value %x", len(ev.Lists[la]), la, got)
			default:
				rep.add(name, false, "replaying %d records (%s list) gives %x, the TPM has %x", len(ev.Lists[la]), la, replayed[p], got)
			}
		}
	}

	// Violations are not failures by themselves, but a verifier's policy
	// wants to know (keylime counts them): list them.
	var viol []string
	for i := range recs {
		if recs[i].Violation() {
			viol = append(viol, fmt.Sprintf("%d:%s", i, recs[i].Name()))
		}
	}
	if len(viol) > 0 {
		rep.Violations = len(viol)
		rep.add("violations", true, "%d records are integrity violations (zero digest, extended as ff..ff): %s", len(viol), strings.Join(viol, ", "))
	}

	// 3. boot_aggregate.
	checkBootAggregate(rep, recs, ev)

	// 4. Firmware event log against PCR0..9.
	if ev.EventLog != nil {
		checkEventLog(rep, ev)
	}
	return rep
}

func checkBootAggregate(rep *Report, recs []Record, ev Evidence) {
	if len(recs) == 0 {
		rep.add("boot_aggregate", false, "the list is empty; boot_aggregate must be its first entry")
		return
	}
	first := &recs[0]
	name := first.Name()
	switch name {
	case BootAggregateName:
	case BootAggregateLateName:
		rep.Late = true
	default:
		rep.add("boot_aggregate", false, "the first entry is %q, not boot_aggregate or boot_aggregate_late", name)
		return
	}
	algo, digest, ok := first.FileDigest()
	if !ok {
		rep.add("boot_aggregate", false, "first entry has no digest field")
		return
	}
	alg, err := hashalg.Parse(algo)
	if err != nil {
		rep.add("boot_aggregate", false, "first entry's digest algorithm: %v", err)
		return
	}
	if !alg.Available() || len(digest) != alg.Size() {
		rep.add("boot_aggregate", false, "first entry's digest is %d bytes of %v, which this verifier cannot recompute", len(digest), alg)
		return
	}
	if allZero(digest) {
		rep.Bypass = true
		rep.add("boot_aggregate", false, "%s is all zeros: the kernel was in TPM-bypass (no TPM chip when IMA initialised), so no PCR protects this list", name)
		return
	}
	if rep.Late {
		rep.add("boot_aggregate_late", true, "IMA initialised at late_initcall_sync; measurements before that point are not in this list")
	}
	if p, ok := ev.PCRs[alg]; ok {
		want := BootAggregateFromPCRs(p, alg)
		if bytes.Equal(want, digest) {
			rep.add("boot_aggregate "+alg.String(), true, "%s %x equals the hash of PCR%s", name, digest, pcrRange(alg))
		} else {
			rep.add("boot_aggregate "+alg.String(), false, "%s is %x, the hash of PCR%s is %x", name, digest, pcrRange(alg), want)
		}
	} else {
		rep.add("boot_aggregate "+alg.String(), false, "no %v PCR values given to recompute %s", alg, name)
	}
	if ev.EventLog != nil {
		replayed, err := ev.EventLog.Replay()
		if err != nil {
			rep.add("boot_aggregate from event log", false, "%v", err)
			return
		}
		p, ok := replayed[alg]
		if !ok {
			rep.add("boot_aggregate from event log", false, "the event log has no %v bank", alg)
			return
		}
		want := BootAggregateFromPCRs(pcrsFromLog(p), alg)
		rep.add("boot_aggregate from event log", bytes.Equal(want, digest), "%s is %x, the replayed event log gives %x", name, digest, want)
	}
}

func pcrRange(alg hashalg.Alg) string {
	if alg == hashalg.SHA1 {
		return "0..7"
	}
	return "0..9"
}

func pcrsFromLog(p *eventlog.PCRs) PCRValues {
	out := PCRValues{}
	for i, v := range p {
		out[i] = v
	}
	return out
}

func checkEventLog(rep *Report, ev Evidence) {
	replayed, err := ev.EventLog.Replay()
	if err != nil {
		rep.add("event log", false, "%v", err)
		return
	}
	touched := map[int]bool{}
	for _, e := range ev.EventLog.Events {
		if e.Type != eventlog.EvNoAction && e.PCR < eventlog.NumPCRs {
			touched[int(e.PCR)] = true
		}
	}
	for _, bank := range sortedAlgs(ev.PCRs) {
		p, ok := replayed[bank]
		if !ok {
			continue
		}
		var bad []string
		for i := 0; i < eventlog.NumPCRs; i++ {
			if !touched[i] {
				continue
			}
			got, ok := ev.PCRs[bank][i]
			if !ok {
				continue
			}
			if !bytes.Equal(got, p[i]) {
				bad = append(bad, fmt.Sprintf("PCR%d: log %x, TPM %x", i, p[i], got))
			}
		}
		name := "event log " + bank.String()
		if len(bad) == 0 {
			rep.add(name, true, "replaying %d events gives the TPM's PCRs %v", len(ev.EventLog.Events), sortedKeys(touched))
		} else {
			rep.add(name, false, "%s", strings.Join(bad, "; "))
		}
	}
}

func sortedAlgs[V any](m map[hashalg.Alg]V) []hashalg.Alg {
	out := make([]hashalg.Alg, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func sortedIdx(m PCRValues) []int {
	out := make([]int, 0, len(m))
	for i := range m {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for i := range m {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}
