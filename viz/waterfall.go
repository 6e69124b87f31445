package viz

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/featgraph/featgraph/executor"
)

// Waterfall geometry, in SVG user units (pixels).
const (
	wfWidth     = 960
	wfLabelW    = 230 // the node names' column
	wfRightPad  = 70  // room for the last bar's duration text
	wfRowH      = 22
	wfBarH      = 14
	wfTopAxis   = 56 // title and time axis above the first row
	wfBottomPad = 56 // legend and skipped list below the last row
)

// WriteWaterfallSVG writes a finished run as a self-contained SVG waterfall:
// one bar per executed node on a time axis, in start order, coloured by
// outcome, the critical path outlined and its names in bold, a hover title
// on every bar with the node's kind, times, attempts and cause. Skipped
// nodes are listed under the chart.
func WriteWaterfallSVG(w io.Writer, rec *executor.Record) error {
	if err := checkRecord(rec); err != nil {
		return err
	}
	var rows []int
	var skipped []string
	for i, n := range rec.Nodes {
		if n.Outcome == executor.OutcomeSkipped {
			skipped = append(skipped, n.Name)
		} else {
			rows = append(rows, i)
		}
	}
	slices.SortStableFunc(rows, func(a, b int) int {
		na, nb := rec.Nodes[a], rec.Nodes[b]
		if na.Start != nb.Start {
			return cmpDuration(na.Start, nb.Start)
		}
		return cmpDuration(na.End, nb.End)
	})
	crit, _, critNames := criticalSet(rec)

	total := rec.Duration
	for _, i := range rows {
		total = max(total, rec.Nodes[i].End)
	}
	step := tickStep(total)
	if total <= 0 {
		total = time.Millisecond
	}
	plotW := float64(wfWidth - wfLabelW - wfRightPad)
	x := func(d time.Duration) float64 { return wfLabelW + plotW*float64(d)/float64(total) }
	height := wfTopAxis + len(rows)*wfRowH + wfBottomPad

	b := bufio.NewWriter(w)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="11">`+"\n",
		wfWidth, height, wfWidth, height)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", wfWidth, height)
	title := fmt.Sprintf("run %s · %d of %d nodes ran", formatDuration(rec.Duration), len(rows), len(rec.Nodes))
	if len(critNames) > 0 {
		title += " · critical path: " + strings.Join(critNames, " → ")
	}
	fmt.Fprintf(b, `<text x="8" y="18" font-size="13" font-weight="bold">%s</text>`+"\n", esc(shorten(title, 140)))
	if rec.Err != "" {
		fmt.Fprintf(b, `<text x="8" y="32" fill="#b91c1c">%s<title>%s</title></text>`+"\n", esc(shorten("error: "+rec.Err, 150)), esc(rec.Err))
	}

	// Time axis: a tick line and label every step.
	axisY := wfTopAxis - 8
	bottom := wfTopAxis + len(rows)*wfRowH
	for t := time.Duration(0); t <= total; t += step {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e7eb"/>`+"\n", x(t), axisY, x(t), bottom)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#6b7280">%s</text>`+"\n", x(t), axisY-4, esc(formatDuration(t)))
	}

	for row, i := range rows {
		n := rec.Nodes[i]
		y := wfTopAxis + row*wfRowH
		weight := "normal"
		if crit[i] {
			weight = "bold"
		}
		barX, barW := x(n.Start), math.Max(x(n.End)-x(n.Start), 1.5)
		fmt.Fprintf(b, `<g><title>%s</title>`, esc(hoverText(n)))
		if row%2 == 1 {
			fmt.Fprintf(b, `<rect x="0" y="%d" width="%d" height="%d" fill="#f9fafb"/>`, y, wfWidth, wfRowH)
		}
		fmt.Fprintf(b, `<text x="8" y="%d" font-weight="%s">%s</text>`, y+15, weight, esc(shorten(n.Name, 34)))
		stroke := `stroke="#6b7280" stroke-width="0.5"`
		if crit[i] {
			stroke = `stroke="#111827" stroke-width="2"`
		}
		if cached(n) {
			stroke += ` stroke-dasharray="3 2"`
		}
		fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s" %s/>`,
			barX, y+(wfRowH-wfBarH)/2, barW, wfBarH, outcomeColor(n.Outcome), stroke)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="#374151">%s</text>`, barX+barW+4, y+15, esc(formatDuration(n.Duration())))
		fmt.Fprintln(b, `</g>`)
	}

	// Legend and skipped nodes.
	ly := bottom + 20
	lx := 8.0
	for _, o := range legendOrder {
		fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="12" height="12" fill="%s" stroke="#6b7280" stroke-width="0.5"/>`, lx, ly-10, outcomeColor(o))
		fmt.Fprintf(b, `<text x="%.1f" y="%d">%s</text>`, lx+16, ly, o)
		lx += 16 + float64(7*len(o.String())) + 14
	}
	fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="12" height="12" fill="#ffffff" stroke="#111827" stroke-width="2"/>`, lx, ly-10)
	fmt.Fprintf(b, `<text x="%.1f" y="%d">critical path</text>`+"\n", lx+16, ly)
	if len(skipped) > 0 {
		fmt.Fprintf(b, `<text x="8" y="%d" fill="#9ca3af">skipped: %s<title>%s</title></text>`+"\n",
			ly+20, esc(shorten(strings.Join(skipped, ", "), 150)), esc(strings.Join(skipped, ", ")))
	}
	fmt.Fprintln(b, `</svg>`)
	return b.Flush()
}

// tickStep returns a round axis step (1, 2 or 5 times a power of ten) that
// cuts total into at most about ten intervals.
func tickStep(total time.Duration) time.Duration {
	if total <= 0 {
		return time.Millisecond
	}
	raw := float64(total) / 10
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return max(time.Duration(m*pow), 1)
		}
	}
	return time.Duration(10 * pow)
}

func cmpDuration(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// esc escapes s for XML text and attribute values.
func esc(s string) string {
	var buf bytes.Buffer
	_ = xml.EscapeText(&buf, []byte(s)) // writes to a bytes.Buffer never fail
	return buf.String()
}
