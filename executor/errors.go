package executor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/featgraph/featgraph/graph"
)

// ErrInvalidRun is matched (errors.Is) by every error that is the caller's
// mistake rather than a failure of the graph's code: a nil graph or a bad
// option given to [New]; no target, a nil target or one from another graph;
// a binding to an unknown name, to a node that is not an input, of the wrong
// type, from another graph or bound twice. [Executor.Run] returns such an
// error with a nil Result: the run did not start. An input the run needs but
// that is not bound is a caller's mistake too: its [*UnboundInputError] also
// matches ErrInvalidRun, and comes with a Result (see Run).
var ErrInvalidRun = errors.New("invalid run")

// invalidRun is an error of the caller's: "executor: invalid run: " and the
// reason, matching ErrInvalidRun.
func invalidRun(format string, args ...any) error {
	return fmt.Errorf("executor: %w: "+format, append([]any{ErrInvalidRun}, args...)...)
}

// invalidRunError is a caller's mistake that package graph found: a target
// or binding that names no node of the graph. It matches ErrInvalidRun and
// graph's own error (graph.ErrUnknownNode, *graph.UnknownNodeError).
type invalidRunError struct {
	msg string
	err error
}

func (e *invalidRunError) Error() string { return "executor: invalid run: " + e.msg }

func (e *invalidRunError) Unwrap() []error { return []error{ErrInvalidRun, e.err} }

// unresolved is the error of what (a target, a binding) that graph could not
// resolve to a node, err saying why, naming it once.
func unresolved(what string, err error) error {
	reason := strings.TrimPrefix(err.Error(), "graph: ")
	var un *graph.UnknownNodeError
	if errors.As(err, &un) {
		if reason = un.Reason; reason == "" {
			reason = "no such node"
		}
	}
	return &invalidRunError{msg: what + ": " + reason, err: err}
}

// ErrNotNeeded is the cause of a node canceled because the run no longer
// needed it: its targets were all done, or an And/Or decided without it.
var ErrNotNeeded = errors.New("no longer needed")

// NodeError is the cause of a node whose body returned an error.
type NodeError struct {
	Node string
	Err  error
}

// Error names the node once, then the body's error.
func (e *NodeError) Error() string { return fmt.Sprintf("node %q: %v", e.Node, e.Err) }

// Unwrap returns the body's error.
func (e *NodeError) Unwrap() error { return e.Err }

// PanicError is the cause of a node whose body (or fallback, retry
// predicate, chooser, Each element function) panicked. The process survives.
type PanicError struct {
	// Node names the node; "name (fallback)", "name (retry predicate)" or
	// "name[i]" (an Each element) say which of its functions panicked.
	Node string
	// Value is what the function panicked with.
	Value any
	// Stack is the panicking goroutine's stack, for logs; Error leaves it out.
	Stack []byte
}

// Error names the node and the panic value, without the stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("node %q panicked: %v", e.Node, e.Value)
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// TimeoutError is the cause of a node that ran out of time.
type TimeoutError struct {
	Node string
	// After is how long the node had run when it was stopped.
	After time.Duration
	// RunDeadline is true when the run's deadline, not the node's own
	// timeout, ran out.
	RunDeadline bool
}

// Error names the node, how long it ran and whose deadline it was.
func (e *TimeoutError) Error() string {
	which := "its timeout"
	if e.RunDeadline {
		which = "the run's deadline"
	}
	return fmt.Sprintf("node %q timed out after %v (%s)", e.Node, e.After.Round(time.Microsecond), which)
}

// Is makes errors.Is(err, context.DeadlineExceeded) true.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// DependencyError is the cause of a node that did not run because a
// dependency had no value. Root names the node that failed first.
type DependencyError struct {
	Node       string
	Dependency string
	Root       string
	Err        error // the root node's cause
}

// Error names the node, the dependency that failed and, when another node
// failed first, that root node, each once: `node "c" not run: dependency
// "b" failed: boom`, or `node "c" not run: dependency "b" failed: node "a":
// boom`.
func (e *DependencyError) Error() string {
	cause := "<nil>"
	if e.Err != nil {
		cause = e.Err.Error()
	}
	root := strconv.Quote(e.Root)
	if e.Root == e.Dependency {
		// The cause names the dependency, named already.
		cause = strings.TrimPrefix(strings.TrimPrefix(cause, "node "+root+": "), "node "+root+" ")
	} else if !strings.HasPrefix(cause, "node "+root) {
		cause = "node " + root + ": " + cause // a root cause that does not name its node
	}
	return fmt.Sprintf("node %q not run: dependency %q failed: %s", e.Node, e.Dependency, cause)
}

// Unwrap returns the root cause.
func (e *DependencyError) Unwrap() error { return e.Err }

// UnboundInputError is the cause of an input node that the run needed but
// the caller did not bind. It matches [ErrInvalidRun].
type UnboundInputError struct {
	Input string
}

// Error names the input.
func (e *UnboundInputError) Error() string {
	return fmt.Sprintf("node %q: input needed but not bound", e.Input)
}

// Is makes errors.Is(err, ErrInvalidRun) true.
func (e *UnboundInputError) Is(target error) bool { return target == ErrInvalidRun }

// BranchError is the cause of an If or Switch that could not choose a branch.
type BranchError struct {
	Node string
	Err  error
}

// Error names the node, then why it could not choose.
func (e *BranchError) Error() string { return fmt.Sprintf("node %q: %v", e.Node, e.Err) }

// Unwrap returns the underlying error.
func (e *BranchError) Unwrap() error { return e.Err }
