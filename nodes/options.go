package nodes

import (
	"fmt"
	"reflect"
	"time"

	"github.com/featgraph/featgraph/graph"
	"github.com/featgraph/featgraph/internal/graphdef"
)

// Option configures a node. Options are checked when the node is declared
// and by Builder.Build: an option that has no meaning for the node (a
// timeout or a retry on a node that does not block (not a fetch or an Each), a
// Limit on a node that is not an Each, a fallback of the wrong type or on a
// constant, a Default on a node that is not a Switch) makes Build fail with
// an error naming the node and the option. The zero Option does nothing.
type Option struct {
	apply func(n *graphdef.Node) error
	// fallback and dflt are set by Default: the branch a Switch takes when
	// no case matches, and its type.
	dflt     graph.Target
	dfltType reflect.Type
}

func option(apply func(n *graphdef.Node) error) Option { return Option{apply: apply} }

// applyTo applies o to n. A Default reaching here is on a node that is not
// a Switch (Switch takes it out first).
func (o Option) applyTo(n *graphdef.Node) error {
	if o.dflt != nil {
		return &graph.InvalidNodeError{Node: n.Name, Reason: fmt.Sprintf("Default has no effect on %s node (only a switch has a default branch)", graphdef.Article(n.Kind))}
	}
	if o.apply == nil {
		return nil
	}
	return o.apply(n)
}

func init() {
	// Package cache declares options of its own: see graphdef.NewOption.
	graphdef.NewOption = func(apply func(n *graphdef.Node) error) any { return option(apply) }
	graphdef.ApplyOption = func(opt any, n *graphdef.Node) error { return opt.(Option).applyTo(n) }
}

// Timeout bounds each run of the node to d, and never more than the run has
// left. Only fetch and each nodes take a timeout.
func Timeout(d time.Duration) Option {
	return option(func(n *graphdef.Node) error {
		if d <= 0 {
			return &graph.InvalidNodeError{Node: n.Name, Reason: fmt.Sprintf("timeout %v is not positive", d)}
		}
		n.Timeout = d
		return nil
	})
}

// Fallback makes the node take value v when it fails, times out, panics or
// one of its dependencies fails. The run's result marks the node as fallen
// back, with the cause. On an input node, v is the value of an unbound
// input. A value node takes no fallback: it cannot fail.
func Fallback[T any](v T) Option {
	return option(func(n *graphdef.Node) error {
		if err := checkType[T](n, "fallback"); err != nil {
			return err
		}
		n.FallbackValue = v
		n.Fallback = func(error) (any, error) { return v, nil }
		return nil
	})
}

// FallbackFunc is like [Fallback] with a value computed from the cause; fn
// may return an error to refuse to fall back.
func FallbackFunc[T any](fn func(cause error) (T, error)) Option {
	return option(func(n *graphdef.Node) error {
		if err := checkType[T](n, "fallback function"); err != nil {
			return err
		}
		if fn == nil {
			return &graph.InvalidNodeError{Node: n.Name, Reason: "nil fallback function"}
		}
		n.Fallback = func(cause error) (any, error) { return fn(cause) }
		return nil
	})
}

// Retry makes a fetch or each node try up to attempts times in all, waiting
// backoff before the second try and twice as long before each next one. No
// try starts past the node's deadline. Context errors are never retried.
func Retry(attempts int, backoff time.Duration) Option {
	return option(func(n *graphdef.Node) error {
		if attempts < 1 || backoff < 0 {
			return &graph.InvalidNodeError{Node: n.Name, Reason: fmt.Sprintf("retry needs attempts >= 1 and backoff >= 0, got %d and %v", attempts, backoff)}
		}
		n.Retry.Attempts, n.Retry.Backoff = attempts, backoff
		return nil
	})
}

// RetryIf limits the retries of a fetch or each node to the errors for
// which retryable returns true.
func RetryIf(retryable func(error) bool) Option {
	return option(func(n *graphdef.Node) error {
		if retryable == nil {
			return &graph.InvalidNodeError{Node: n.Name, Reason: "nil RetryIf predicate"}
		}
		n.Retry.Retryable = retryable
		return nil
	})
}

// Limit bounds how many elements of an Each node are fetched at once.
func Limit(parallel int) Option {
	return option(func(n *graphdef.Node) error {
		if n.Each == nil {
			return &graph.InvalidNodeError{Node: n.Name, Reason: fmt.Sprintf("Limit has no effect on %s node (only an each node fetches in parallel)", graphdef.Article(n.Kind))}
		}
		if parallel < 1 {
			return &graph.InvalidNodeError{Node: n.Name, Reason: fmt.Sprintf("Limit(%d) is not positive", parallel)}
		}
		n.Each.Limit = parallel
		return nil
	})
}

// Default gives a [Switch] the branch it takes when no case matches the
// key. Without it, such a key is an error of the node. On any other node,
// Default makes Build fail.
func Default[T any](otherwise Ref[T]) Option {
	if otherwise.Name() == "" {
		return option(func(n *graphdef.Node) error {
			return &graph.InvalidNodeError{Node: n.Name, Reason: "Default of an unset (zero) Ref"}
		})
	}
	return Option{dflt: otherwise, dfltType: reflect.TypeFor[T]()}
}

// Describe attaches a description, shown in pictures.
func Describe(text string) Option {
	return option(func(n *graphdef.Node) error {
		n.Description = text
		return nil
	})
}

// Meta attaches an annotation for other packages (pictures, specs).
func Meta(key, value string) Option {
	return option(func(n *graphdef.Node) error {
		if n.Meta == nil {
			n.Meta = map[string]string{}
		}
		n.Meta[key] = value
		return nil
	})
}

func checkType[T any](n *graphdef.Node, what string) error {
	if got := reflect.TypeFor[T](); got != n.Type {
		return &graph.InvalidNodeError{Node: n.Name, Reason: fmt.Sprintf("%s has type %v, the node has type %v", what, got, n.Type)}
	}
	return nil
}
