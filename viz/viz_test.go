package viz_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/viz"
)

func render(t *testing.T, write func(io.Writer) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGoldenPictures(t *testing.T) {
	rec := loadFixture(t)
	g := newLoanGraph(t).g
	golden(t, "graph.dot", render(t, func(w io.Writer) error { return viz.WriteGraphDOT(w, g) }))
	golden(t, "run.dot", render(t, func(w io.Writer) error { return viz.WriteRunDOT(w, rec) }))
	golden(t, "waterfall.svg", render(t, func(w io.Writer) error { return viz.WriteWaterfallSVG(w, rec) }))
	golden(t, "trace.json", render(t, func(w io.Writer) error { return viz.WriteTraceJSON(w, rec) }))
}

// The graph drawn from a record is the graph drawn from the live graph.
func TestRecordGraphMatchesLiveGraph(t *testing.T) {
	l := newLoanGraph(t)
	live := render(t, func(w io.Writer) error { return viz.WriteGraphDOT(w, l.g) })
	recorded := render(t, func(w io.Writer) error { return viz.WriteRecordGraphDOT(w, loadFixture(t)) })
	if !bytes.Equal(live, recorded) {
		t.Errorf("graph DOT from the record differs from the live graph's:\n%s", firstDiff(recorded, live))
	}
}

// allDOTs returns every kind of DOT the package writes, for graphs and runs
// with every node kind and outcome and with awkward names.
func allDOTs(t *testing.T) map[string][]byte {
	l := newLoanGraph(t)
	liveRun := l.run(t)
	awkward := awkwardGraph(t)
	var all []graph.Target
	for _, id := range awkward.Order() {
		all = append(all, graph.Named(awkward.Name(id)))
	}
	awkRes, err := executor.Run(context.Background(), awkward, []executor.Binding{executor.BindNamed(`in "quoted" \N`, "x")}, all...)
	if err != nil {
		t.Fatal(err)
	}
	awkRec := awkRes.Record()
	awkRes.Release()
	return map[string][]byte{
		"graph":         render(t, func(w io.Writer) error { return viz.WriteGraphDOT(w, l.g) }),
		"record graph":  render(t, func(w io.Writer) error { return viz.WriteRecordGraphDOT(w, liveRun) }),
		"fixture run":   render(t, func(w io.Writer) error { return viz.WriteRunDOT(w, loadFixture(t)) }),
		"live run":      render(t, func(w io.Writer) error { return viz.WriteRunDOT(w, liveRun) }),
		"awkward graph": render(t, func(w io.Writer) error { return viz.WriteGraphDOT(w, awkward) }),
		"awkward run":   render(t, func(w io.Writer) error { return viz.WriteRunDOT(w, awkRec) }),
		"empty run":     render(t, func(w io.Writer) error { return viz.WriteRunDOT(w, &executor.Record{}) }),
	}
}

func TestEveryDOTRendersWithGraphvizWithoutWarnings(t *testing.T) {
	for name, dot := range allDOTs(t) {
		svg, err := viz.RenderSVG(context.Background(), dot)
		if errors.Is(err, viz.ErrNoGraphviz) {
			t.Fatalf("%v: CI installs it (.ci/run); locally: apt-get install graphviz", err)
		}
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, dot)
			continue
		}
		if !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s: dot wrote no SVG", name)
		}
	}
}

func TestRenderSVGReportsGraphvizWarnings(t *testing.T) {
	_, err := viz.RenderSVG(context.Background(), []byte(`digraph { a [shape=nosuchshape]; }`))
	var ge *viz.GraphvizError
	if !errors.As(err, &ge) || !strings.Contains(ge.Output, "nosuchshape") {
		t.Errorf("error %v, want a GraphvizError quoting dot's warning", err)
	}
}

func TestWaterfallIsXMLWithABarPerExecutedNode(t *testing.T) {
	for name, rec := range map[string]*executor.Record{"fixture": loadFixture(t), "live": newLoanGraph(t).run(t)} {
		t.Run(name, func(t *testing.T) {
			svg := render(t, func(w io.Writer) error { return viz.WriteWaterfallSVG(w, rec) })
			dec := xml.NewDecoder(bytes.NewReader(svg))
			var titles []string
			var stack []string
			inBar := false
			var text strings.Builder
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("waterfall is not XML: %v", err)
				}
				switch tok := tok.(type) {
				case xml.StartElement:
					if tok.Name.Local == "title" && len(stack) > 0 && stack[len(stack)-1] == "g" { // a bar's hover text
						inBar = true
						text.Reset()
					}
					stack = append(stack, tok.Name.Local)
				case xml.CharData:
					if inBar {
						text.Write(tok)
					}
				case xml.EndElement:
					if inBar && tok.Name.Local == "title" {
						titles = append(titles, text.String())
						inBar = false
					}
					stack = stack[:len(stack)-1]
				}
			}
			var want []string
			for _, n := range rec.Nodes {
				if n.Outcome != executor.OutcomeSkipped {
					want = append(want, n.Name)
				}
			}
			var got []string
			for _, title := range titles {
				name, _, _ := strings.Cut(title, " (")
				got = append(got, name)
				if !strings.Contains(title, "start +") {
					t.Errorf("hover text %q has no times", title)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("bars for %v, want one per executed node %v", got, want)
			}
		})
	}
}

func TestTraceJSONHasOneCompleteEventPerExecutedNode(t *testing.T) {
	for name, rec := range map[string]*executor.Record{"fixture": loadFixture(t), "live": newLoanGraph(t).run(t)} {
		t.Run(name, func(t *testing.T) {
			data := render(t, func(w io.Writer) error { return viz.WriteTraceJSON(w, rec) })
			var tf struct {
				TraceEvents []struct {
					Name string         `json:"name"`
					Ph   string         `json:"ph"`
					TS   *float64       `json:"ts"`
					Dur  *float64       `json:"dur"`
					TID  int            `json:"tid"`
					Args map[string]any `json:"args"`
				} `json:"traceEvents"`
			}
			if err := json.Unmarshal(data, &tf); err != nil {
				t.Fatalf("trace is not JSON: %v", err)
			}
			count := map[string]int{}
			type span struct{ start, end float64 }
			lanes := map[int][]span{}
			for _, e := range tf.TraceEvents {
				if e.Ph != "X" {
					continue
				}
				count[e.Name]++
				if e.TS == nil || e.Dur == nil || *e.Dur < 0 {
					t.Errorf("event %q lacks ts or dur", e.Name)
					continue
				}
				for _, other := range lanes[e.TID] {
					const ns = 1e-3 // float rounding of microseconds
					start, end := *e.TS, *e.TS+*e.Dur
					if start < other.end-ns && other.start < end-ns && !(other.start <= start+ns && end <= other.end+ns) {
						t.Errorf("event %q overlaps another on lane %d without nesting", e.Name, e.TID)
					}
				}
				lanes[e.TID] = append(lanes[e.TID], span{*e.TS, *e.TS + *e.Dur})
				nrec, err := rec.Lookup(e.Name)
				if err != nil || e.Args["outcome"] != nrec.Outcome.String() {
					t.Errorf("event %q: outcome %v, want the node's", e.Name, e.Args["outcome"])
				}
			}
			for _, n := range rec.Nodes {
				want := 1
				if n.Outcome == executor.OutcomeSkipped {
					want = 0
				}
				if count[n.Name] != want {
					t.Errorf("%s (%s): %d complete events, want %d", n.Name, n.Outcome, count[n.Name], want)
				}
			}
		})
	}
}

func TestRunPicturesShowOutcomesAndCriticalPath(t *testing.T) {
	rec := loadFixture(t)
	dot := string(render(t, func(w io.Writer) error { return viz.WriteRunDOT(w, rec) }))
	path := rec.CriticalPath()
	if len(path) < 2 {
		t.Fatalf("fixture critical path %+v too short to test", path)
	}
	for i, p := range path {
		line := nodeLine(dot, p.Node)
		if !strings.Contains(line, "penwidth=3") {
			t.Errorf("critical node %s not bold: %s", p.Node, line)
		}
		if i > 0 {
			edge := edgeLine(dot, path[i-1].Node, p.Node)
			if !strings.Contains(edge, "penwidth=3") {
				t.Errorf("critical edge %s -> %s not bold: %q", path[i-1].Node, p.Node, edge)
			}
		}
	}
	for _, n := range rec.Nodes {
		line := nodeLine(dot, n.Name)
		switch n.Outcome {
		case executor.OutcomeSkipped:
			if !strings.Contains(line, "dashed") || !strings.Contains(line, "skipped") {
				t.Errorf("skipped node %s not greyed: %s", n.Name, line)
			}
		default:
			if !strings.Contains(line, "+") || !strings.Contains(line, n.Outcome.String()) {
				t.Errorf("node %s lacks its start offset or outcome: %s", n.Name, line)
			}
		}
	}
}

func nodeLine(dot, name string) string {
	for _, line := range strings.Split(dot, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), `"`+name+`" [`) {
			return line
		}
	}
	return ""
}

func edgeLine(dot, from, to string) string {
	for _, line := range strings.Split(dot, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), `"`+from+`" -> "`+to+`"`) {
			return line
		}
	}
	return ""
}

func TestWriteAll(t *testing.T) {
	rec := loadFixture(t)
	t.Run("with graphviz", func(t *testing.T) {
		dir := t.TempDir()
		w, err := viz.WriteAll(context.Background(), dir, rec, nil)
		if err != nil {
			t.Fatal(err)
		}
		if w.NoGraphviz {
			t.Fatal("dot not found: CI installs it (.ci/run); locally: apt-get install graphviz")
		}
		for _, name := range []string{viz.FileGraphDOT, viz.FileGraphSVG, viz.FileRunDOT, viz.FileRunSVG, viz.FileWaterfallSVG, viz.FileTraceJSON} {
			if info, err := os.Stat(filepath.Join(dir, name)); err != nil || info.Size() == 0 {
				t.Errorf("%s: %v (size %v)", name, err, info)
			}
		}
		if len(w.Files) != 6 {
			t.Errorf("Written.Files = %v, want 6 files", w.Files)
		}
	})
	t.Run("without graphviz", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		dir := t.TempDir()
		w, err := viz.WriteAll(context.Background(), dir, rec, newLoanGraph(t).g)
		if err != nil {
			t.Fatal(err)
		}
		if !w.NoGraphviz || len(w.Files) != 4 {
			t.Errorf("Written %+v, want NoGraphviz and the 4 files that need no Graphviz", w)
		}
		if _, err := os.Stat(filepath.Join(dir, viz.FileGraphSVG)); !os.IsNotExist(err) {
			t.Errorf("graph.svg written without Graphviz: %v", err)
		}
	})
}

func TestBadRecordsAreRejected(t *testing.T) {
	bad := &executor.Record{Nodes: []executor.NodeRecord{{Name: "a", Deps: []string{"ghost"}}}}
	for name, write := range map[string]func(io.Writer, *executor.Record) error{
		"run dot": viz.WriteRunDOT, "graph dot": viz.WriteRecordGraphDOT, "waterfall": viz.WriteWaterfallSVG, "trace": viz.WriteTraceJSON,
	} {
		if err := write(io.Discard, bad); err == nil || !strings.Contains(err.Error(), "ghost") {
			t.Errorf("%s: error %v, want one naming the unknown node", name, err)
		}
		if err := write(io.Discard, nil); err == nil {
			t.Errorf("%s: nil record accepted", name)
		}
	}
	if err := viz.WriteGraphDOT(io.Discard, nil); err == nil {
		t.Error("nil graph accepted")
	}
}
