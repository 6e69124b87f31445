package serve

import (
	"context"

	"github.com/featgraph/featgraph/executor"
)

// RunInfo describes one decide run, for a RunObserver.
type RunInfo struct {
	// Graph is the name the graph is served under, Version its content hash
	// (the version in the decide answer).
	Graph   string
	Version string
	// RunID is the run's id, as in the decide answer.
	RunID string
	// Row is the row's index in a decide-batch request, -1 for a decide.
	Row int
	// Inputs are the run's inputs by name, converted to their declared
	// types (what was bound to the graph's input nodes).
	Inputs map[string]any
	// Result is the finished run. It is released after the observers
	// return: an observer must not keep it, nor anything read from it that
	// aliases its memory, past its return. Result.Record gives a copy that
	// may be kept.
	Result *executor.Result
}

// RunObserver is called for every decide run (every row of a batch), after
// the run ends and before its answer is written and its Result released,
// on the request's goroutine. ctx is the request's context: it carries the
// run's request-scoped fetch cache (fetchers.WithRequestCache), so that a
// shadow graph run with it reuses the values the live run fetched, and the
// request's trace span. ctx is canceled when the request ends: work that
// outlives the observer takes context.WithoutCancel(ctx), which keeps the
// cache and the span.
//
// An observer must not block: it delays the answer by the time it takes.
// Hand slow work (a write to Kafka, a shadow run) to a goroutine or queue
// of its own, with what it needs copied out of the Result (Record, values).
// A panic in an observer is recovered and logged; the answer is unchanged.
type RunObserver func(ctx context.Context, run RunInfo)

// WithRunObserver adds an observer of every decide run; observers are
// called in the order given.
func WithRunObserver(fn RunObserver) Option {
	return func(c *config) error {
		if fn != nil {
			c.observers = append(c.observers, fn)
		}
		return nil
	}
}
