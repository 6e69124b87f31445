package graph

import (
	"slices"
	"time"

	"github.com/featgraph/featgraph/internal/graphdef"
)

// Graph is a validated, immutable set of nodes. It is safe for concurrent use.
// Order and Ancestors return slices of the caller's own; the per-node
// adjacency slices (Deps, Lazy, Users, LazyUsers), read on the executor's
// hot path, are the graph's own, capped so that an append copies, and must
// not be modified.
type Graph struct {
	nodes     []graphdef.Node
	self      *identity // the owner of the Refs of this graph
	index     map[string]NodeID
	deps      csr // static dependencies, in Deps order
	lazy      csr // lazy dependencies, in Lazy order
	users     csr // reverse of deps
	lazyUsers csr // reverse of lazy
	order     []NodeID
}

// resolve turns the names chosen by pick into a csr, reporting unknown names.
func (g *Graph) resolve(pick func(*graphdef.Node) []string, errs *[]error) csr {
	c := csr{start: make([]int32, len(g.nodes)+1)}
	for i := range g.nodes {
		for _, name := range pick(&g.nodes[i]) {
			id, ok := g.index[name]
			if !ok {
				*errs = append(*errs, &UnknownDependencyError{Node: g.nodes[i].Name, Dependency: name})
				continue
			}
			c.ids = append(c.ids, id)
		}
		c.start[i+1] = int32(len(c.ids))
	}
	return c
}

// Len returns the number of nodes.
func (g *Graph) Len() int { return len(g.nodes) }

// Lookup returns the ID of the node called name. The error matches
// [ErrUnknownNode] when there is none.
func (g *Graph) Lookup(name string) (NodeID, error) {
	if id, ok := g.index[name]; ok {
		return id, nil
	}
	return 0, &UnknownNodeError{Name: name}
}

// Name returns the name of node id.
func (g *Graph) Name(id NodeID) string { return g.nodes[id].Name }

// Deps returns the static dependencies of id, in the order of Node.Deps.
func (g *Graph) Deps(id NodeID) []NodeID { return g.deps.of(id) }

// Lazy returns the lazy dependencies of id, in the order of Node.Lazy.
func (g *Graph) Lazy(id NodeID) []NodeID { return g.lazy.of(id) }

// Users returns the nodes that have id as a static dependency.
func (g *Graph) Users(id NodeID) []NodeID { return g.users.of(id) }

// LazyUsers returns the nodes that have id as a lazy dependency.
func (g *Graph) LazyUsers(id NodeID) []NodeID { return g.lazyUsers.of(id) }

// Order returns every node in a topological order: each node after all its
// dependencies, static and lazy. The slice is the caller's.
func (g *Graph) Order() []NodeID { return slices.Clone(g.order) }

// Resolve returns the ID of the node t names in g. A [Ref] must come from
// the builder g was built by: the zero Ref and a Ref of another graph are
// errors naming the Ref, never another node. Any other Target is looked up
// by name. Every error matches [ErrUnknownNode].
func (g *Graph) Resolve(t Target) (NodeID, error) {
	if t == nil {
		return 0, &UnknownNodeError{Reason: "nil target"}
	}
	r, ok := t.(refHandle)
	if !ok {
		return g.Lookup(t.Name())
	}
	id, name, owner := r.handle()
	switch {
	case owner == nil:
		return 0, &UnknownNodeError{Reason: "zero Ref (declare the node, or look it up with graph.Lookup)"}
	case owner != g.self || id < 0 || int(id) >= len(g.nodes) || g.nodes[id].Name != name:
		return 0, &UnknownNodeError{Name: name, Reason: "Ref of another graph"}
	}
	return id, nil
}

// Ancestors returns the targets and every node they may depend on, through
// static and lazy dependencies, in topological order. It fails as
// [Graph.Resolve] does for a target that is not a node of g.
func (g *Graph) Ancestors(targets ...Target) ([]NodeID, error) {
	seen := make([]bool, len(g.nodes))
	stack := make([]NodeID, 0, len(targets))
	for _, t := range targets {
		id, err := g.Resolve(t)
		if err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			stack = append(stack, id)
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range slices.Concat(g.deps.of(id), g.lazy.of(id)) {
			if !seen[d] {
				seen[d] = true
				stack = append(stack, d)
			}
		}
	}
	out := make([]NodeID, 0, len(g.nodes))
	for _, id := range g.order {
		if seen[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// CriticalPath returns the longest chain of nodes through static and lazy
// dependencies when node id takes duration(id), and that chain's total.
// The chain is ordered from its first node to its last.
func (g *Graph) CriticalPath(duration func(NodeID) time.Duration) ([]NodeID, time.Duration) {
	if len(g.nodes) == 0 {
		return nil, 0
	}
	finish := make([]time.Duration, len(g.nodes))
	prev := make([]NodeID, len(g.nodes))
	last := g.order[0]
	for _, id := range g.order {
		prev[id] = -1
		var start time.Duration
		for _, d := range slices.Concat(g.deps.of(id), g.lazy.of(id)) {
			if finish[d] > start || prev[id] < 0 {
				start, prev[id] = finish[d], d
			}
		}
		finish[id] = start + duration(id)
		if finish[id] > finish[last] {
			last = id
		}
	}
	var path []NodeID
	for id := last; id >= 0; id = prev[id] {
		path = append(path, id)
	}
	slices.Reverse(path)
	return path, finish[last]
}

// topoSort orders the nodes dependencies-first (Kahn's algorithm, stable in
// declaration order) or returns the first cycle found.
func (g *Graph) topoSort() ([]NodeID, *CycleError) {
	n := len(g.nodes)
	indeg := make([]int32, n)
	for i := 0; i < n; i++ {
		indeg[i] = int32(len(g.deps.of(NodeID(i))) + len(g.lazy.of(NodeID(i))))
	}
	order := make([]NodeID, 0, n)
	for i := 0; i < n; i++ {
		if indeg[i] == 0 {
			order = append(order, NodeID(i))
		}
	}
	for head := 0; head < len(order); head++ {
		id := order[head]
		for _, u := range slices.Concat(g.users.of(id), g.lazyUsers.of(id)) {
			if indeg[u]--; indeg[u] == 0 {
				order = append(order, u)
			}
		}
	}
	if len(order) == n {
		return order, nil
	}
	return nil, g.findCycle(indeg)
}

// findCycle walks dependencies from a node left in a cycle (indeg > 0) until a
// node repeats; every node left has a dependency left, so the walk must repeat.
func (g *Graph) findCycle(indeg []int32) *CycleError {
	start := NodeID(slices.IndexFunc(indeg, func(d int32) bool { return d > 0 }))
	pos := map[NodeID]int{}
	var walk []NodeID
	for id := start; ; {
		if at, seen := pos[id]; seen {
			cycle := walk[at:]
			names := make([]string, 0, len(cycle)+1)
			for _, c := range cycle {
				names = append(names, g.nodes[c].Name)
			}
			return &CycleError{Path: append(names, names[0])}
		}
		pos[id] = len(walk)
		walk = append(walk, id)
		for _, d := range slices.Concat(g.deps.of(id), g.lazy.of(id)) {
			if indeg[d] > 0 {
				id = d
				break
			}
		}
	}
}
