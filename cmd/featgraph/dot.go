package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/featgraph/featgraph/spec"
	"github.com/featgraph/featgraph/viz"
)

func init() {
	register(command{
		name:    "dot",
		summary: "draw a spec's graph as Graphviz DOT, or SVG",
		run:     runDot,
	})
}

func runDot(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "dot", "FILE [flags]\n\nWrites the graph of a spec as DOT (to stdout, or to -o FILE.dot), or as SVG\nwith -o FILE.svg (needs Graphviz's dot on PATH).\n\nFlags:")
	out := fs.String("o", "", "write to this `file`; a .svg name renders through Graphviz")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		fs.Usage()
		return usageError{errors.New("want exactly one spec file")}
	}
	s, err := spec.Load(files[0], spec.AllowUnbound(), spec.AllowUnsetEnv(), spec.Getenv(e.getenv))
	if err != nil {
		return err
	}
	s.Close() // drawn, not run
	var dot bytes.Buffer
	if err := viz.WriteGraphDOT(&dot, s.Graph()); err != nil {
		return err
	}
	data := dot.Bytes()
	if strings.EqualFold(filepath.Ext(*out), ".svg") {
		if data, err = viz.RenderSVG(ctx, data); err != nil {
			return err
		}
	}
	if *out == "" {
		_, err = e.stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", *out)
	return nil
}
