package executor

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotNeeded is the cause of a node canceled because the run no longer
// needed it: its targets were all done, or an And/Or decided without it.
var ErrNotNeeded = errors.New("no longer needed")

// NodeError is the cause of a node whose body returned an error.
type NodeError struct {
	Node string
	Err  error
}

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

func (e *DependencyError) Error() string {
	if e.Root == e.Dependency {
		return fmt.Sprintf("node %q not run: dependency %q failed: %v", e.Node, e.Dependency, e.Err)
	}
	return fmt.Sprintf("node %q not run: dependency %q failed because %q failed: %v", e.Node, e.Dependency, e.Root, e.Err)
}

// Unwrap returns the root cause.
func (e *DependencyError) Unwrap() error { return e.Err }

// UnboundInputError is the cause of an input node that the run needed but
// the caller did not bind.
type UnboundInputError struct {
	Input string
}

func (e *UnboundInputError) Error() string {
	return fmt.Sprintf("input %q is needed but not bound", e.Input)
}

// BranchError is the cause of an If or Switch that could not choose a branch.
type BranchError struct {
	Node string
	Err  error
}

func (e *BranchError) Error() string { return fmt.Sprintf("node %q: %v", e.Node, e.Err) }

// Unwrap returns the underlying error.
func (e *BranchError) Unwrap() error { return e.Err }
