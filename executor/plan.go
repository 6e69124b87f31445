package executor

import (
	"slices"

	"github.com/featgraph/featgraph/graph"
)

// maxPlans bounds the plans an Executor caches: a service runs a few target
// sets over and over; a caller passing ever new ones gets plans made per run.
const maxPlans = 64

// plan is what a run of one target set needs before anything starts,
// computed once per target set and shared, read-only, by every run of it:
// the nodes the targets statically need (through static dependencies; lazy
// ones are demanded while the run goes) and how each is started.
type plan struct {
	targets []graph.NodeID // as passed to Run, to tell hash collisions apart
	unique  []graph.NodeID // the targets without repeats
	needed  []graph.NodeID // the static closure of the targets
	// pending[i] is the number of static dependencies of needed[i]: a node
	// starts when its last one has ended with a value.
	pending []int32
	inputs  []graph.NodeID // needed input nodes: checked before anything starts
	// The roots (needed nodes with no static dependency), by how they start:
	// inputs and values settle on the caller's goroutine; fetches, then the
	// rest, are queued for the run's goroutines (see run_queue.go).
	valueRoots, blockingRoots, inlineRoots []graph.NodeID
	conds                                  int32 // conditionals among needed
	// order is needed in topological order when every needed node is an
	// input, a value or a compute node (nil otherwise): such a run is one
	// pass over order on one goroutine, with no pending counts.
	order []graph.NodeID
}

// planFor returns the plan of targets, from the cache when it has it.
func (e *Executor) planFor(targets []graph.NodeID) *plan {
	h := uint64(14695981039346656037)
	for _, t := range targets {
		h = (h ^ uint64(uint32(t))) * 1099511628211
	}
	if p, ok := e.plans.Load(h); ok {
		if p := p.(*plan); p.matches(targets) {
			return p
		}
	}
	p := e.makePlan(targets)
	if e.nplans.Add(1) <= maxPlans {
		if _, loaded := e.plans.LoadOrStore(h, p); loaded {
			e.nplans.Add(-1)
		}
	}
	return p
}

func (p *plan) matches(targets []graph.NodeID) bool {
	if len(p.targets) != len(targets) {
		return false
	}
	for i, t := range targets {
		if p.targets[i] != t {
			return false
		}
	}
	return true
}

func (e *Executor) makePlan(targets []graph.NodeID) *plan {
	p := &plan{targets: make([]graph.NodeID, len(targets))}
	seen := make([]bool, e.g.Len())
	var stack []graph.NodeID
	for i, id := range targets {
		p.targets[i] = id
		if !seen[id] {
			seen[id] = true
			p.unique = append(p.unique, id)
			stack = append(stack, id)
		}
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		p.needed = append(p.needed, id)
		for _, d := range e.depsOf(id) {
			if !seen[d] {
				seen[d] = true
				stack = append(stack, d)
			}
		}
	}
	slices.Sort(p.needed) // memory order: a run touches its state front to back
	p.pending = make([]int32, len(p.needed))
	pure := true
	for i, id := range p.needed {
		info := &e.info[id]
		if k := info.kind; k != graph.KindInput && k != graph.KindValue && k != graph.KindCompute {
			pure = false
		}
		p.pending[i] = info.depEnd - info.depStart
		switch {
		case info.kind == graph.KindInput:
			p.inputs = append(p.inputs, id)
		case info.kind.Conditional():
			p.conds++
		}
		if p.pending[i] > 0 {
			continue
		}
		switch {
		case info.kind == graph.KindInput || info.kind == graph.KindValue:
			p.valueRoots = append(p.valueRoots, id)
		case info.kind.Blocking():
			p.blockingRoots = append(p.blockingRoots, id)
		default:
			p.inlineRoots = append(p.inlineRoots, id)
		}
	}
	if pure {
		p.order = p.needed // memory order, when it is a topological order
		for _, id := range p.needed {
			for _, d := range e.depsOf(id) {
				if d >= id {
					p.order = nil
				}
			}
		}
		if p.order == nil {
			p.order = make([]graph.NodeID, 0, len(p.needed))
			for _, id := range e.g.Order() {
				if seen[id] {
					p.order = append(p.order, id)
				}
			}
		}
	}
	return p
}
