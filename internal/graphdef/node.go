// Package graphdef holds the node descriptors that featgraph's front ends
// (package nodes, the YAML spec, the test harness, the pictures, the
// executor) share. It is internal so that a user can neither build a
// descriptor by hand nor change one inside a built graph: see the comment
// in graph/doc.go for how the packages reach the descriptors of a public
// *graph.Builder or *graph.Graph.
package graphdef

import (
	"context"
	"reflect"
	"time"
)

// FetchFunc is the body of a fetch node. args holds the values of the node's
// Deps, in order; the slice is only valid during the call.
type FetchFunc func(ctx context.Context, args []any) (any, error)

// ComputeFunc is the body of a compute node: pure, no context, fast.
type ComputeFunc func(args []any) (any, error)

// ChooseFunc picks the lazy dependency of an If or Switch node from the values
// of its Deps: an index into Lazy. A negative index means that no branch
// applies, which is an error.
type ChooseFunc func(args []any) (int, error)

// ElemFunc fetches one element of an Each node. extra holds the values of
// the node's Deps after the first (the list), in order; the slice is only
// valid during the call.
type ElemFunc func(ctx context.Context, elem any, extra []any) (any, error)

// FallbackFunc gives the value a node takes when it fails: it receives the
// cause (an error, a timeout, a panic, a failed dependency). Returning an
// error means that no fallback applies after all.
type FallbackFunc func(cause error) (any, error)

// EachSpec is what an Each node needs besides its element fetch: how to take
// its list apart and put the results back together with their Go types.
type EachSpec struct {
	// Elem fetches one element; it is replaceable (the test harness stubs it).
	Elem ElemFunc
	// Limit bounds how many elements are fetched at once; 0 means no bound.
	Limit int
	// Split returns the elements of the list dependency.
	Split func(list any) []any
	// Join builds the node's value from the element results, in order.
	Join func(results []any) any
}

// RetryPolicy says how often a fetch node is tried again after an error.
// Retries never start past the node's deadline.
type RetryPolicy struct {
	// Attempts is the total number of tries; 0 or 1 means no retry.
	Attempts int
	// Backoff is the wait before the second try; it doubles on each retry.
	Backoff time.Duration
	// Retryable reports whether an error is worth another try; nil means every
	// error except a context error is.
	Retryable func(error) bool
}

// Node is the descriptor of one node. Exactly the body fields its Kind
// uses are set: Value for KindValue, Fetch for KindFetch, Compute for
// KindCompute, Choose for KindIf and KindSwitch, Each for KindEach.
type Node struct {
	// Name is unique in the graph.
	Name string
	// Kind says how the node runs.
	Kind Kind
	// Deps names the dependencies whose values the body receives, in order.
	// They all run before the node.
	Deps []string
	// Lazy names the branches of an If or Switch (then, else; or the cases
	// then the default) and the operands of an And or Or. They run only when
	// the node asks for them.
	Lazy []string
	// Cases holds the key of each Switch branch, parallel to Lazy (the
	// default branch, last, has no case). It is informational: Choose decides.
	Cases []any
	// Type is the Go type of the node's value; nil when unknown.
	Type reflect.Type
	// Timeout bounds one run of the node; 0 means only the run's deadline applies.
	Timeout time.Duration
	// Fallback, when set, turns a failure into a value.
	Fallback FallbackFunc
	// FallbackValue is the constant that Fallback returns, when it is one
	// (for pictures and specs); nil otherwise.
	FallbackValue any
	// Retry applies to fetch nodes.
	Retry RetryPolicy
	// Description is free text shown in pictures.
	Description string
	// Meta holds annotations of other packages (the upstream of an HTTP
	// fetch, the source line of a spec node). The executor ignores it.
	Meta map[string]string

	Value   any
	Fetch   FetchFunc
	Compute ComputeFunc
	Choose  ChooseFunc
	Each    *EachSpec
}
