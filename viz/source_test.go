package viz_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/viz"
)

// A node served from a cache is drawn apart: a double border in the run
// DOT, a dashed bar in the waterfall, its source in labels and the trace.
func TestCachedNodesAreDrawnApart(t *testing.T) {
	rec := loadFixture(t)
	var cachedName string
	for i := range rec.Nodes {
		n := &rec.Nodes[i]
		if n.Outcome == executor.OutcomeOK && (n.Kind.String() == "fetch") {
			n.Source, cachedName = "fresh", n.Name
			break
		}
	}
	if cachedName == "" {
		t.Fatal("the fixture has no ok fetch node")
	}
	dot := string(render(t, func(w io.Writer) error { return viz.WriteRunDOT(w, rec) }))
	if strings.Count(dot, "peripheries=2") != 1 || !strings.Contains(dot, "· fresh") {
		t.Errorf("run DOT: want one double-bordered node labelled fresh:\n%s", dot)
	}
	svg := string(render(t, func(w io.Writer) error { return viz.WriteWaterfallSVG(w, rec) }))
	if strings.Count(svg, `stroke-dasharray="3 2"`) != 1 || !strings.Contains(svg, "value fresh") {
		t.Errorf("waterfall: want one dashed bar and the source in its title")
	}
	trace := string(render(t, func(w io.Writer) error { return viz.WriteTraceJSON(w, rec) }))
	if !strings.Contains(trace, `"source": "fresh"`) {
		t.Errorf("trace: no source")
	}
	if _, err := viz.RenderSVG(context.Background(), []byte(dot)); err != nil {
		t.Errorf("the run DOT does not render: %v", err)
	}
}
