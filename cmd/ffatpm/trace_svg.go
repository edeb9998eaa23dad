package main

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// The timeline puts the driver-core events of a boot on an ordinal axis
// (one step per event; FF-A calls and CRB accesses are left out, they would
// crowd it) and draws, in lanes: the initcall levels, the initcalls as
// bars, probes (green bound, orange deferred, red failed), deferrals as
// arrows from the deferral to the probe that resolved it, the TPM chip's
// registration, and IMA's init with the verdict.

const (
	svgStep    = 22  // px per event
	svgLeft    = 130 // lane labels
	svgTop     = 58
	svgLaneH   = 34
	svgPadding = 20
)

var levelColours = []string{"#e8eef7", "#f3ecf8", "#eaf5ea", "#fbf1e4", "#e9f3f6", "#f7e9ec"}

type svgLane struct {
	name string
	y    int
}

func writeTimelineSVG(w io.Writer, rep *bootReport) {
	var evs []traceEvent
	for _, ev := range rep.trace {
		if ev.Group != "ffa" && ev.Group != "crb" && ev.Kind != "tpm_command" {
			evs = append(evs, ev)
		}
	}
	lanes := []svgLane{{"level", 0}, {"initcalls", 0}, {"probes", 0}, {"deferred", 0}, {"TPM / IMA", 0}}
	for i := range lanes {
		lanes[i].y = svgTop + i*svgLaneH
	}
	x := func(i int) int { return svgLeft + svgPadding + i*svgStep }
	width := x(len(evs)) + 260
	labelsY := svgTop + len(lanes)*svgLaneH + 8
	height := labelsY + 160
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="white"/>`+"\n", width, height)
	title := fmt.Sprintf("ffatpm boot timeline: %s", rep.Preset)
	fmt.Fprintf(&b, `<text x="12" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", esc(title))
	fmt.Fprintf(&b, `<text x="12" y="42" font-size="12" fill="%s">%s</text>`+"\n", verdictColour(rep.Verdict), esc(verdictLine(rep.Verdict)))
	for _, l := range lanes {
		fmt.Fprintf(&b, `<text x="12" y="%d" font-weight="bold" fill="#333">%s</text>`+"\n", l.y+svgLaneH/2+4, esc(l.name))
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#ddd"/>`+"\n", svgLeft, l.y+svgLaneH, width-20, l.y+svgLaneH)
	}

	// Levels: contiguous runs of events at the same level.
	start, ci := 0, 0
	for i := 1; i <= len(evs); i++ {
		if i == len(evs) || evs[i].Level != evs[start].Level {
			y := lanes[0].y + 4
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#9aa"/>`+"\n",
				x(start)-svgStep/2, y, (i-start)*svgStep, svgLaneH-8, levelColours[ci%len(levelColours)])
			if name := evs[start].Level; (i-start)*svgStep >= 7*len(name)+6 {
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#234">%s</text>`+"\n", x(start)-svgStep/2+4, y+17, esc(name))
			} else {
				fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="9" fill="#234">%s</text>`+"\n", x(start)-svgStep/2+2, y-3, esc(name))
			}
			ci++
			start = i
		}
	}

	// Initcalls: a bar from start to return, its name below the lanes.
	open := map[string]int{}
	for i, ev := range evs {
		switch ev.Kind {
		case "initcall_start":
			open[ev.Initcall] = i
		case "initcall_return":
			s, ok := open[ev.Initcall]
			if !ok {
				continue
			}
			delete(open, ev.Initcall)
			colour := "#7a9cc6"
			if ev.Result != "0" && ev.Result != "" {
				colour = "#d08a3c"
			}
			if strings.HasPrefix(ev.Initcall, "init_ima") {
				colour = verdictColour(rep.Verdict)
			}
			y := lanes[1].y + 8
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="3" fill="%s"><title>%s (%s) returned %s</title></rect>`+"\n",
				x(s)-6, y, (i-s)*svgStep+12, svgLaneH-16, colour, esc(ev.Initcall), esc(ev.Level), esc(ev.Result))
			lx := x(s) - 2
			fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#bbb" stroke-dasharray="2,2"/>`+"\n", lx+2, y+svgLaneH-16, lx+2, labelsY)
			label := ev.Initcall
			if ev.Result != "0" && ev.Result != "" {
				label += " = " + ev.Result
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" transform="rotate(40 %d %d)" fill="#223">%s</text>`+"\n", lx, labelsY+10, lx, labelsY+10, esc(label))
		}
	}

	// Probes and deferrals.
	deferredAt := map[string]int{}
	for i, ev := range evs {
		switch ev.Kind {
		case "probe_return":
			colour, sym := "#3a9a4a", "bound"
			switch ev.Result {
			case "0", "":
			case "EPROBE_DEFER":
				colour, sym = "#e08a1e", "deferred"
			default:
				colour, sym = "#c83232", ev.Result
			}
			fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="6" fill="%s"><title>probe %s by %s: %s</title></circle>`+"\n",
				x(i), lanes[2].y+svgLaneH/2, colour, esc(ev.Device), esc(ev.Driver), esc(sym))
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="9" fill="#555">%s</text>`+"\n", x(i)+8, lanes[2].y+svgLaneH/2-6, esc(ev.Device))
			if ev.Result == "EPROBE_DEFER" {
				if _, seen := deferredAt[ev.Device]; !seen {
					deferredAt[ev.Device] = i
				}
			} else if s, ok := deferredAt[ev.Device]; ok {
				y := lanes[3].y + svgLaneH/2
				fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#e08a1e" stroke-width="3" marker-end="url(#arrow)"/>`+"\n", x(s), y, x(i)-6, y)
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#8a5a10">%s deferred until here</text>`+"\n", x(s)+4, y-6, esc(ev.Device))
				delete(deferredAt, ev.Device)
			}
		case "trigger":
			if strings.HasPrefix(ev.Detail, "ignored") {
				fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" fill="#777"><title>%s</title>&#215;</text>`+"\n", x(i)-4, lanes[3].y+svgLaneH/2+5, esc(ev.Detail))
				fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="9" fill="#777">trigger ignored</text>`+"\n", x(i)-30, lanes[3].y+svgLaneH-2)
			}
		case "deferred_enable":
			fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#e08a1e" stroke-dasharray="4,3"/>`+"\n", x(i), lanes[2].y, x(i), lanes[4].y+svgLaneH)
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" fill="#8a5a10">deferred probing enabled</text>`+"\n", x(i)+4, lanes[2].y+10)
		case "chip_register":
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="#3a9a4a"/>`+"\n", x(i)-6, lanes[4].y+6)
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#1d5a28" font-weight="bold">%s registered</text>`+"\n", x(i)+9, lanes[4].y+16, esc(orDash(ev.Device)))
		}
	}
	for s := range deferredAt {
		i := deferredAt[s]
		y := lanes[3].y + svgLaneH/2
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#c83232" stroke-width="3" stroke-dasharray="6,3"/>`+"\n", x(i), y, x(len(evs)), y)
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#c83232">%s never probed</text>`+"\n", x(i)+4, y-6, esc(s))
	}
	// IMA init: where init_ima returned.
	for i, ev := range evs {
		if ev.Kind == "initcall_return" && strings.HasPrefix(ev.Initcall, "init_ima") {
			c := verdictColour(rep.Verdict)
			fmt.Fprintf(&b, `<polygon points="%d,%d %d,%d %d,%d" fill="%s"/>`+"\n", x(i), lanes[4].y+4, x(i)-7, lanes[4].y+18, x(i)+7, lanes[4].y+18, c)
			txt := "IMA: " + rep.Verdict
			if ev.Result != "0" {
				txt = "IMA: " + ev.Result
			}
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s" font-weight="bold">%s</text>`+"\n", x(i)-10, lanes[4].y+31, c, esc(txt))
		}
	}
	b.WriteString(`<defs><marker id="arrow" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" refX="10" refY="6" orient="auto"><path d="M0,0 L12,6 L0,12 z" fill="#e08a1e"/></marker></defs>` + "\n")
	// Legend.
	ly := height - 24
	legend := []struct{ colour, text string }{{"#3a9a4a", "probe bound"}, {"#e08a1e", "probe deferred (-EPROBE_DEFER)"}, {"#c83232", "probe failed"}, {"#7a9cc6", "initcall"}}
	lx := 12
	for _, l := range legend {
		fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="6" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", lx+6, ly, l.colour, lx+16, ly+4, esc(l.text))
		lx += 30 + 7*len(l.text)
	}
	b.WriteString("</svg>\n")
	io.WriteString(w, b.String())
}

func verdictColour(v string) string {
	switch v {
	case "tpm":
		return "#2e7d32"
	case "late":
		return "#b26a00"
	}
	return "#c62828"
}

func esc(s string) string { return html.EscapeString(s) }
