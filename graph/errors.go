package graph

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is matched (with errors.Is) by every validation error of Build.
var ErrInvalid = errors.New("invalid graph")

// DuplicateNodeError reports two nodes declared with the same name.
type DuplicateNodeError struct {
	Name string
}

func (e *DuplicateNodeError) Error() string {
	return fmt.Sprintf("graph: node %q is declared twice", e.Name)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *DuplicateNodeError) Is(target error) bool { return target == ErrInvalid }

// UnknownDependencyError reports a dependency that names no node.
type UnknownDependencyError struct {
	Node       string
	Dependency string
}

func (e *UnknownDependencyError) Error() string {
	return fmt.Sprintf("graph: node %q depends on unknown node %q", e.Node, e.Dependency)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *UnknownDependencyError) Is(target error) bool { return target == ErrInvalid }

// CycleError reports a dependency cycle. Path starts and ends with the same
// node, each node depending on the next: a -> b -> c -> a.
type CycleError struct {
	Path []string
}

func (e *CycleError) Error() string {
	return "graph: dependency cycle: " + strings.Join(e.Path, " -> ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *CycleError) Is(target error) bool { return target == ErrInvalid }

// InvalidNodeError reports a node whose descriptor is malformed: an empty
// name, a missing body, the wrong number of dependencies for its kind.
type InvalidNodeError struct {
	Node   string
	Reason string
}

func (e *InvalidNodeError) Error() string {
	return fmt.Sprintf("graph: node %q: %s", e.Node, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidNodeError) Is(target error) bool { return target == ErrInvalid }

// IsCycle reports whether err is or wraps a *CycleError.
func IsCycle(err error) bool {
	var c *CycleError
	return errors.As(err, &c)
}

// IsUnknownDependency reports whether err is or wraps an *UnknownDependencyError.
func IsUnknownDependency(err error) bool {
	var u *UnknownDependencyError
	return errors.As(err, &u)
}

// IsDuplicateNode reports whether err is or wraps a *DuplicateNodeError.
func IsDuplicateNode(err error) bool {
	var d *DuplicateNodeError
	return errors.As(err, &d)
}
