package backfill

import (
	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphx"
	"github.com/featgraph/featgraph/spec"
)

// Column is a column of the output rows and its spec type, from which the
// Parquet sink derives its schema.
type Column struct {
	Name string
	Type spec.Type
}

// InputTypes returns the declared type of every input column, for sources
// that read text (CSV).
func (r *Runner) InputTypes() map[string]spec.Type {
	m := make(map[string]spec.Type, len(r.inputs))
	for _, in := range r.inputs {
		if in.typed {
			m[in.name] = in.typ
		}
	}
	return m
}

// Columns returns the columns of the output rows: the inputs with their
// declared types, then the extra input columns given (a source's other
// columns, as any) that are not inputs or targets, then the targets, then,
// with WithOutcomes, "outcome.NODE" for every node (a string).
func (r *Runner) Columns(extra ...string) []Column {
	seen := map[string]bool{}
	var cols []Column
	add := func(c Column) {
		if !seen[c.Name] {
			seen[c.Name] = true
			cols = append(cols, c)
		}
	}
	for _, n := range r.names {
		seen[n] = true // a target wins over an input column of its name
	}
	for _, in := range r.inputs {
		add(Column{Name: in.name, Type: in.typ})
	}
	for _, name := range extra {
		add(Column{Name: name, Type: spec.TypeAny})
	}
	g := r.ex.Graph()
	for i, name := range r.names {
		c := Column{Name: name, Type: spec.TypeAny}
		if t := graphx.Node(g, graphx.IDOf(r.targets[i])).Type; t != nil {
			if st, ok := spec.TypeOf(t); ok {
				c.Type = st
			}
		}
		cols = append(cols, c)
	}
	if r.outcomes {
		for id := range g.Len() {
			add(Column{Name: OutcomePrefix + g.Name(graph.NodeID(id)), Type: spec.TypeString})
		}
	}
	return cols
}
