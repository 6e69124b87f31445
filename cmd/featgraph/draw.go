package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/viz"
)

func init() {
	register(command{
		name:    "draw",
		summary: "draw a run record (from run --record): waterfall, run graph, Perfetto trace",
		run:     runDraw,
	})
}

const drawUsage = `RECORD [-o FILE | --out-dir DIR]

Reads a run record written by featgraph run --record (or
executor.Record.WriteJSON) and prints the run's wall time and critical path.
It draws the run when asked:

  -o FILE        one picture, chosen by FILE's extension: .svg the waterfall,
                 .dot the run on its graph as Graphviz DOT, .json the
                 Perfetto trace (trace-event JSON, open it in ui.perfetto.dev)
  --out-dir DIR  every picture: graph.dot, run.dot, waterfall.svg, trace.json
                 and, with Graphviz, graph.svg and run.svg

A record of no nodes is an error (exit 1) and nothing is written.`

// drawings are the pictures -o can write, by extension.
var drawings = map[string]func(io.Writer, *executor.Record) error{
	".svg":  viz.WriteWaterfallSVG,
	".dot":  viz.WriteRunDOT,
	".json": viz.WriteTraceJSON,
}

func runDraw(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "draw", drawUsage)
	out := addOutputFlag(fs, "write one picture to `FILE`: .svg the waterfall, .dot the run as DOT, .json the Perfetto trace")
	outDir := addOutDirFlag(fs, "", "write every picture of the run into `DIR`")
	files, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef("want one run record, got %d arguments", len(files))
	}
	if out.path != "" && outDir.dir != "" {
		return usagef("-o and --out-dir: give one")
	}
	var draw func(io.Writer, *executor.Record) error
	if out.path != "" {
		ext := strings.ToLower(filepath.Ext(out.path))
		if draw = drawings[ext]; draw == nil {
			return usagef("-o %s: want a name ending in .svg (waterfall), .dot (run as DOT) or .json (Perfetto trace)", quoteValue(out.path))
		}
	}
	rec, err := readRecord(files[0])
	if err != nil {
		return err
	}
	var steps []string
	for _, st := range rec.CriticalPath() {
		steps = append(steps, st.Node)
	}
	if out.path != "" {
		// Drawn in memory first: a picture that fails leaves no file.
		var buf bytes.Buffer
		if err := draw(&buf, rec); err != nil {
			return err
		}
		f, err := createOutput(out.path)
		if err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		if err := f.commit(func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote %s\n", out.path)
	}
	if outDir.dir != "" {
		if err := outDir.check(); err != nil {
			return err
		}
		if err := writePictures(ctx, e, outDir.dir, rec, nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "run of %d nodes, wall time %s\ncritical path: %s\n", len(rec.Nodes), ms(rec.Duration), strings.Join(steps, " -> "))
	return nil
}

// readRecord reads and checks a run record; a record of no nodes is an error.
func readRecord(path string) (*executor.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > maxRecordBytes {
		return nil, fmt.Errorf("%s: %d bytes: a run record is at most %d", path, fi.Size(), maxRecordBytes)
	}
	rec, err := executor.ReadRecord(io.LimitReader(f, maxRecordBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rec.Nodes) == 0 {
		return nil, fmt.Errorf("%s: %w", path, errEmptyRecord)
	}
	return rec, nil
}

// maxRecordBytes bounds what draw reads of a record (a record of a
// 10,000-node run is a few MB).
const maxRecordBytes = 256 << 20

var errEmptyRecord = errors.New("the run record has no nodes: nothing to draw")
