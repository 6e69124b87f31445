package graph_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"testing"
	"time"

	"github.com/featgraph/featgraph/graph"
)

// FuzzNew builds graphs of arbitrary shape from the input bytes — unknown
// names, duplicates, cycles, wrong arities — and checks that New never
// panics, that it either fails with ErrInvalid or returns a graph whose order
// is topological, and that the critical path is a real path of the graph.
func FuzzNew(f *testing.F) {
	f.Add([]byte{3, 0, 1, 1, 0, 2, 1, 1})
	f.Add([]byte{2, 0, 1, 1, 0, 1, 1, 0})          // a -> b -> a
	f.Add([]byte{4, 4, 0, 0, 1, 2, 3, 3, 2, 1, 0}) // conditionals
	f.Add([]byte{1, 9, 9, 9})                      // unknown kind, unknown dep
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return int(b)
		}
		count := next()%40 + 1
		descs := make([]graphdef.Node, count)
		name := func(i int) string { return fmt.Sprintf("n%d", i%(count+2)) } // some names unknown
		for i := range descs {
			d := graphdef.Node{Name: name(i), Kind: graph.Kind(next() % 11)}
			if next()%17 == 0 {
				d.Name = name(next()) // maybe a duplicate
			}
			for range next() % 4 {
				d.Deps = append(d.Deps, name(next()))
			}
			for range next() % 3 {
				d.Lazy = append(d.Lazy, name(next()))
			}
			d.Fetch = func(context.Context, []any) (any, error) { return nil, nil }
			d.Compute = func([]any) (any, error) { return nil, nil }
			d.Choose = func([]any) (int, error) { return 0, nil }
			descs[i] = d
		}
		g, err := graphx.New(descs)
		if err != nil {
			if !errors.Is(err, graph.ErrInvalid) {
				t.Fatalf("error without ErrInvalid: %v", err)
			}
			return
		}
		pos := make([]int, g.Len())
		for i, id := range g.Order() {
			pos[id] = i
		}
		for id := range g.Len() {
			for _, d := range append(g.Deps(graph.NodeID(id)), g.Lazy(graph.NodeID(id))...) {
				if pos[d] >= pos[id] {
					t.Fatalf("order puts %s before its dependency %s", g.Name(graph.NodeID(id)), g.Name(d))
				}
			}
		}
		path, total := g.CriticalPath(func(graph.NodeID) time.Duration { return 1 })
		if time.Duration(len(path)) != total {
			t.Fatalf("critical path %v has total %v", path, total)
		}
	})
}
