package nodes

import (
	"fmt"
	"reflect"
	"time"

	"github.com/featgraph/featgraph/graph"
)

// Option configures a node. An Option that does not fit the node (a fallback
// of the wrong type, say) makes Builder.Build fail with an error naming it.
type Option func(n *graph.Node) error

// Timeout bounds each run of the node to d, and never more than the run has
// left.
func Timeout(d time.Duration) Option {
	return func(n *graph.Node) error {
		if d <= 0 {
			return &graph.InvalidNodeError{Node: n.Name, Reason: fmt.Sprintf("timeout %v is not positive", d)}
		}
		n.Timeout = d
		return nil
	}
}

// Fallback makes the node take value v when it fails, times out, panics or
// one of its dependencies fails. The run's result marks the node as fallen
// back, with the cause.
func Fallback[T any](v T) Option {
	return func(n *graph.Node) error {
		if err := checkType[T](n, "fallback"); err != nil {
			return err
		}
		n.FallbackValue = v
		n.Fallback = func(error) (any, error) { return v, nil }
		return nil
	}
}

// FallbackFunc is like [Fallback] with a value computed from the cause; fn
// may return an error to refuse to fall back.
func FallbackFunc[T any](fn func(cause error) (T, error)) Option {
	return func(n *graph.Node) error {
		if err := checkType[T](n, "fallback function"); err != nil {
			return err
		}
		n.Fallback = func(cause error) (any, error) { return fn(cause) }
		return nil
	}
}

// Retry makes a fetch node try up to attempts times in all, waiting backoff
// before the second try and twice as long before each next one. No try
// starts past the node's deadline. Context errors are never retried.
func Retry(attempts int, backoff time.Duration) Option {
	return func(n *graph.Node) error {
		if attempts < 1 || backoff < 0 {
			return &graph.InvalidNodeError{Node: n.Name, Reason: fmt.Sprintf("retry needs attempts >= 1 and backoff >= 0, got %d and %v", attempts, backoff)}
		}
		n.Retry.Attempts, n.Retry.Backoff = attempts, backoff
		return nil
	}
}

// RetryIf limits retries to the errors for which retryable returns true.
func RetryIf(retryable func(error) bool) Option {
	return func(n *graph.Node) error {
		n.Retry.Retryable = retryable
		return nil
	}
}

// Limit bounds how many elements of an Each node are fetched at once.
func Limit(parallel int) Option {
	return func(n *graph.Node) error {
		if n.Each == nil || parallel < 1 {
			return &graph.InvalidNodeError{Node: n.Name, Reason: fmt.Sprintf("Limit(%d) needs an Each node and a positive limit", parallel)}
		}
		n.Each.Limit = parallel
		return nil
	}
}

// Describe attaches a description, shown in pictures.
func Describe(text string) Option {
	return func(n *graph.Node) error {
		n.Description = text
		return nil
	}
}

// Meta attaches an annotation for other packages (pictures, specs).
func Meta(key, value string) Option {
	return func(n *graph.Node) error {
		if n.Meta == nil {
			n.Meta = map[string]string{}
		}
		n.Meta[key] = value
		return nil
	}
}

func checkType[T any](n *graph.Node, what string) error {
	if got := reflect.TypeFor[T](); got != n.Type {
		return &graph.InvalidNodeError{Node: n.Name, Reason: fmt.Sprintf("%s has type %v, the node has type %v", what, got, n.Type)}
	}
	return nil
}
