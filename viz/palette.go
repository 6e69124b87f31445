package viz

import (
	"fmt"
	"strings"
	"time"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// outcomeColors are the fill colours of nodes and bars by outcome.
var outcomeColors = map[executor.Outcome]string{
	executor.OutcomeOK:       "#bbf7d0",
	executor.OutcomeFallback: "#fde68a",
	executor.OutcomeError:    "#fca5a5",
	executor.OutcomeTimeout:  "#fdba74",
	executor.OutcomeCanceled: "#cbd5e1",
	executor.OutcomeSkipped:  "#f3f4f6",
}

// legendOrder lists the outcomes in the order legends show them.
var legendOrder = []executor.Outcome{executor.OutcomeOK, executor.OutcomeFallback, executor.OutcomeError, executor.OutcomeTimeout, executor.OutcomeCanceled, executor.OutcomeSkipped}

func outcomeColor(o executor.Outcome) string {
	if c, ok := outcomeColors[o]; ok {
		return c
	}
	return "#ffffff"
}

// kindShapes are the Graphviz shapes of the node kinds: inputs and
// constants look like what they are (a slot, a note), effectful fetches are
// boxes, pure computations ellipses, decisions diamonds or hexagons, fan-outs
// stacked boxes.
var kindShapes = map[graph.Kind]string{
	graph.KindInput:   "invhouse",
	graph.KindValue:   "note",
	graph.KindFetch:   "box",
	graph.KindCompute: "ellipse",
	graph.KindIf:      "diamond",
	graph.KindSwitch:  "diamond",
	graph.KindAnd:     "hexagon",
	graph.KindOr:      "hexagon",
	graph.KindEach:    "box3d",
}

func kindShape(k graph.Kind) string {
	if s, ok := kindShapes[k]; ok {
		return s
	}
	return "box"
}

// kindFill is the fill of a node in a graph picture (no run): inputs stand out.
func kindFill(k graph.Kind) string {
	switch k {
	case graph.KindInput:
		return "#dbeafe"
	case graph.KindValue:
		return "#f5f5f4"
	case graph.KindFetch, graph.KindEach:
		return "#fef9c3"
	default:
		return "#ffffff"
	}
}

// formatDuration writes d briefly, with a precision that suits its size.
func formatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < 0:
		return "-" + formatDuration(-d)
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// shorten cuts s to at most n runes, on one line, for labels.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// criticalSet returns the critical path of rec as a set of node indexes and
// the set of its edges (from dependency to dependent).
func criticalSet(rec *executor.Record) (nodes map[int]bool, edges map[[2]int]bool, names []string) {
	nodes, edges = map[int]bool{}, map[[2]int]bool{}
	path := rec.CriticalPath()
	for i, p := range path {
		nodes[int(p.ID)] = true
		names = append(names, p.Node)
		if i > 0 {
			edges[[2]int{int(path[i-1].ID), int(p.ID)}] = true
		}
	}
	return nodes, edges, names
}

// shapes returns the run-independent records of g's nodes.
func shapes(g *graph.Graph) []executor.NodeRecord {
	out := make([]executor.NodeRecord, g.Len())
	for i := range out {
		out[i] = executor.ShapeOf(g, graph.NodeID(i))
	}
	return out
}
