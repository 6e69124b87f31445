package viz

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// legendID is the DOT id of the legend of a run picture.
const legendID = "featgraph:legend"

// WriteGraphDOT writes g as a Graphviz DOT digraph: one node per graph node,
// shaped by kind (inputs as house shapes, fetches as boxes, computations as
// ellipses, If/Switch as diamonds, And/Or as hexagons, Each as stacked
// boxes), labelled with its kind, timeout, retries, fallback and upstream
// (the "upstream" Meta key); an edge from each dependency to its user, dashed
// for the branches of a conditional and the operands of an And/Or, which may
// not run.
func WriteGraphDOT(w io.Writer, g *graph.Graph) error {
	if g == nil {
		return fmt.Errorf("viz: nil graph")
	}
	return writeDOT(w, shapes(g), nil)
}

// WriteRecordGraphDOT is [WriteGraphDOT] for the graph of a recorded run.
func WriteRecordGraphDOT(w io.Writer, rec *executor.Record) error {
	if err := checkRecord(rec); err != nil {
		return err
	}
	return writeDOT(w, rec.Nodes, nil)
}

// WriteRunDOT writes a finished run as a DOT digraph: the graph, each node
// filled by its outcome and labelled with its start offset, duration and
// cause, skipped nodes greyed, and the critical path drawn bold.
func WriteRunDOT(w io.Writer, rec *executor.Record) error {
	if err := checkRecord(rec); err != nil {
		return err
	}
	return writeDOT(w, rec.Nodes, rec)
}

func checkRecord(rec *executor.Record) error {
	if rec == nil {
		return fmt.Errorf("viz: nil run record")
	}
	if err := rec.Validate(); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	return nil
}

// writeDOT writes nodes as DOT; run, when not nil, adds the run's timings,
// colours and critical path.
func writeDOT(w io.Writer, nodes []executor.NodeRecord, run *executor.Record) error {
	bw := bufio.NewWriter(w)
	index := make(map[string]int, len(nodes))
	for i, n := range nodes {
		index[n.Name] = i
	}
	var critNodes map[int]bool
	var critEdges map[[2]int]bool
	var critNames []string
	if run != nil {
		critNodes, critEdges, critNames = criticalSet(run)
	}

	fmt.Fprintln(bw, "digraph featgraph {")
	fmt.Fprintln(bw, `  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.6];`)
	fmt.Fprintln(bw, `  node [fontname="Helvetica", fontsize=10, style="filled", fillcolor="#ffffff", color="#374151"];`)
	fmt.Fprintln(bw, `  edge [fontname="Helvetica", fontsize=9, color="#6b7280", arrowsize=0.7];`)
	if run != nil {
		ran := 0
		for _, n := range nodes {
			if n.Outcome != executor.OutcomeSkipped {
				ran++
			}
		}
		title := fmt.Sprintf("run %s · %d of %d nodes ran", formatDuration(run.Duration), ran, len(nodes))
		if len(critNames) > 0 {
			title += "\ncritical path: " + strings.Join(critNames, " → ")
		}
		if run.Err != "" {
			title += "\nerror: " + shorten(run.Err, 120)
		}
		fmt.Fprintf(bw, "  label=%s; labelloc=t; labeljust=l;\n", quote(title))
	}

	for i, n := range nodes {
		attrs := []string{"shape=" + kindShape(n.Kind)}
		label := graphLabel(n)
		var tooltip string
		switch {
		case run == nil:
			attrs = append(attrs, "fillcolor="+quote(kindFill(n.Kind)))
			tooltip = n.Description
		case n.Outcome == executor.OutcomeSkipped:
			label = append(label[:2:2], "skipped")
			attrs = append(attrs, `style="filled,dashed"`, "fillcolor="+quote(outcomeColor(n.Outcome)),
				`fontcolor="#9ca3af"`, `color="#d1d5db"`)
			tooltip = n.Name + ": skipped (not needed by this run)"
		default:
			label = append(label, runLine(n))
			if n.Cause != "" && n.Outcome != executor.OutcomeOK {
				label = append(label, shorten(n.Cause, 48))
			}
			attrs = append(attrs, "fillcolor="+quote(outcomeColor(n.Outcome)))
			if cached(n) {
				attrs = append(attrs, "peripheries=2")
			}
			if critNodes[i] {
				attrs = append(attrs, "penwidth=3", `color="#111827"`, `fontname="Helvetica-Bold"`)
			}
			tooltip = hoverText(n)
		}
		attrs = append(attrs, "label="+quote(strings.Join(label, "\n")))
		if tooltip != "" {
			attrs = append(attrs, "tooltip="+quote(shorten(tooltip, 400)))
		}
		fmt.Fprintf(bw, "  %s [%s];\n", quote(n.Name), strings.Join(attrs, ", "))
	}

	for i, n := range nodes {
		for _, d := range n.Deps {
			writeEdge(bw, nodes, run, critEdges, index[d], i, nil)
		}
		for j, l := range n.Lazy {
			attrs := []string{"style=dashed"}
			if lbl := lazyLabel(n, j); lbl != "" {
				attrs = append(attrs, "label="+quote(lbl))
			}
			writeEdge(bw, nodes, run, critEdges, index[l], i, attrs)
		}
	}
	if run != nil {
		if _, clash := index[legendID]; !clash {
			writeLegend(bw)
		}
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}

func writeEdge(w io.Writer, nodes []executor.NodeRecord, run *executor.Record, crit map[[2]int]bool, from, to int, attrs []string) {
	if run != nil {
		switch {
		case crit[[2]int{from, to}]:
			attrs = append(attrs, "penwidth=3", `color="#111827"`)
		case nodes[from].Outcome == executor.OutcomeSkipped || nodes[to].Outcome == executor.OutcomeSkipped:
			attrs = append(attrs, `color="#d1d5db"`)
		}
	}
	fmt.Fprintf(w, "  %s -> %s", quote(nodes[from].Name), quote(nodes[to].Name))
	if len(attrs) > 0 {
		fmt.Fprintf(w, " [%s]", strings.Join(attrs, ", "))
	}
	fmt.Fprintln(w, ";")
}

// writeLegend writes a small table of the outcome colours.
func writeLegend(w io.Writer) {
	var cells strings.Builder
	for _, o := range legendOrder {
		fmt.Fprintf(&cells, `<td bgcolor="%s" border="1">%s</td>`, outcomeColor(o), o)
	}
	fmt.Fprintf(w, "  %s [shape=plaintext, style=\"\", label=<<table border=\"0\" cellspacing=\"3\" cellpadding=\"3\"><tr><td>outcome:</td>%s<td>bold: critical path</td></tr></table>>];\n",
		quote(legendID), cells.String())
}

// graphLabel returns the label lines of a node that do not depend on a run:
// name, kind, then its timeout, retries, fallback and upstream.
func graphLabel(n executor.NodeRecord) []string {
	lines := []string{n.Name, n.Kind.String()}
	var extra []string
	if n.Timeout > 0 {
		extra = append(extra, "timeout "+formatDuration(n.Timeout))
	}
	if n.MaxAttempts > 1 {
		extra = append(extra, fmt.Sprintf("%d tries", n.MaxAttempts))
	}
	if len(extra) > 0 {
		lines[1] += " · " + strings.Join(extra, " · ")
	}
	if n.HasFallback {
		fb := "func"
		if n.FallbackValue != "" {
			fb = shorten(n.FallbackValue, 24)
		}
		lines = append(lines, "fallback: "+fb)
	}
	if up, ok := n.Meta["upstream"]; ok && up != "" {
		lines = append(lines, "upstream: "+shorten(up, 32))
	}
	return lines
}

// runLine is the timing line of an executed node: outcome, start offset,
// duration and retries. The branch a conditional took shows as its edge.
func runLine(n executor.NodeRecord) string {
	line := fmt.Sprintf("%s · +%s · %s", n.Outcome, formatDuration(n.Start), formatDuration(n.Duration()))
	if n.Attempts > 1 {
		line += fmt.Sprintf(" · %d attempts", n.Attempts)
	}
	if n.Source != "" {
		line += " · " + n.Source
	}
	return line
}

// cached reports whether n's value came from a cache rather than its body
// (any source but "fetched"): such nodes are drawn with a double border in
// run DOT and a dashed bar in the waterfall.
func cached(n executor.NodeRecord) bool {
	return n.Source != "" && n.Source != "fetched"
}

// hoverText is the full description of an executed node, for tooltips and
// SVG titles.
func hoverText(n executor.NodeRecord) string {
	s := fmt.Sprintf("%s (%s): %s\nstart +%s, took %s", n.Name, n.Kind, n.Outcome, formatDuration(n.Start), formatDuration(n.Duration()))
	if n.Attempts > 0 {
		s += fmt.Sprintf(", %d attempt(s)", n.Attempts)
	}
	if n.Branch != "" {
		s += ", took branch " + n.Branch
	}
	if n.Source != "" {
		s += ", value " + n.Source
	}
	if n.Cause != "" {
		s += "\ncause: " + n.Cause
	}
	return s
}

// lazyLabel names the j-th lazy edge of n: then/else for an If, the case key
// (or "default") for a Switch, nothing for And/Or operands.
func lazyLabel(n executor.NodeRecord, j int) string {
	switch n.Kind {
	case graph.KindIf:
		if j == 0 {
			return "then"
		}
		return "else"
	case graph.KindSwitch:
		if j < len(n.Cases) {
			return shorten(n.Cases[j], 24)
		}
		return "default"
	}
	return ""
}

// quote returns s as a DOT quoted string. Backslashes are escaped so that
// Graphviz's label escapes (\N, \l...) cannot be injected by a node name.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}
