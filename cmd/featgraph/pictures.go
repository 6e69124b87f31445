package main

import (
	"context"
	"fmt"

	"github.com/featgraph/featgraph/viz"
)

// writeDemoPictures writes every picture of a demo run into dir and lists
// them; it says on stderr when Graphviz is missing, so the SVGs from DOT
// are not there.
func writeDemoPictures(ctx context.Context, e *env, dir string, run *demoRun) error {
	written, err := viz.WriteAll(ctx, dir, run.result.Record(), run.graph.Graph)
	if len(written.Files) > 0 {
		fmt.Fprintf(e.stdout, "\npictures:\n")
		for _, f := range written.Files {
			fmt.Fprintf(e.stdout, "  %s\n", f)
		}
	}
	if written.NoGraphviz {
		fmt.Fprintf(e.stderr, "featgraph: Graphviz's dot is not on PATH: wrote %s and %s but not %s and %s (install the graphviz package, or run dot -Tsvg yourself)\n",
			viz.FileGraphDOT, viz.FileRunDOT, viz.FileGraphSVG, viz.FileRunSVG)
	}
	if err != nil {
		return fmt.Errorf("writing pictures: %w", err)
	}
	return nil
}
