package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ffatpm/ffatpm/crb"
	"github.com/ffatpm/ffatpm/crb/platform"
)

// printTrace prints the boot's events as a table (or JSON lines) and draws
// the SVG timeline when asked.
func printTrace(e *env, rep *bootReport, kinds map[string]bool, o *traceOptions) int {
	var shown []traceEvent
	for _, ev := range rep.trace {
		if kinds == nil || kinds[ev.Group] {
			shown = append(shown, ev)
		}
	}
	if o.svg != "" {
		f, err := os.Create(o.svg)
		if err != nil {
			return report(e, "trace", fmt.Errorf("--svg: %v", unwrapPathError(err)))
		}
		w := bufio.NewWriter(f)
		writeTimelineSVG(w, rep)
		if err := w.Flush(); err != nil {
			f.Close()
			return report(e, "trace", fmt.Errorf("--svg: %v", err))
		}
		if err := f.Close(); err != nil {
			return report(e, "trace", fmt.Errorf("--svg: %v", err))
		}
	}
	if o.jsonl {
		e.stdout.Write(traceJSONL(shown))
	} else {
		writeTraceTable(e.stdout, shown)
		fmt.Fprintf(e.stdout, "\n%d events shown of %d; verdict %s\n", len(shown), len(rep.trace), rep.Verdict)
	}
	return exitOK
}

var mmioDetail = regexp.MustCompile(`^(read|write)(\d+) 0x([0-9a-f]+) = 0x([0-9a-f]+)$`)

// describeMMIO names the CRB register of a raw access "write32 0x60000040 = 0x1".
func describeMMIO(detail string) (reg string, text string) {
	m := mmioDetail.FindStringSubmatch(detail)
	if m == nil {
		return "", detail
	}
	addr, _ := strconv.ParseUint(m[3], 16, 64)
	val, _ := strconv.ParseUint(m[4], 16, 64)
	if addr < platform.DefaultCRBBase || addr >= platform.DefaultCRBBase+crb.WindowSize {
		return "", detail
	}
	off := addr - platform.DefaultCRBBase
	loc := off / crb.LocalityStride
	r := crb.Reg(off % crb.LocalityStride)
	name := r.String()
	if r >= crb.RegDataBuffer {
		return "TPM_CRB_DATA_BUFFER", fmt.Sprintf("%s %s_%d", m[1], name, loc)
	}
	full := fmt.Sprintf("%s_%d", name, loc)
	if base, plus, ok := strings.Cut(name, "+"); ok {
		full = fmt.Sprintf("%s_%d+%s", base, loc, plus)
	}
	text = fmt.Sprintf("%s %s = %#x", m[1], full, val)
	if bits := crb.DescribeBits(r, val); bits != fmt.Sprintf("%#x", val) && bits != "0" {
		text += " (" + bits + ")"
	}
	return name, text
}

// writeTraceTable prints one event per row with aligned columns; runs of
// data-buffer accesses are folded into one row.
func writeTraceTable(w io.Writer, evs []traceEvent) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tLEVEL\tCONTEXT\tWHAT\tEVENT\tRESULT")
	for i := 0; i < len(evs); i++ {
		ev := evs[i]
		what := ev.Kind
		detail := ev.Detail
		switch ev.Group {
		case "crb":
			reg, text := describeMMIO(ev.Detail)
			if reg == "TPM_CRB_DATA_BUFFER" {
				dir := strings.Fields(text)[0]
				n := 1
				for i+1 < len(evs) && evs[i+1].Group == "crb" {
					r2, t2 := describeMMIO(evs[i+1].Detail)
					if r2 != reg || strings.Fields(t2)[0] != dir {
						break
					}
					i++
					n++
				}
				text = fmt.Sprintf("%s TPM_CRB_DATA_BUFFER: %d accesses", dir, n)
			}
			what, detail = "crb", text
		case "ffa":
			what = "ffa"
		default:
			var subj []string
			for _, s := range []string{ev.Bus, ev.Device, ev.Driver} {
				if s != "" {
					subj = append(subj, s)
				}
			}
			if len(subj) > 0 {
				detail = strings.TrimSpace(strings.Join(subj, " ") + " " + detail)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", timeString(ev.TimeNS), ev.Level, ev.Initcall, what, detail, ev.Result)
	}
	tw.Flush()
}
