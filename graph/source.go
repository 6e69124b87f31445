package graph

// Sourced is a node body's value together with where it came from. A fetch
// body (or an Each element) that returns a Sourced gives the executor
// Value as its value and Source as the node's source, which the run's result,
// record, pictures and span report: package cache says "fresh", "stale" or
// "fetched". Bodies that return plain values have no source.
type Sourced struct {
	Value  any
	Source string
}

// WithSource wraps v, the value of a fetch body, with its source.
func WithSource(v any, source string) Sourced { return Sourced{Value: v, Source: source} }
