package main

// INTERIM: a minimal DOT writer and Graphviz call until package viz is on
// main; then these become calls to viz.WriteGraphDOT, viz.WriteRunDOT,
// viz.WriteWaterfallSVG and viz.RenderSVG.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

var shapes = map[graph.Kind]string{
	graph.KindInput: "invhouse", graph.KindValue: "note", graph.KindFetch: "box",
	graph.KindCompute: "ellipse", graph.KindIf: "diamond", graph.KindSwitch: "diamond",
	graph.KindAnd: "octagon", graph.KindOr: "octagon", graph.KindEach: "box3d",
}

func graphDOT(w io.Writer, g *graph.Graph) error {
	rec := &executor.Record{}
	for i := range g.Nodes() {
		rec.Nodes = append(rec.Nodes, executor.ShapeOf(g.Node(graph.NodeID(i))))
	}
	return recordDOT(w, rec, false)
}

func runDOT(w io.Writer, rec *executor.Record) error { return recordDOT(w, rec, true) }

func recordDOT(w io.Writer, rec *executor.Record, run bool) error {
	var b bytes.Buffer
	b.WriteString("digraph featgraph {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n")
	for _, n := range rec.Nodes {
		label := n.Name + "\n" + n.Kind.String()
		if n.Timeout > 0 {
			label += fmt.Sprintf(" ⏱%v", n.Timeout)
		}
		if n.HasFallback {
			label += " ↩"
		}
		attrs := fmt.Sprintf("shape=%s", shapes[n.Kind])
		if run {
			label += fmt.Sprintf("\n%s %v", n.Outcome, n.Duration())
			attrs += fmt.Sprintf(", style=filled, fillcolor=%q", outcomeColor[n.Outcome])
		}
		fmt.Fprintf(&b, "  %q [label=%q, %s];\n", n.Name, label, attrs)
	}
	for _, n := range rec.Nodes {
		for _, d := range n.Deps {
			fmt.Fprintf(&b, "  %q -> %q;\n", d, n.Name)
		}
		for _, d := range n.Lazy {
			fmt.Fprintf(&b, "  %q -> %q [style=dashed];\n", d, n.Name)
		}
	}
	b.WriteString("}\n")
	_, err := w.Write(b.Bytes())
	return err
}

var outcomeColor = map[executor.Outcome]string{
	executor.OK: "palegreen", executor.Fallback: "gold", executor.Error: "salmon",
	executor.Timeout: "orange", executor.Skipped: "grey90", executor.Canceled: "lightblue",
}

func waterfallSVG(w io.Writer, rec *executor.Record) error {
	const rowH, width, left = 18, 600.0, 180
	total := rec.Duration.Seconds()
	if total <= 0 {
		total = 1e-9
	}
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="Helvetica" font-size="11">`+"\n", left+int(width)+20, rowH*(len(rec.Nodes)+1))
	for i, n := range rec.Nodes {
		y := rowH * i
		x := left + n.Start.Seconds()/total*width
		wd := max(n.Duration().Seconds()/total*width, 1)
		fmt.Fprintf(w, `<text x="4" y="%d">%s</text><rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s %v</title></rect>`+"\n",
			y+13, xmlEscape(n.Name), x, y+3, wd, rowH-6, outcomeColor[n.Outcome], xmlEscape(n.Name), n.Outcome, n.Duration())
	}
	_, err := fmt.Fprintln(w, "</svg>")
	return err
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xmlEscapeTo(&b, s)
	return b.String()
}

func xmlEscapeTo(b *bytes.Buffer, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	_, err := r.WriteString(b, s)
	return err
}

// renderSVG runs Graphviz's dot on a DOT text.
func renderSVG(ctx context.Context, dot []byte) ([]byte, error) {
	path, err := exec.LookPath("dot")
	if err != nil {
		return nil, errors.New("rendering SVG needs Graphviz's dot on PATH (Debian: apt-get install graphviz)")
	}
	cmd := exec.CommandContext(ctx, path, "-Tsvg")
	cmd.Stdin = bytes.NewReader(dot)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("graphviz dot: %w: %s", err, stderr.String())
	}
	return out.Bytes(), nil
}

// writePictures writes graph.dot and the run's pictures into dir.
func writePictures(ctx context.Context, dir string, rec *executor.Record, g *graph.Graph) ([]string, error) {
	var written []string
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var dot bytes.Buffer
	if err := graphDOT(&dot, g); err != nil {
		return nil, err
	}
	w, err := writeDOTAndSVG(ctx, dir, "graph", dot.Bytes())
	written = append(written, w...)
	if err != nil {
		return written, err
	}
	w, err = writeRunPictures(ctx, dir, rec)
	return append(written, w...), err
}

// writeRunPictures writes run.dot, run.svg and waterfall.svg into dir; the
// SVG of a DOT only when Graphviz is there.
func writeRunPictures(ctx context.Context, dir string, rec *executor.Record) ([]string, error) {
	var written []string
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var dot bytes.Buffer
	if err := runDOT(&dot, rec); err != nil {
		return nil, err
	}
	w, err := writeDOTAndSVG(ctx, dir, "run", dot.Bytes())
	written = append(written, w...)
	if err != nil {
		return written, err
	}
	path := filepath.Join(dir, "waterfall.svg")
	if err := writeFile(path, func(w io.Writer) error { return waterfallSVG(w, rec) }); err != nil {
		return written, err
	}
	return append(written, path), nil
}

func writeDOTAndSVG(ctx context.Context, dir, name string, dot []byte) ([]string, error) {
	path := filepath.Join(dir, name+".dot")
	if err := os.WriteFile(path, dot, 0o644); err != nil {
		return nil, err
	}
	written := []string{path}
	svg, err := renderSVG(ctx, dot)
	if err != nil {
		return written, err
	}
	path = filepath.Join(dir, name+".svg")
	if err := os.WriteFile(path, svg, 0o644); err != nil {
		return written, err
	}
	return append(written, path), nil
}
