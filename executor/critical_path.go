package executor

import (
	"slices"
	"time"

	"github.com/featgraph/featgraph/graph"
)

// PathStep is one node of a run's critical path.
type PathStep struct {
	// Node is the node's name and ID its index in the graph (or record).
	Node string
	ID   graph.NodeID
	// Start and End are offsets from the run's start.
	Start, End time.Duration
	// Wait is the time between the end of the previous step (the run's start
	// for the first step) and this node's start: scheduling overhead, or the
	// time before a lazy branch was chosen.
	Wait time.Duration
	// Work is the node's time on the path: from its start, or from the end of
	// the previous step if that came later, to its end. A conditional that
	// waited for its branch adds only what came after the branch ended, so
	// the Wait and Work of all steps add up to the last step's End.
	Work time.Duration
}

// CriticalPath returns the chain of nodes that determined the run's wall
// time, first node first: it walks back from the node that finished last,
// each time to the dependency (static, or lazy when it ran) that finished
// last. Ties go to a node that was not canceled, then to the first declared.
// Skipped nodes are never on the path; a run where nothing ran has none.
func (r *Result) CriticalPath() []PathStep {
	s := r.state()
	return criticalPath(s.g.Len(), func(i int) (string, bool, time.Duration, time.Duration, Outcome) {
		ns := &s.ns[i]
		return s.g.Name(graph.NodeID(i)), ns.isTarget, ns.startAt, ns.endAt, ns.outcome
	}, func(i int, visit func(int)) {
		for _, d := range s.g.Deps(graph.NodeID(i)) {
			visit(int(d))
		}
		for _, d := range s.g.Lazy(graph.NodeID(i)) {
			visit(int(d))
		}
	})
}

// CriticalPath is [Result.CriticalPath] for a recorded run.
func (rec *Record) CriticalPath() []PathStep {
	index := make(map[string]int, len(rec.Nodes))
	for i, n := range rec.Nodes {
		index[n.Name] = i
	}
	return criticalPath(len(rec.Nodes), func(i int) (string, bool, time.Duration, time.Duration, Outcome) {
		n := &rec.Nodes[i]
		return n.Name, n.Target, n.Start, n.End, n.Outcome
	}, func(i int, visit func(int)) {
		for _, name := range slices.Concat(rec.Nodes[i].Deps, rec.Nodes[i].Lazy) {
			if d, ok := index[name]; ok {
				visit(d)
			}
		}
	})
}

// criticalPath walks back through n nodes described by node, whose
// dependencies deps visits.
func criticalPath(n int,
	node func(i int) (name string, target bool, start, end time.Duration, oc Outcome),
	deps func(i int, visit func(int)),
) []PathStep {
	// later reports whether a should be preferred to b as the one that
	// finished last.
	later := func(a, b int) bool {
		_, at, _, aEnd, aOc := node(a)
		_, bt, _, bEnd, bOc := node(b)
		if aEnd != bEnd {
			return aEnd > bEnd
		}
		if (aOc == OutcomeCanceled) != (bOc == OutcomeCanceled) {
			return bOc == OutcomeCanceled
		}
		return at && !bt
	}
	last := -1
	for i := 0; i < n; i++ {
		if _, _, _, _, oc := node(i); oc != OutcomeSkipped && (last < 0 || later(i, last)) {
			last = i
		}
	}
	var path []PathStep
	seen := make(map[int]bool)
	for cur := last; cur >= 0 && !seen[cur]; {
		seen[cur] = true
		name, _, start, end, _ := node(cur)
		path = append(path, PathStep{Node: name, ID: graph.NodeID(cur), Start: start, End: end})
		next := -1
		deps(cur, func(d int) {
			if _, _, _, _, oc := node(d); oc != OutcomeSkipped && (next < 0 || later(d, next)) {
				next = d
			}
		})
		cur = next
	}
	slices.Reverse(path)
	var prevEnd time.Duration
	for i := range path {
		path[i].Wait = max(path[i].Start-prevEnd, 0)
		path[i].Work = max(path[i].End-max(path[i].Start, prevEnd), 0)
		prevEnd = max(prevEnd, path[i].End)
	}
	return path
}
