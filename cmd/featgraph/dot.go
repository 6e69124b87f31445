package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

const dotUsage = `FILE [-o FILE.dot|FILE.svg]

Writes the graph of a spec as DOT to stdout, or to -o FILE: as DOT, or as
SVG when FILE ends in .svg (needs Graphviz's dot on PATH).`

func runDot(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "dot", dotUsage)
	out := addOutputFlag(fs, "write to this `FILE` instead of stdout; a .svg name renders through Graphviz")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef("want one spec file, got %d arguments", len(files))
	}
	s, err := spec.Load(files[0], spec.AllowUnbound(), spec.AllowUnsetEnv(), spec.Getenv(e.getenv))
	if err != nil {
		return err
	}
	s.Close() // drawn, not run
	var f *outputFile
	if out.path != "" {
		if f, err = createOutput(out.path); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		defer f.abort()
	}
	var dot bytes.Buffer
	if err := viz.WriteGraphDOT(&dot, s.Graph()); err != nil {
		return err
	}
	data := dot.Bytes()
	if strings.EqualFold(filepath.Ext(out.path), ".svg") {
		if data, err = viz.RenderSVG(ctx, data); err != nil {
			return err
		}
	}
	if f == nil {
		_, err = e.stdout.Write(data)
		return err
	}
	if err := f.commit(func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s\n", out.path)
	return nil
}
