package executor

import "github.com/featgraph/featgraph/graph"

// Targets returns the targets the run was asked for, in graph order.
func (r *Result) Targets() []graph.NodeID {
	var out []graph.NodeID
	for i := range r.run.ns {
		if r.run.ns[i].isTarget {
			out = append(out, graph.NodeID(i))
		}
	}
	return out
}
