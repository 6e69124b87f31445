package executor

import (
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphx"
)

// Targets returns the targets the run was asked for, in graph order, as
// Targets that [Result.Node] and [Result.Value] accept.
func (r *Result) Targets() []graph.Target {
	var out []graph.Target
	for i := range r.run.ns {
		if r.run.ns[i].isTarget {
			out = append(out, graphx.At(r.run.g, graph.NodeID(i)))
		}
	}
	return out
}

// Bound returns the value bound to input node t for the run, whether the
// run needed it or not (an input nothing needed ends skipped, with no
// value from [Result.Value]). ok is false when t is not a bound input.
func (r *Result) Bound(t graph.Target) (v any, ok bool) {
	id, err := r.run.g.Resolve(t)
	if err != nil {
		return nil, false
	}
	ns := &r.run.ns[id]
	if !ns.bound {
		return nil, false
	}
	return ns.val, true
}
