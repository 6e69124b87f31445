package nodes

import (
	"fmt"
	"reflect"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphdef"
	"github.com/featgraph/featgraph/internal/graphx"
	"github.com/featgraph/featgraph/internal/nodeargs"
)

// Ref is a typed handle on a node; see [graph.Ref].
type Ref[T any] = graph.Ref[T]

// Dep is any Ref, whatever its type: the dependencies of FetchN and
// ComputeN. It is [graph.Target]; a Dep must be a Ref declared on the same
// Builder, which Build checks.
type Dep = graph.Target

// declare adds n to b after applying opts and checking that deps were
// declared on b, and returns the typed Ref of the new node.
func declare[T any](b *graph.Builder, n graphdef.Node, deps []Dep, opts []Option) Ref[T] {
	n.Type = reflect.TypeFor[T]()
	for _, d := range deps {
		if d == nil {
			graphx.Fail(b, &graph.InvalidNodeError{Node: n.Name, Reason: "depends on a nil Dep"})
			continue
		}
		n.Deps = append(n.Deps, d.Name())
		graphx.Fail(b, checkDep(b, n.Name, d))
	}
	for _, opt := range opts {
		graphx.Fail(b, opt.applyTo(&n))
	}
	return graphx.Add[T](b, n)
}

func checkDep(b *graph.Builder, node string, d Dep) error {
	if d == nil || d.Name() == "" {
		return &graph.InvalidNodeError{Node: node, Reason: "depends on an unset (zero) Ref"}
	}
	if _, ok := graphx.Declared(b, d); !ok {
		return &graph.InvalidNodeError{Node: node, Reason: fmt.Sprintf("depends on %q, which is not a Ref declared on this builder", d.Name())}
	}
	return nil
}

// idOf returns the NodeID of a Ref; -1 for another Dep (which Build rejects).
func idOf(d Dep) graph.NodeID {
	if r, ok := d.(interface{ ID() graph.NodeID }); ok {
		return r.ID()
	}
	return -1
}

// as converts a dependency's value to its declared type. The executor only
// stores values of the declared type, so the assertion fails only for a nil
// interface value, which becomes T's zero value.
func as[T any](v any) T {
	t, _ := v.(T)
	return t
}

// Args gives the body of a FetchN or ComputeN node the values of its
// dependencies; read them with [Arg] (by Ref) or [ArgAt] (by position).
//
// Args is only valid during the call: the executor reuses the memory behind
// it for later runs, so a body must not keep it (nor hand it to a goroutine
// that outlives the call). The values Arg and ArgAt return are the body's to
// keep.
type Args struct {
	deps *depIndex
	vals []any
}

// depIndex finds a dependency's position in O(1): by a scan of a few, or a
// map of many, built once when the node is declared.
type depIndex struct {
	ids   []graph.NodeID
	names []string
	pos   map[graph.NodeID]int // nil for short lists
}

// scanLimit is the number of dependencies up to which a scan beats a map.
const scanLimit = 8

func newDepIndex(deps []Dep) *depIndex {
	ids, names := make([]graph.NodeID, len(deps)), make([]string, len(deps))
	for i, d := range deps {
		if d != nil {
			ids[i], names[i] = idOf(d), d.Name()
		}
	}
	return indexOf(ids, names)
}

// indexOf indexes dependencies known by ID and name (graphtest's StubFunc
// builds its Args this way, through internal/nodeargs).
func indexOf(ids []graph.NodeID, names []string) *depIndex {
	ix := &depIndex{ids: ids, names: names}
	if len(ids) > scanLimit {
		ix.pos = make(map[graph.NodeID]int, len(ids))
		for i := len(ids) - 1; i >= 0; i-- { // the first of repeats wins, as in a scan
			ix.pos[ids[i]] = i
		}
	}
	return ix
}

func (ix *depIndex) find(id graph.NodeID) (int, bool) {
	if ix.pos != nil {
		i, ok := ix.pos[id]
		return i, ok
	}
	for i, d := range ix.ids {
		if d == id {
			return i, true
		}
	}
	return 0, false
}

// Len returns the number of dependencies.
func (a Args) Len() int { return len(a.vals) }

// Arg returns the value of dependency r, in constant time. r must be one of
// the dependencies the node was declared with; otherwise Arg panics, which
// the executor turns into an error outcome naming the node.
func Arg[T any](a Args, r Ref[T]) T {
	if i, ok := a.deps.find(r.ID()); ok && a.deps.names[i] == r.Name() {
		return as[T](a.vals[i])
	}
	panic(fmt.Sprintf("nodes.Arg: %q is not a declared dependency of this node", r.Name()))
}

// ArgAt returns the value of the i-th dependency (in the order the node was
// declared with) as a T; the zero T when it holds another type. It panics
// when i is out of range, which the executor turns into an error outcome.
func ArgAt[T any](a Args, i int) T {
	if i < 0 || i >= len(a.vals) {
		panic(fmt.Sprintf("nodes.ArgAt: index %d out of range [0, %d)", i, len(a.vals)))
	}
	return as[T](a.vals[i])
}

func init() {
	nodeargs.New = func(ids []graph.NodeID, names []string) func(vals []any) any {
		ix := indexOf(ids, names)
		return func(vals []any) any { return Args{deps: ix, vals: vals} }
	}
}
