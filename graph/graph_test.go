package graph_test

import (
	"context"
	"errors"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/nodes"
)

func fetch(name string, deps ...string) graphdef.Node {
	return graphdef.Node{Name: name, Kind: graph.KindFetch, Deps: deps,
		Fetch: func(context.Context, []any) (any, error) { return nil, nil }}
}

func isA[E error](err error) bool {
	var e E
	return errors.As(err, &e)
}

func names(g *graph.Graph, ids []graph.NodeID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = g.Name(id)
	}
	return out
}

func TestBuildValid(t *testing.T) {
	g, err := graphx.New([]graphdef.Node{
		fetch("d", "b", "c"), fetch("b", "a"), fetch("c", "a"), fetch("a"),
	})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, id := range g.Order() {
		pos[g.Name(id)] = i
	}
	for _, edge := range [][2]string{{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}} {
		if pos[edge[0]] > pos[edge[1]] {
			t.Errorf("order %v puts %s after %s", names(g, g.Order()), edge[0], edge[1])
		}
	}
	d, _ := g.Lookup("d")
	if got := names(g, g.Deps(d)); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("Deps(d) = %v", got)
	}
	a, _ := g.Lookup("a")
	if got := names(g, g.Users(a)); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("Users(a) = %v", got)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		nodes []graphdef.Node
		is    func(error) bool
		want  string
	}{
		{"duplicate", []graphdef.Node{fetch("a"), fetch("a")}, isA[*graph.DuplicateNodeError], `node "a" is declared twice`},
		{"unknown dependency", []graphdef.Node{fetch("a", "ghost")}, isA[*graph.UnknownDependencyError], `node "a" depends on unknown node "ghost"`},
		{"cycle", []graphdef.Node{fetch("a", "b"), fetch("b", "c"), fetch("c", "a"), fetch("root")}, isA[*graph.CycleError], "dependency cycle: a -> b -> c -> a"},
		{"self cycle", []graphdef.Node{fetch("a", "a")}, isA[*graph.CycleError], "dependency cycle: a -> a"},
		{"lazy cycle", []graphdef.Node{
			{Name: "x", Kind: graph.KindOr, Lazy: []string{"y"}},
			{Name: "y", Kind: graph.KindAnd, Lazy: []string{"x"}},
		}, isA[*graph.CycleError], "x -> y -> x"},
		{"empty name", []graphdef.Node{fetch("")}, nil, "empty name"},
		{"fetch without body", []graphdef.Node{{Name: "a", Kind: graph.KindFetch}}, nil, `node "a": fetch node without a body`},
		{"if arity", []graphdef.Node{fetch("c"), {Name: "i", Kind: graph.KindIf, Deps: []string{"c"}, Lazy: []string{"c"},
			Choose: func([]any) (int, error) { return 0, nil }}}, nil, "an if node needs a condition and two branches"},
		{"unknown kind", []graphdef.Node{{Name: "a"}}, nil, "unknown kind"},
		{"negative timeout", []graphdef.Node{func() graphdef.Node { n := fetch("a"); n.Timeout = -time.Second; return n }()}, nil, "negative timeout"},
		{"input with deps", []graphdef.Node{fetch("a"), {Name: "i", Kind: graph.KindInput, Deps: []string{"a"}}}, nil, "has no dependencies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := graphx.New(tt.nodes)
			if err == nil {
				t.Fatalf("New succeeded: %v", g)
			}
			if !errors.Is(err, graph.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			if tt.is != nil && !tt.is(err) {
				t.Errorf("predicate false for %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestBuildReportsEveryError(t *testing.T) {
	_, err := graphx.New([]graphdef.Node{fetch("a", "x"), fetch("a"), fetch("b", "y")})
	for _, want := range []string{`"a" is declared twice`, `unknown node "x"`, `unknown node "y"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not report %s", err, want)
		}
	}
}

func TestCycleErrorPath(t *testing.T) {
	_, err := graphx.New([]graphdef.Node{fetch("a", "b"), fetch("b", "c"), fetch("c", "a")})
	var ce *graph.CycleError
	if !errors.As(err, &ce) {
		t.Fatalf("want *CycleError, got %v", err)
	}
	if len(ce.Path) != 4 || ce.Path[0] != ce.Path[3] {
		t.Fatalf("path %v does not close the cycle", ce.Path)
	}
	// Each node must depend on the next one in the path.
	deps := map[string]string{"a": "b", "b": "c", "c": "a"}
	for i := 0; i < 3; i++ {
		if deps[ce.Path[i]] != ce.Path[i+1] {
			t.Errorf("path %v: %s does not depend on %s", ce.Path, ce.Path[i], ce.Path[i+1])
		}
	}
}

func TestAncestors(t *testing.T) {
	g, err := graphx.New([]graphdef.Node{
		fetch("a"), fetch("b", "a"), fetch("c"), fetch("unrelated", "c"),
		{Name: "or", Kind: graph.KindOr, Lazy: []string{"b", "c"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	anc, err := g.Ancestors(graph.Named("or"))
	if err != nil {
		t.Fatal(err)
	}
	got := names(g, anc)
	slices.Sort(got)
	if want := []string{"a", "b", "c", "or"}; !slices.Equal(got, want) {
		t.Errorf("Ancestors(or) = %v, want %v", got, want)
	}
}

func TestCriticalPath(t *testing.T) {
	// a(10) -> b(5) -> d(1); a -> c(20) -> d: the path through c is longer.
	g, err := graphx.New([]graphdef.Node{fetch("a"), fetch("b", "a"), fetch("c", "a"), fetch("d", "b", "c"), fetch("e")})
	if err != nil {
		t.Fatal(err)
	}
	cost := map[string]time.Duration{"a": 10, "b": 5, "c": 20, "d": 1, "e": 30}
	path, total := g.CriticalPath(func(id graph.NodeID) time.Duration { return cost[g.Name(id)] })
	if got := names(g, path); !slices.Equal(got, []string{"a", "c", "d"}) || total != 31 {
		t.Errorf("CriticalPath = %v, %v; want [a c d], 31", got, total)
	}
	cost["e"] = 40
	path, total = g.CriticalPath(func(id graph.NodeID) time.Duration { return cost[g.Name(id)] })
	if got := names(g, path); !slices.Equal(got, []string{"e"}) || total != 40 {
		t.Errorf("CriticalPath = %v, %v; want [e], 40", got, total)
	}
}

func TestLookupChecksType(t *testing.T) {
	n := fetch("a")
	n.Type = reflect.TypeFor[int]()
	g, err := graphx.New([]graphdef.Node{n})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := graph.Lookup[int](g, "a"); err != nil {
		t.Errorf("Lookup[int]: %v", err)
	}
	if _, err := graph.Lookup[string](g, "a"); err == nil || !strings.Contains(err.Error(), "has type int, not string") {
		t.Errorf("Lookup[string] error = %v", err)
	}
	if _, err := graph.Lookup[int](g, "missing"); !errors.Is(err, graph.ErrUnknownNode) {
		t.Error("Lookup of a missing node succeeded")
	}
}

func TestResolveRejectsForeignAndZeroRefs(t *testing.T) {
	build := func(names ...string) (*graph.Graph, []nodes.Ref[int]) {
		b := graph.NewBuilder()
		var refs []nodes.Ref[int]
		for _, n := range names {
			refs = append(refs, nodes.Value(b, n, len(n)))
		}
		g, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		return g, refs
	}
	g, own := build("a", "b")
	other, foreign := build("a", "b") // same names, same IDs: only the owner differs
	for i, r := range own {
		if id, err := g.Resolve(r); err != nil || id != graph.NodeID(i) {
			t.Errorf("Resolve(own %v) = %v, %v", r, id, err)
		}
		if _, err := other.Resolve(r); err == nil || !errors.Is(err, graph.ErrUnknownNode) || !strings.Contains(err.Error(), r.Name()) {
			t.Errorf("Resolve(foreign %v) error = %v, want one naming it and matching ErrUnknownNode", r, err)
		}
	}
	if _, err := g.Resolve(foreign[1]); err == nil {
		t.Error("a Ref of another graph resolved")
	}
	if _, err := g.Resolve(nodes.Ref[int]{}); err == nil || !errors.Is(err, graph.ErrUnknownNode) || !strings.Contains(err.Error(), "zero Ref") {
		t.Errorf("Resolve(zero Ref) error = %v", err)
	}
	if id, err := g.Resolve(graph.Named("b")); err != nil || id != 1 {
		t.Errorf("Resolve(Named(b)) = %v, %v", id, err)
	}
	if _, err := g.Resolve(graph.Named("ghost")); !errors.Is(err, graph.ErrUnknownNode) {
		t.Errorf("Resolve(Named(ghost)) error = %v", err)
	}
	if _, err := g.Ancestors(nodes.Ref[int]{}); err == nil {
		t.Error("Ancestors accepted the zero Ref")
	}
}

func TestKindText(t *testing.T) {
	for k := graph.KindInput; k <= graph.KindEach; k++ {
		b, _ := k.MarshalText()
		var back graph.Kind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("round trip of %v gave %v, %v", k, back, err)
		}
	}
	if _, err := graph.ParseKind("teleport"); err == nil {
		t.Error("ParseKind accepted an unknown kind")
	}
}

func TestOrderIsTheCallersCopy(t *testing.T) {
	g, err := graphx.New([]graphdef.Node{fetch("a"), fetch("b", "a")})
	if err != nil {
		t.Fatal(err)
	}
	order := g.Order()
	slices.Reverse(order)
	if got := names(g, g.Order()); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Order after the caller changed its copy = %v", got)
	}
}
