package viz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// ErrNoGraphviz is returned by [RenderSVG] when Graphviz's dot command is
// not on PATH (install the graphviz package).
var ErrNoGraphviz = errors.New("viz: Graphviz's dot command is not on PATH (install the graphviz package to get SVG from DOT)")

// GraphvizError is returned by [RenderSVG] when dot fails or warns: a
// picture that Graphviz complains about is a bug of this package.
type GraphvizError struct {
	Output string // what dot wrote on stderr
	Err    error  // dot's exit error, nil when it only warned
}

func (e *GraphvizError) Error() string {
	msg := "viz: dot -Tsvg"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg + ": " + strings.TrimSpace(e.Output)
}

// Unwrap returns dot's exit error.
func (e *GraphvizError) Unwrap() error { return e.Err }

// RenderSVG turns DOT into SVG with Graphviz (dot -Tsvg). Any output of dot
// on stderr, warnings included, is an error.
func RenderSVG(ctx context.Context, dot []byte) ([]byte, error) {
	path, err := exec.LookPath("dot")
	if err != nil {
		return nil, ErrNoGraphviz
	}
	cmd := exec.CommandContext(ctx, path, "-Tsvg")
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(dot), &stdout, &stderr
	err = cmd.Run()
	if err != nil || stderr.Len() > 0 {
		return nil, &GraphvizError{Output: stderr.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// Written lists what [WriteAll] wrote.
type Written struct {
	// Files are the paths written, in order.
	Files []string
	// NoGraphviz is true when dot was not on PATH, so the DOT files were
	// not turned into SVG.
	NoGraphviz bool
}

// The names of the files WriteAll writes.
const (
	FileGraphDOT     = "graph.dot"
	FileGraphSVG     = "graph.svg"
	FileRunDOT       = "run.dot"
	FileRunSVG       = "run.svg"
	FileWaterfallSVG = "waterfall.svg"
	FileTraceJSON    = "trace.json"
)

// WriteAll writes every picture of a recorded run into dir (created if
// missing): graph.dot, run.dot, waterfall.svg, trace.json and, when
// Graphviz is installed, graph.svg and run.svg. g, when not nil, is drawn
// for graph.dot instead of the record's copy of the graph (they draw the
// same; a live graph is what a caller without a run has). A missing dot is
// not an error: Written.NoGraphviz says so, and the rest is written.
func WriteAll(ctx context.Context, dir string, rec *executor.Record, g *graph.Graph) (Written, error) {
	var out Written
	if err := checkRecord(rec); err != nil {
		return out, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return out, fmt.Errorf("viz: %w", err)
	}
	var graphDOT, runDOT bytes.Buffer
	var err error
	if g != nil {
		err = WriteGraphDOT(&graphDOT, g)
	} else {
		err = WriteRecordGraphDOT(&graphDOT, rec)
	}
	if err != nil {
		return out, err
	}
	if err := WriteRunDOT(&runDOT, rec); err != nil {
		return out, err
	}
	var waterfall, trace bytes.Buffer
	if err := WriteWaterfallSVG(&waterfall, rec); err != nil {
		return out, err
	}
	if err := WriteTraceJSON(&trace, rec); err != nil {
		return out, err
	}
	write := func(name string, data []byte) error {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("viz: %w", err)
		}
		out.Files = append(out.Files, path)
		return nil
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{FileGraphDOT, graphDOT.Bytes()}, {FileRunDOT, runDOT.Bytes()}, {FileWaterfallSVG, waterfall.Bytes()}, {FileTraceJSON, trace.Bytes()}} {
		if err := write(f.name, f.data); err != nil {
			return out, err
		}
	}
	for _, f := range []struct {
		name string
		dot  []byte
	}{{FileGraphSVG, graphDOT.Bytes()}, {FileRunSVG, runDOT.Bytes()}} {
		svg, err := RenderSVG(ctx, f.dot)
		if errors.Is(err, ErrNoGraphviz) {
			out.NoGraphviz = true
			break
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", f.name, err)
		}
		if err := write(f.name, svg); err != nil {
			return out, err
		}
	}
	return out, nil
}
