package graph_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/featgraph/featgraph/graph"
)

func fetch(name string, deps ...string) graph.Node {
	return graph.Node{Name: name, Kind: graph.KindFetch, Deps: deps,
		Fetch: func(context.Context, []any) (any, error) { return nil, nil }}
}

func names(g *graph.Graph, ids []graph.NodeID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = g.Name(id)
	}
	return out
}

func TestBuildValid(t *testing.T) {
	g, err := graph.New([]graph.Node{
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
		nodes []graph.Node
		is    func(error) bool
		want  string
	}{
		{"duplicate", []graph.Node{fetch("a"), fetch("a")}, graph.IsDuplicateNode, `node "a" is declared twice`},
		{"unknown dependency", []graph.Node{fetch("a", "ghost")}, graph.IsUnknownDependency, `node "a" depends on unknown node "ghost"`},
		{"cycle", []graph.Node{fetch("a", "b"), fetch("b", "c"), fetch("c", "a"), fetch("root")}, graph.IsCycle, "dependency cycle: a -> b -> c -> a"},
		{"self cycle", []graph.Node{fetch("a", "a")}, graph.IsCycle, "dependency cycle: a -> a"},
		{"lazy cycle", []graph.Node{
			{Name: "x", Kind: graph.KindOr, Lazy: []string{"y"}},
			{Name: "y", Kind: graph.KindAnd, Lazy: []string{"x"}},
		}, graph.IsCycle, "x -> y -> x"},
		{"empty name", []graph.Node{fetch("")}, nil, "empty name"},
		{"fetch without body", []graph.Node{{Name: "a", Kind: graph.KindFetch}}, nil, `node "a": fetch node without a body`},
		{"if arity", []graph.Node{fetch("c"), {Name: "i", Kind: graph.KindIf, Deps: []string{"c"}, Lazy: []string{"c"},
			Choose: func([]any) (int, error) { return 0, nil }}}, nil, "an if node needs a condition and two branches"},
		{"unknown kind", []graph.Node{{Name: "a"}}, nil, "unknown kind"},
		{"negative timeout", []graph.Node{func() graph.Node { n := fetch("a"); n.Timeout = -time.Second; return n }()}, nil, "negative timeout"},
		{"input with deps", []graph.Node{fetch("a"), {Name: "i", Kind: graph.KindInput, Deps: []string{"a"}}}, nil, "has no dependencies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := graph.New(tt.nodes)
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
	_, err := graph.New([]graph.Node{fetch("a", "x"), fetch("a"), fetch("b", "y")})
	for _, want := range []string{`"a" is declared twice`, `unknown node "x"`, `unknown node "y"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not report %s", err, want)
		}
	}
}

func TestCycleErrorPath(t *testing.T) {
	_, err := graph.New([]graph.Node{fetch("a", "b"), fetch("b", "c"), fetch("c", "a")})
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
	g, err := graph.New([]graph.Node{
		fetch("a"), fetch("b", "a"), fetch("c"), fetch("unrelated", "c"),
		{Name: "or", Kind: graph.KindOr, Lazy: []string{"b", "c"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	or, _ := g.Lookup("or")
	got := names(g, g.Ancestors(or))
	slices.Sort(got)
	if want := []string{"a", "b", "c", "or"}; !slices.Equal(got, want) {
		t.Errorf("Ancestors(or) = %v, want %v", got, want)
	}
}

func TestCriticalPath(t *testing.T) {
	// a(10) -> b(5) -> d(1); a -> c(20) -> d: the path through c is longer.
	g, err := graph.New([]graph.Node{fetch("a"), fetch("b", "a"), fetch("c", "a"), fetch("d", "b", "c"), fetch("e")})
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
	g, err := graph.New([]graph.Node{n})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := graph.Lookup[int](g, "a"); err != nil {
		t.Errorf("Lookup[int]: %v", err)
	}
	if _, err := graph.Lookup[string](g, "a"); err == nil || !strings.Contains(err.Error(), "has type int, not string") {
		t.Errorf("Lookup[string] error = %v", err)
	}
	if _, err := graph.Lookup[int](g, "missing"); err == nil {
		t.Error("Lookup of a missing node succeeded")
	}
}

func TestCheckRejectsForeignRef(t *testing.T) {
	g, _ := graph.New([]graph.Node{fetch("a"), fetch("b")})
	if err := g.Check(graph.NewRef[int](1, "b")); err != nil {
		t.Errorf("Check(own ref) = %v", err)
	}
	for _, r := range []graph.Target{graph.NewRef[int](1, "other"), graph.NodeID(7), graph.NodeID(-1)} {
		if err := g.Check(r); err == nil {
			t.Errorf("Check(%v) succeeded", r)
		}
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
