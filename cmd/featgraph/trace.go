package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/featgraph/featgraph/executor"
)

func init() {
	register(command{
		name:    "trace",
		summary: "draw a recorded run (from run --trace): waterfall SVG and DOT",
		run:     runTrace,
	})
}

func runTrace(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "trace", "FILE.json [flags]\n\nDraws a run recorded by featgraph run --trace (or executor.Record.WriteJSON):\nwrites graph.dot, run.dot, waterfall.svg, trace.json (Perfetto) and,\nwith Graphviz, graph.svg and run.svg into --out, and\nprints the critical path.\n\nFlags:")
	outDir := fs.String("out", ".", "write the pictures into this `dir`ectory")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		fs.Usage()
		return usageError{errors.New("want exactly one run record")}
	}
	f, err := os.Open(files[0])
	if err != nil {
		return err
	}
	rec, err := executor.ReadRecord(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	var steps []string
	for _, st := range rec.CriticalPath() {
		steps = append(steps, st.Node)
	}
	fmt.Fprintf(e.stdout, "run of %d nodes, wall time %s\ncritical path: %s\n", len(rec.Nodes), ms(rec.Duration), strings.Join(steps, " -> "))
	return writePictures(ctx, e, *outDir, rec, nil)
}
