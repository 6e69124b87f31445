package executor_test

import (
	"context"
	"encoding/json"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"reflect"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/featgraph/featgraph/executor"
	"github.com/featgraph/featgraph/graph"
)

// eachSpec is an Each over a []string whose element body is elem.
func eachSpec(elem func(string) any) *graphdef.EachSpec {
	return &graphdef.EachSpec{
		Elem: func(_ context.Context, e any, _ []any) (any, error) { return elem(e.(string)), nil },
		Split: func(list any) []any {
			var out []any
			for _, e := range list.([]string) {
				out = append(out, e)
			}
			return out
		},
		Join: func(results []any) any {
			out := make([]string, len(results))
			for i, r := range results {
				out[i] = r.(string)
			}
			return out
		},
	}
}

// A body that returns a graph.Sourced gives the node its value and its
// source; the result and the record report the source.
func TestSourceOfANodesValue(t *testing.T) {
	// Declared through descriptors: a typed body cannot return a graph.Sourced.
	g, err := graphx.New([]graphdef.Node{
		{Name: "ids", Kind: graph.KindInput, Type: reflect.TypeFor[[]string]()},
		{Name: "cached", Kind: graph.KindFetch, Type: reflect.TypeFor[int](), Fetch: func(context.Context, []any) (any, error) {
			return graph.WithSource(42, "fresh"), nil
		}},
		{Name: "plain", Kind: graph.KindFetch, Type: reflect.TypeFor[int](), Fetch: func(context.Context, []any) (any, error) { return 7, nil }},
		{Name: "same", Kind: graph.KindEach, Type: reflect.TypeFor[[]string](), Deps: []string{"ids"}, Each: eachSpec(func(e string) any { return graph.WithSource(e, "stale") })},
		{Name: "mixed", Kind: graph.KindEach, Type: reflect.TypeFor[[]string](), Deps: []string{"ids"}, Each: eachSpec(func(e string) any {
			if e == "a" {
				return graph.WithSource(e, "fresh")
			}
			return graph.WithSource(e, "fetched")
		})},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := executor.Run(context.Background(), g, []executor.Binding{executor.BindNamed("ids", []string{"a", "b"})},
		graph.Named("cached"), graph.Named("plain"), graph.Named("same"), graph.Named("mixed"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	for name, want := range map[string]string{"cached": "fresh", "plain": "", "same": "stale", "mixed": "mixed"} {
		nr, _ := res.Lookup(name)
		if nr.Outcome != executor.OutcomeOK || nr.Source != want {
			t.Errorf("%s: %v, source %q; want ok, %q", name, nr.Outcome, nr.Source, want)
		}
	}
	if v, _ := res.Value(graphx.At(res.Graph(), graph.NodeID(1))); v != 42 {
		t.Errorf("cached value %v (%T), want 42", v, v)
	}
	if v, _ := res.Value(graphx.At(res.Graph(), graph.NodeID(4))); len(v.([]string)) != 2 || v.([]string)[0] != "a" {
		t.Errorf("mixed value %v", v)
	}
	js, err := json.Marshal(res.Record())
	if err != nil {
		t.Fatal(err)
	}
	var rec executor.Record
	if err := json.Unmarshal(js, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Nodes[1].Source != "fresh" || rec.Nodes[2].Source != "" {
		t.Errorf("record sources %q and %q", rec.Nodes[1].Source, rec.Nodes[2].Source)
	}
}

func TestSourceIsASpanAttribute(t *testing.T) {
	g, err := graphx.New([]graphdef.Node{
		{Name: "cached", Kind: graph.KindFetch, Type: reflect.TypeFor[int](), Fetch: func(context.Context, []any) (any, error) {
			return graph.WithSource(42, "stale"), nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	e, err := executor.New(g, executor.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(context.Background(), nil, graph.Named("cached"))
	if err != nil {
		t.Fatal(err)
	}
	res.Release()
	found := false
	for _, s := range spans.Ended() {
		for _, a := range s.Attributes() {
			if a.Key == executor.AttrSource && a.Value.AsString() == "stale" && s.Name() == "cached" {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("no span of node cached with featgraph.node.source=stale")
	}
}
